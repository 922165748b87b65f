/**
 * The desired apps of this host, on disk at
 * `<state_dir>/<host_id>/desired_apps.json` (the historical agent's path),
 * so a host converges after a reboot with no master, and a set_config is
 * acknowledged only once it is durable.
 *
 * A file that does not parse is never silently dropped: it is renamed aside
 * (`desired_apps.json.corrupt-<time>`) for a person to look at, and the
 * problem is kept in `lastLoadError` for status messages.
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../errors.js';
import { parseDesiredApps } from '../protocol/bbone/parse-inbound.js';
import type { DesiredApps } from '../protocol/bbone/types.js';
import { writeFileAtomic } from './atomic-write.js';

export const DESIRED_FILE = 'desired_apps.json';

export class DesiredStateStore {
  readonly path: string;
  lastLoadError: StateError | undefined;

  constructor(stateDir: string, hostId: string) {
    this.path = join(stateDir, hostId, DESIRED_FILE);
  }

  /** The saved desired apps, or undefined when none were ever saved (or the file was corrupt). */
  async load(now: Date = new Date()): Promise<DesiredApps | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateError('STATE_CORRUPT', `cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const apps = parseDesiredApps(JSON.parse(text));
      this.lastLoadError = undefined;
      return apps;
    } catch (err) {
      const aside = `${this.path}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
      await rename(this.path, aside);
      this.lastLoadError = new StateError(
        'STATE_CORRUPT',
        `${this.path} was unreadable (${(err as Error).message}); kept as ${aside}`,
        { cause: err },
      );
      return undefined;
    }
  }

  async save(apps: DesiredApps): Promise<void> {
    try {
      await writeFileAtomic(this.path, `${JSON.stringify(apps, null, 2)}\n`);
    } catch (err) {
      throw new StateError('STATE_WRITE_FAILED', `cannot save desired state to ${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
