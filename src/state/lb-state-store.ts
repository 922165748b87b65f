/**
 * The load balancers Libra requests created, on disk at
 * `<state_dir>/<host_id>/lb_state.json`, so a reboot or an agent restart
 * brings them back without the master. Every accepted UPDATE, SUSPEND,
 * ENABLE and DELETE is saved here (atomically, fsynced) before PASS is sent.
 *
 * The file may hold TLS private keys: it is written 0600 in a 0700
 * directory. A file that does not parse or validate is renamed aside
 * (`lb_state.json.corrupt-<time>`) for a person to look at, never silently
 * dropped or overwritten, and the problem is kept in `lastLoadError`.
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../errors.js';
// Type only: the model is defined beside the engines that render it.
import type { LbState } from '../protocol/libra/model.js';
import { parseLbStateFile, toLbStateFile } from '../protocol/libra/parse-state.js';
import { writeFileAtomic } from './atomic-write.js';

export const LB_STATE_FILE = 'lb_state.json';

export class LbStateStore {
  readonly path: string;
  lastLoadError: StateError | undefined;

  constructor(stateDir: string, hostId: string) {
    this.path = join(stateDir, hostId, LB_STATE_FILE);
  }

  /**
   * The saved state, or undefined when none was ever saved or the file was
   * corrupt (then kept aside and reported in lastLoadError). A file that
   * exists but cannot be read (permissions, I/O) throws STATE_CORRUPT: the
   * caller must not go on as if there were no load balancers and overwrite it.
   */
  async load(now: Date = new Date()): Promise<LbState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateError('STATE_CORRUPT', `cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const state = parseLbStateFile(JSON.parse(text));
      this.lastLoadError = undefined;
      return state;
    } catch (err) {
      const aside = `${this.path}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
      await rename(this.path, aside);
      this.lastLoadError = new StateError(
        'STATE_CORRUPT',
        `${this.path} was unreadable (${reason(err)}); kept as ${aside}`,
        { cause: err },
      );
      return undefined;
    }
  }

  async save(state: LbState): Promise<void> {
    try {
      await writeFileAtomic(this.path, `${JSON.stringify(toLbStateFile(state), null, 2)}\n`, 0o600);
    } catch (err) {
      throw new StateError('STATE_WRITE_FAILED', `cannot save load-balancer state to ${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/** V8's JSON errors quote the text around the fault, which here may be part of a TLS key: keep only the position. */
function reason(err: unknown): string {
  if (!(err instanceof SyntaxError)) return (err as Error).message;
  const at = /position \d+/.exec(err.message);
  return at ? `not valid JSON at ${at[0]}` : 'not valid JSON';
}
