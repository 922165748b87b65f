/**
 * Knowing when HAProxy has done what it was asked: started, or reloaded.
 *
 * HAProxy 2.6's master CLI `reload` answers nothing: the master re-executes
 * itself (its CLI socket is gone for a moment: refused connections here
 * mean "not yet"), forks a new worker, which takes the listening sockets
 * over from the old one (`-x sockpair@`), and the old worker finishes its
 * connections. A reload that fails (a port that will not bind) leaves the
 * old worker serving and raises `[failed: N]` on the master's `show proc`
 * line; its reasons are `[ALERT]` lines on the master's stderr.
 *
 * "Up" means the new worker answers on the admin socket with its own pid
 * (`show info`): the admin socket is one of the listeners it took over, so
 * once it answers, so do the frontends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LbError } from '../../errors.js';
import { alertLines, fileSize, readFrom, type HaproxyPaths } from './process.js';
import type { MasterCli, RuntimeApi } from './runtime-api.js';
import type { ProcList } from './runtime-parse.js';

const POLL_MS = 10;

export interface WaitContext {
  paths: HaproxyPaths;
  master: MasterCli;
  admin: RuntimeApi;
  timeoutMs: number;
}

async function tryShowProc(master: MasterCli): Promise<ProcList | undefined> {
  try {
    return await master.showProc();
  } catch {
    return undefined;
  }
}

async function workerPid(admin: RuntimeApi): Promise<number | undefined> {
  try {
    const pid = Number((await admin.showInfo()).Pid);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of a current worker not in `exclude` that already answers on the admin socket. */
async function newWorkerUp(ctx: WaitContext, proc: ProcList, exclude: ReadonlySet<number>): Promise<number | undefined> {
  const fresh = proc.workers.filter((w) => !exclude.has(w.pid));
  if (fresh.length === 0) return undefined;
  const answering = await workerPid(ctx.admin);
  return fresh.some((w) => w.pid === answering) ? answering : undefined;
}

/** What HAProxy said on stderr since `from`, for an error message. */
async function stderrSince(paths: HaproxyPaths, from: number): Promise<string> {
  const text = await readFrom(paths.logErr, from);
  return alertLines(text) || text.trim().split('\n').slice(-5).join('\n');
}

/** Waits for a freshly spawned master's first worker; fails early when the master exits. */
export async function waitStarted(ctx: WaitContext, exited: Promise<number | null>, errFrom: number): Promise<number> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + ctx.timeoutMs;
  for (;;) {
    if (exitCode !== undefined) {
      const why = await stderrSince(ctx.paths, errFrom);
      throw new LbError('LB_APPLY_FAILED', `haproxy exited (${exitCode ?? 'spawn failed'}) while starting${why ? `: ${why}` : ''}`);
    }
    const proc = await tryShowProc(ctx.master);
    const pid = proc ? await newWorkerUp(ctx, proc, new Set()) : undefined;
    if (pid !== undefined) return pid;
    if (Date.now() >= deadline) {
      throw new LbError('LB_APPLY_FAILED', `haproxy did not come up within ${ctx.timeoutMs} ms: ${await stderrSince(ctx.paths, errFrom)}`);
    }
    await sleep(POLL_MS);
  }
}

/** Reloads through the master CLI and resolves with the new worker's pid once it serves. */
export async function reloadAndWait(ctx: WaitContext): Promise<number> {
  const before = await ctx.master.showProc();
  const errFrom = await fileSize(ctx.paths.logErr);
  const old = new Set([...before.workers, ...before.oldWorkers].map((w) => w.pid));
  await ctx.master.reload();
  const deadline = Date.now() + ctx.timeoutMs;
  for (;;) {
    await sleep(POLL_MS);
    const proc = await tryShowProc(ctx.master);
    if (proc && proc.master.failedReloads > before.master.failedReloads) {
      throw new LbError('LB_APPLY_FAILED', `haproxy reload failed, the previous config still runs: ${await stderrSince(ctx.paths, errFrom)}`);
    }
    const pid = proc && proc.master.reloads > before.master.reloads ? await newWorkerUp(ctx, proc, old) : undefined;
    if (pid !== undefined) return pid;
    if (Date.now() >= deadline) {
      throw new LbError('LB_APPLY_FAILED', `haproxy reload not done within ${ctx.timeoutMs} ms: ${await stderrSince(ctx.paths, errFrom)}`);
    }
  }
}
