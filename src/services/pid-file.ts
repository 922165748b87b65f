/**
 * One JSON file per supervised service, `<dir>/<name>.pid`, so that an agent
 * restarted (or upgraded, or killed) finds the children it left running
 * instead of starting duplicates. Written to a temporary file and renamed:
 * a reader sees the old record or the new one, never half. Not fsynced: after
 * a power loss the processes are gone too, and a lost record loses nothing.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PidRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat when started: tells this process from a later one given the same pid. */
  startTime: number;
  argv: string[];
  /** ISO time, for people reading the file. */
  startedAt: string;
}

export const pidFilePath = (dir: string, name: string): string => join(dir, `${name}.pid`);

export async function writePidFile(dir: string, name: string, record: PidRecord): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const file = pidFilePath(dir, name);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record)}\n`, { mode: 0o644 });
  await rename(tmp, file);
}

/** The record, or undefined when there is none; a file that is not a valid record is `corrupt`. */
export async function readPidFile(dir: string, name: string): Promise<PidRecord | 'corrupt' | undefined> {
  let text: string;
  try {
    text = await readFile(pidFilePath(dir, name), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const r = JSON.parse(text) as Partial<PidRecord>;
    const valid = Number.isInteger(r.pid) && (r.pid ?? 0) > 1 && Number.isInteger(r.startTime) && Array.isArray(r.argv);
    return valid ? (r as PidRecord) : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

/** Removes the file; with `onlyPid`, only if it still names that process (a newer start may have replaced it). */
export async function removePidFile(dir: string, name: string, onlyPid?: number): Promise<void> {
  if (onlyPid !== undefined) {
    const current = await readPidFile(dir, name);
    if (current !== 'corrupt' && current?.pid !== onlyPid) return;
  }
  await rm(pidFilePath(dir, name), { force: true });
}

/** Service names with a pid file in `dir`. */
export async function listPidFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.pid')).map((f) => f.slice(0, -'.pid'.length));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
