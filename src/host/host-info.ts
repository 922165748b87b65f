/**
 * `info` of the status message: `{hostname, os_family, arch, os_info}`.
 *
 * The historical agent filled these from Python's `platform` module, so the
 * values keep its spelling: os_family is the kernel name ("Linux", as
 * `platform.system()`), arch the machine name ("x86_64", not Node's "x64").
 * os_info comes from os-release(5), read directly rather than through
 * systeminformation (see host-id.ts for why).
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';

export interface HostInfo {
  hostname: string;
  /** `os.type()`: "Linux". */
  os_family: string;
  /** `os.machine()`: "x86_64", "aarch64". */
  arch: string;
  /** "<NAME> <VERSION_ID> <VERSION_CODENAME>" from os-release, empty parts left out; "unknown" without one. */
  os_info: string;
}

/** Where os-release(5) says to look, in order. */
export const OS_RELEASE_PATHS: readonly string[] = ['/etc/os-release', '/usr/lib/os-release'];

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters a backslash escapes inside double quotes (POSIX shell); before others it stays literal. */
const DOUBLE_QUOTE_ESCAPABLE = '"\\$`';

/**
 * Parses os-release(5) text: `KEY=value` lines whose values follow shell
 * quoting (double quotes with `\"`, `\\`, `\$`, `` \` `` escapes, single
 * quotes literal, backslash escapes outside quotes, backslash-newline as a
 * continuation). Lines starting with `#` are comments. As systemd does, an
 * unquoted value runs to the end of its line with trailing blanks dropped,
 * and lines that are not assignments are skipped, not fatal. A later
 * assignment of a key wins. Nothing is expanded or executed.
 */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const n = text.length;
  const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r';

  while (i < n) {
    while (i < n && (isBlank(text[i]) || text[i] === '\n')) i++;
    if (i >= n) break;
    if (text[i] === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }

    const keyStart = i;
    while (i < n && text[i] !== '=' && text[i] !== '\n') i++;
    if (text[i] !== '=') continue; // not an assignment: skip the line
    const key = text.slice(keyStart, i).trimEnd();
    i++; // '='
    while (i < n && isBlank(text[i])) i++;

    let value = '';
    let keep = 0; // length of `value` without trailing unquoted blanks
    while (i < n && text[i] !== '\n') {
      const c = text[i] as string;
      if (c === "'") {
        const end = text.indexOf("'", i + 1);
        const stop = end === -1 ? n : end;
        value += text.slice(i + 1, stop);
        keep = value.length;
        i = stop + 1;
      } else if (c === '"') {
        i++;
        while (i < n && text[i] !== '"') {
          const d = text[i] as string;
          const next = text[i + 1];
          if (d === '\\' && next !== undefined) {
            if (next === '\n') {
              // continuation: drop both
            } else if (DOUBLE_QUOTE_ESCAPABLE.includes(next)) {
              value += next;
            } else {
              value += d + next;
            }
            i += 2;
          } else {
            value += d;
            i++;
          }
        }
        keep = value.length;
        i++; // closing quote (or past the end)
      } else if (c === '\\') {
        const next = text[i + 1];
        if (next !== undefined && next !== '\n') {
          value += next;
          keep = value.length;
        }
        i += 2;
      } else {
        value += c;
        if (!isBlank(c)) keep = value.length;
        i++;
      }
    }
    if (KEY.test(key)) out[key] = value.slice(0, keep);
  }
  return out;
}

/** "<NAME> <VERSION_ID> <VERSION_CODENAME>" with empty parts left out; "unknown" when all are. */
export function formatOsInfo(fields: Readonly<Record<string, string>>): string {
  const parts = [fields.NAME, fields.VERSION_ID, fields.VERSION_CODENAME]
    .map((p) => (p ?? '').trim())
    .filter((p) => p !== '');
  return parts.length === 0 ? 'unknown' : parts.join(' ');
}

export interface ReadHostInfoOptions {
  /** Read only this file instead of /etc/os-release then /usr/lib/os-release. */
  osReleasePath?: string;
}

async function readOsRelease(paths: readonly string[]): Promise<Record<string, string> | null> {
  for (const path of paths) {
    try {
      return parseOsRelease(await readFile(path, 'utf8'));
    } catch {
      // Missing or unreadable: os-release(5) says to try the next one.
    }
  }
  return null;
}

export async function readHostInfo(opts: ReadHostInfoOptions = {}): Promise<HostInfo> {
  const paths = opts.osReleasePath === undefined ? OS_RELEASE_PATHS : [opts.osReleasePath];
  const fields = await readOsRelease(paths);
  return {
    hostname: os.hostname(),
    os_family: os.type(),
    arch: os.machine(),
    os_info: fields === null ? 'unknown' : formatOsInfo(fields),
  };
}
