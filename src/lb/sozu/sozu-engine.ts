/**
 * The LbEngine for a running sozu 0.x, driven through its command socket
 * (`lb.sozu.socket`). sozu is not started or stopped by the agent: it runs
 * as its own service, and the agent changes what it routes, without
 * restarts.
 *
 * apply(state): the model becomes a SozuState (desired.ts), compared with
 * what sozu runs (a DUMP_STATE the first time and after every reconnect;
 * afterwards the state last applied) into ordered orders (diff.ts), sent
 * one at a time. The first Error stops the run; what was already done is
 * undone (a fresh DUMP_STATE diffed back to the previous state), so a
 * refused change leaves the previous load balancers running, as the
 * LbEngine contract asks. After a change, SAVE_STATE writes sozu's state
 * to `saveStatePath`; pointing sozu's `saved_state` there makes a restarted
 * sozu come back with it. Whether or not it does, the engine notices the
 * closed socket, reconnects and applies the desired state again.
 *
 * What sozu 0.x cannot tell (per-node health: it has no active checks;
 * traffic counters per load balancer; logs, which go to sozu's own log
 * target) is LB_NOT_SUPPORTED, never an invented answer.
 *
 * Calls that change things run one at a time, in order of arrival.
 */
import { rm } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { LbError, toAgentError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { describeOrder, type SozuOrder } from '../../protocol/sozu/messages.js';
import { parseDumpedState, type SozuState } from '../../protocol/sozu/state.js';
import type { LbEngine } from '../engine.js';
import { EMPTY_LB_STATE, type LbCounters, type LbNodeStats, type LbState } from '../model.js';
import { SozuCommandClient, SozuRefusedError } from './command-client.js';
import { desiredSozuState } from './desired.js';
import { diffSozuState } from './diff.js';

export const SOZU_STATE_FILE = 'pf9-lb-sozu-state.json';
const DEFAULT_RECONNECT_DELAYS_MS = [200, 500, 1000, 2000, 5000];

export interface SozuEngineOptions {
  /** sozu's command socket (config `lb.sozu.socket`). */
  socketPath: string;
  logger: Logger;
  /** Per command, restarted by Processing answers; default 10 s. */
  timeoutMs?: number;
  /** Address the listeners bind; default 0.0.0.0 (config `lb.bind_address`). */
  bindAddress?: string;
  /** Absolute path sozu writes its state to on SAVE_STATE; default beside the socket. */
  saveStatePath?: string;
  /** Automatic reconnect schedule after sozu closed the socket. */
  reconnectDelaysMs?: readonly number[];
}

export class SozuEngine implements LbEngine {
  readonly kind = 'sozu' as const;
  readonly saveStatePath: string;
  private readonly client: SozuCommandClient;
  private readonly log: Logger;
  private readonly bindAddress: string;
  private queue: Promise<unknown> = Promise.resolve();
  /** What sozu runs, as far as this engine knows; undefined = ask sozu (DUMP_STATE). */
  private current: SozuState | undefined;
  /** The model last applied with success; re-applied after sozu comes back. */
  private desired: LbState | undefined;

  constructor(opts: SozuEngineOptions) {
    if (!opts.socketPath) throw new LbError('LB_APPLY_FAILED', 'SozuEngine: socketPath is required (lb.sozu.socket)');
    if (opts.saveStatePath !== undefined && !isAbsolute(opts.saveStatePath)) {
      // sozu resolves a relative path against its own working directory, not ours.
      throw new LbError('LB_APPLY_FAILED', `SozuEngine: saveStatePath must be absolute, got ${opts.saveStatePath}`);
    }
    this.log = opts.logger;
    this.bindAddress = opts.bindAddress ?? '0.0.0.0';
    this.saveStatePath = opts.saveStatePath ?? join(dirname(opts.socketPath), SOZU_STATE_FILE);
    this.client = new SozuCommandClient({
      socketPath: opts.socketPath,
      logger: opts.logger,
      reconnectDelaysMs: opts.reconnectDelaysMs ?? DEFAULT_RECONNECT_DELAYS_MS,
      ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      onConnect: ({ reconnected }) => this.onConnect(reconnected),
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  apply(state: LbState): Promise<void> {
    return this.serial(() => this.applyNow(state));
  }

  private async applyNow(state: LbState): Promise<void> {
    const want = desiredSozuState(state, this.bindAddress); // LB_INVALID before anything is sent
    await this.change(want);
    this.desired = structuredClone(state);
  }

  /** Makes sozu run `want`; on the first refusal, puts back what ran before and throws. */
  private async change(want: SozuState): Promise<void> {
    const before = await this.currentState();
    const orders = diffSozuState(before, want);
    if (orders.length === 0) {
      this.current = want;
      return;
    }
    for (const order of orders) {
      try {
        await this.client.order(order);
      } catch (err) {
        this.current = undefined;
        throw await this.failed(order, err, before);
      }
    }
    this.current = want;
    this.log.info({ event: 'lb.sozu.applied', orders: orders.map((o) => o.type) }, 'sozu state changed');
    await this.saveState();
  }

  /** Undoes a partial run, then returns the error to throw (the proxy's own words kept). */
  private async failed(order: SozuOrder, err: unknown, before: SozuState): Promise<LbError> {
    const e = toAgentError(err);
    this.log.warn({ event: 'lb.sozu.order_failed', order: describeOrder(order), code: e.code, error: e.message }, 'sozu order failed');
    let outcome = 'the previous load balancers still run';
    try {
      // The previous model carries certificate material a dump does not; without one, the state found before is the target.
      await this.change(this.desired ? desiredSozuState(this.desired, this.bindAddress) : before);
    } catch (rollbackErr) {
      outcome = `putting the previous load balancers back failed too: ${toAgentError(rollbackErr).message}`;
    }
    const code = err instanceof SozuRefusedError ? 'LB_INVALID' : 'LB_APPLY_FAILED';
    return new LbError(code, `${e.message}; ${outcome}`, { cause: err });
  }

  private async currentState(): Promise<SozuState> {
    if (this.current) return this.current;
    const r = await this.client.send('DUMP_STATE');
    this.current = parseDumpedState(r.data);
    return this.current;
  }

  private async saveState(): Promise<void> {
    try {
      await this.client.send('SAVE_STATE', { path: this.saveStatePath });
    } catch (err) {
      // sozu runs the change; only a restart of sozu would lose it, and the engine re-applies after one anyway.
      this.log.error({ event: 'lb.sozu.save_failed', path: this.saveStatePath, error: toAgentError(err).message }, 'sozu SAVE_STATE failed');
    }
  }

  private onConnect(reconnected: boolean): void {
    if (!reconnected) return;
    // A new connection may be a new sozu: forget what the old one ran.
    this.current = undefined;
    this.log.info({ event: 'lb.sozu.reconnected' }, 'sozu command socket connected again');
    this.serial(async () => {
      if (!this.desired) return;
      await this.change(desiredSozuState(this.desired, this.bindAddress));
      this.log.info({ event: 'lb.sozu.reapplied', count: this.desired.loadBalancers.length }, 'load balancers applied again after reconnect');
    }).catch((err: unknown) => this.log.error({ event: 'lb.sozu.reapply_failed', error: toAgentError(err).message }, 'could not re-apply after reconnect'));
  }

  /** running=false: sozu keeps running as a service, but routes none of our load balancers. */
  stop(): Promise<void> {
    return this.serial(async () => {
      this.desired = undefined;
      await this.change(desiredSozuState(EMPTY_LB_STATE, this.bindAddress));
      this.log.info({ event: 'lb.sozu.stopped' }, 'load balancers removed from sozu');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    await this.serial(() => rm(this.saveStatePath, { force: true }));
  }

  stats(): Promise<Array<{ id: string; nodes: LbNodeStats[] }>> {
    return Promise.reject(
      new LbError('LB_NOT_SUPPORTED', 'STATS is not available with the sozu engine: sozu 0.x has no health checks and reports no per-node status (DIAGNOSTICS checks nodes by connecting)'),
    );
  }

  counters(): Promise<LbCounters[]> {
    return Promise.reject(new LbError('LB_NOT_SUPPORTED', 'METRICS is not available with the sozu engine: sozu 0.x keeps no per-load-balancer byte and session counters on its command socket'));
  }

  /** running: sozu answers STATUS with a running worker; configValid: sozu runs exactly what was last applied. */
  async health(): Promise<{ running: boolean; configValid: boolean }> {
    let running: boolean;
    try {
      const r = await this.client.send('STATUS');
      running = workersRunning(r.data);
    } catch {
      return { running: false, configValid: false };
    }
    const configValid = await this.serial(async () => {
      const dump = parseDumpedState((await this.client.send('DUMP_STATE')).data);
      return diffSozuState(dump, desiredSozuState(this.desired ?? EMPTY_LB_STATE, this.bindAddress)).length === 0;
    }).catch(() => false);
    return { running, configValid };
  }

  logs(lbId: string): Promise<string> {
    return Promise.reject(new LbError('LB_NOT_SUPPORTED', `ARCHIVE of load balancer ${lbId}: sozu writes its logs to its own log target, which the agent does not capture`));
  }

  async close(): Promise<void> {
    await this.queue;
    await this.client.close();
  }
}

/** STATUS data is `{type: "WORKERS", data: [{id, pid, run_state}]}`; an Ok without it still proves the master answers. */
function workersRunning(data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return true;
  const list = (data as { data?: unknown }).data;
  if (!Array.isArray(list)) return true;
  return list.some((w) => typeof w === 'object' && w !== null && (w as { run_state?: unknown }).run_state === 'RUNNING');
}
