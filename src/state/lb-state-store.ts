/**
 * The load balancers Libra requests created, on disk at
 * `<state_dir>/<host_id>/lb_state.json`, so a reboot or an agent restart
 * brings them back without the master. Every accepted UPDATE, SUSPEND,
 * ENABLE and DELETE is saved here (atomically, fsynced) before PASS is sent.
 * The file may hold TLS private keys: it is written 0600 in a 0700
 * directory. A corrupt file is kept aside and reported (JsonStateFile).
 */
import { join } from 'node:path';
import type { StateError } from '../errors.js';
import type { LbState } from '../protocol/libra/model.js';
import { parseLbStateFile, toLbStateFile } from '../protocol/libra/parse-state.js';
import { JsonStateFile } from './json-state-file.js';

export const LB_STATE_FILE = 'lb_state.json';

export class LbStateStore {
  private readonly file: JsonStateFile<LbState>;

  constructor(stateDir: string, hostId: string) {
    this.file = new JsonStateFile(join(stateDir, hostId, LB_STATE_FILE), parseLbStateFile, 'load-balancer state');
  }

  get path(): string {
    return this.file.path;
  }

  get lastLoadError(): StateError | undefined {
    return this.file.lastLoadError;
  }

  load(now?: Date): Promise<LbState | undefined> {
    return this.file.load(now);
  }

  save(state: LbState): Promise<void> {
    return this.file.save(`${JSON.stringify(toLbStateFile(state), null, 2)}\n`);
  }
}
