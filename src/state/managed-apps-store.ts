/**
 * The apps this agent installed, so it may remove them later even when
 * their package does not declare `Provides: pf9app`. Anything else on the
 * host is never the agent's to remove.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';

export const MANAGED_FILE = 'managed_apps.json';

export class ManagedAppsStore {
  readonly path: string;

  constructor(stateDir: string, hostId: string) {
    this.path = join(stateDir, hostId, MANAGED_FILE);
  }

  async load(): Promise<Set<string>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
      throw new StateError('STATE_CORRUPT', `cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error('not a list of names');
      return new Set(parsed);
    } catch (err) {
      // Losing this list only narrows what the agent may remove (to pf9app packages): safe to start empty.
      throw new StateError('STATE_CORRUPT', `${this.path} is unreadable: ${(err as Error).message}`, { cause: err });
    }
  }

  async save(names: ReadonlySet<string>): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify([...names].sort())}\n`);
  }
}
