/**
 * When a supervised process exits: was it a failure, does Restart= want it
 * back, and after how long. Pure, so the schedule is unit-tested without
 * processes or clocks.
 *
 * Exit kinds follow systemd.service(5): exit status 0, or death by SIGHUP,
 * SIGINT, SIGTERM or SIGPIPE, is clean; with the `-` ExecStart prefix every
 * exit counts as clean. Core dumps are not told apart from other signals.
 *
 * systemd stops restarting after StartLimitBurst starts in
 * StartLimitIntervalSec and leaves the unit failed. An agent that keeps apps
 * running without a master should not give up, so instead a process that
 * keeps dying young is restarted with a doubling delay, capped; one that
 * stayed up for `stableAfterMs` resets the count.
 */
import type { RestartPolicy } from './unit-file.js';

export type ExitKind = 'success' | 'exit-code' | 'signal';

const CLEAN_SIGNALS = new Set(['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE']);

export function classifyExit(code: number | null, signal: string | null, ignoreFailure: boolean): ExitKind {
  if (ignoreFailure) return 'success';
  if (signal) return CLEAN_SIGNALS.has(signal) ? 'success' : 'signal';
  return code === 0 ? 'success' : 'exit-code';
}

export function shouldRestart(policy: RestartPolicy, kind: ExitKind): boolean {
  switch (policy) {
    case 'always':
      return true;
    case 'on-success':
      return kind === 'success';
    case 'on-failure':
      return kind !== 'success';
    case 'on-abnormal':
    case 'on-abort':
      // They differ only on timeouts and watchdog, which the supervisor does not have.
      return kind === 'signal';
    case 'on-watchdog':
    case 'no':
      return false;
  }
}

export interface BackoffOptions {
  /** No delay grows beyond this (RestartSec= itself may be longer and is kept). Default 30 s. */
  maxDelayMs: number;
  /** A run at least this long resets the count of quick exits. Default 10 s, systemd's StartLimitIntervalSec. */
  stableAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { maxDelayMs: 30_000, stableAfterMs: 10_000 };

/** Base for doubling when RestartSec=0, so an instant restart still backs off. */
const ZERO_RESTART_SEC_BASE_MS = 100;

/**
 * Delay before the next start. `quickExits` counts consecutive runs shorter
 * than `stableAfterMs`, this one included (0 when this run was long):
 * 0 or 1 -> RestartSec; then RestartSec*2, *4 ... up to the cap (from 100 ms
 * when RestartSec=0).
 */
export function restartDelayMs(restartSecMs: number, quickExits: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  if (quickExits <= 1) return restartSecMs;
  const base = restartSecMs > 0 ? restartSecMs : ZERO_RESTART_SEC_BASE_MS;
  const grown = base * Math.pow(2, Math.min(quickExits - 1, 30));
  return Math.max(restartSecMs, Math.min(opts.maxDelayMs, grown));
}
