/**
 * What Linux says about a process, read from /proc without spawning
 * anything (activeStates runs on every heartbeat). A pid alone does not
 * name a process for long: the kernel reuses pids, so a process is
 * identified by (pid, start time), start time being field 22 of
 * /proc/<pid>/stat in clock ticks since boot.
 */
import { readFile } from 'node:fs/promises';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), T, X ... */
  state: string;
  pgrp: number;
  startTime: number;
}

/** Parses /proc/<pid>/stat text. The command name (field 2) may hold spaces and parentheses, so fields are counted from its last `)`. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || !Number.isInteger(pid)) return undefined;
  // After ")" come fields 3, 4, 5 ...: field n is at index n - 3.
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (!state || !Number.isInteger(pgrp) || !Number.isInteger(startTime)) return undefined;
  return { pid, state, pgrp, startTime };
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone (ENOENT/ESRCH): not an error, just not running
  }
}

export const isDead = (s: ProcStat): boolean => s.state === 'Z' || s.state === 'X' || s.state === 'x';

/** The process (pid, startTime) exists and is not a zombie. */
export async function isProcessAlive(pid: number, startTime: number): Promise<boolean> {
  const s = await readProcStat(pid);
  return s !== undefined && s.startTime === startTime && !isDead(s);
}
