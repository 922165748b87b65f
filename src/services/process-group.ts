/**
 * Stopping a service means stopping everything it started: each service runs
 * as the leader of its own process group (detached spawn = setsid), and
 * signals go to the whole group. A process that left the group (its own
 * setsid, a double-forked daemon) escapes this; systemd would still find it
 * in the unit's cgroup, the supervisor cannot.
 *
 * Safe against pid reuse without a pidfd: if /proc/<pid> shows another
 * process (another start time), our group has ended, because Linux does not
 * hand out a pid that is still the id of a live process group.
 */
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../errors.js';
import { isDead, readProcStat } from './proc.js';

/** After SIGKILL, how long a group may take to disappear before stopping is reported as failed. */
const KILL_WAIT_MS = 5_000;
const POLL_MS = 25;

/** Sends `signal` to process group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * Whether any live (non-zombie) process is in group `pgid`. kill(-pgid, 0)
 * alone would also count zombies, which a container's PID 1 may never reap.
 */
export async function isGroupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const s = await readProcStat(Number(entry));
    if (s && s.pgrp === pgid && !isDead(s)) return true;
  }
  return false;
}

/** Whether group `pid` can still be the one whose leader started at `startTime` (see the header). */
export async function mayBeOurGroup(pid: number, startTime: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat === undefined || stat.startTime === startTime;
}

async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isGroupAlive(pgid))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
  }
}

/**
 * SIGTERM to the group, SIGKILL after `stopTimeoutMs`; resolves once no
 * member is left. `onKill` is told before SIGKILL (for a log line).
 */
export async function terminateGroup(
  what: string,
  pid: number,
  startTime: number,
  stopTimeoutMs: number,
  onKill: () => void,
): Promise<void> {
  if (!(await mayBeOurGroup(pid, startTime))) return;
  if (!signalGroup(pid, 'SIGTERM')) return;
  if (await groupGone(pid, stopTimeoutMs)) return;
  onKill();
  signalGroup(pid, 'SIGKILL');
  if (await groupGone(pid, KILL_WAIT_MS)) return;
  throw new AppError('SERVICE_FAILED', `${what}: process group ${pid} still alive ${KILL_WAIT_MS} ms after SIGKILL`);
}

/** SIGKILL to what is left of an earlier run's group (members that ignored the SIGTERM sent when its leader exited). */
export async function killLeftovers(pid: number, startTime: number): Promise<void> {
  if ((await mayBeOurGroup(pid, startTime)) && (await isGroupAlive(pid))) signalGroup(pid, 'SIGKILL');
}
