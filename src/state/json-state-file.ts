/**
 * One JSON file of durable state: read and validated, or, when it does not
 * parse or validate, renamed aside (`<file>.corrupt-<time>`) for a person to
 * look at and reported in `lastLoadError`, never silently dropped or
 * overwritten. Saved atomically (temp file, fsync, rename, fsync dir).
 */
import { readFile, rename } from 'node:fs/promises';
import { StateError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';

export class JsonStateFile<T> {
  lastLoadError: StateError | undefined;

  constructor(
    readonly path: string,
    private readonly parse: (value: unknown) => T,
    private readonly what: string,
    private readonly mode = 0o600,
  ) {}

  /**
   * The saved value, or undefined when none was saved or the file was
   * corrupt. A file that exists but cannot be read (permissions, I/O) throws
   * STATE_CORRUPT: the caller must not go on as if there were none and
   * overwrite it.
   */
  async load(now: Date = new Date()): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateError('STATE_CORRUPT', `cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const value = this.parse(JSON.parse(text));
      this.lastLoadError = undefined;
      return value;
    } catch (err) {
      const aside = `${this.path}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
      await rename(this.path, aside);
      this.lastLoadError = new StateError('STATE_CORRUPT', `${this.path} was unreadable (${reason(err)}); kept as ${aside}`, {
        cause: err,
      });
      return undefined;
    }
  }

  async save(text: string): Promise<void> {
    try {
      await writeFileAtomic(this.path, text, this.mode);
    } catch (err) {
      throw new StateError('STATE_WRITE_FAILED', `cannot save ${this.what} to ${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/** V8's JSON errors quote the text around the fault, which may be part of a secret: keep only the position. */
function reason(err: unknown): string {
  if (!(err instanceof SyntaxError)) return (err as Error).message;
  const at = /position \d+/.exec(err.message);
  return at ? `not valid JSON at ${at[0]}` : 'not valid JSON';
}
