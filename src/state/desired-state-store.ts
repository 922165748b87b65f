/**
 * The desired apps of this host, on disk at
 * `<state_dir>/<host_id>/desired_apps.json` (the historical agent's path),
 * so a host converges after a reboot with no master, and a set_config is
 * acknowledged only once it is durable. A file that does not parse is kept
 * aside and reported in `lastLoadError`, never silently dropped
 * (JsonStateFile).
 */
import { join } from 'node:path';
import type { StateError } from '../errors.js';
import { parseDesiredApps } from '../protocol/bbone/parse-inbound.js';
import type { DesiredApps } from '../protocol/bbone/types.js';
import { JsonStateFile } from './json-state-file.js';

export const DESIRED_FILE = 'desired_apps.json';

export class DesiredStateStore {
  private readonly file: JsonStateFile<DesiredApps>;

  constructor(stateDir: string, hostId: string) {
    this.file = new JsonStateFile(join(stateDir, hostId, DESIRED_FILE), parseDesiredApps, 'desired state');
  }

  get path(): string {
    return this.file.path;
  }

  get lastLoadError(): StateError | undefined {
    return this.file.lastLoadError;
  }

  /** The saved desired apps, or undefined when none were ever saved (or the file was corrupt). */
  load(now?: Date): Promise<DesiredApps | undefined> {
    return this.file.load(now);
  }

  save(apps: DesiredApps): Promise<void> {
    return this.file.save(`${JSON.stringify(apps, null, 2)}\n`);
  }
}
