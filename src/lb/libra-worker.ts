/**
 * The Libra worker: answers `hpcs_action` requests for the pf9-lb app by
 * driving a load-balancer engine and keeping the load balancers on disk.
 *
 * - The worker owns the model; the engine only makes the proxy match it.
 *   A change is applied first, then saved, then PASS is sent: a PASS means
 *   the proxy runs it and a reboot brings it back. If the engine refuses,
 *   nothing changed (the engine's contract). If the save fails, the engine
 *   is put back to the previous state, so disk, proxy and the master's view
 *   (FAIL) agree.
 * - Requests that touch the state or the engine run one at a time, in
 *   arrival order. Waiting on the network (DIAGNOSTICS' connect checks,
 *   ARCHIVE's upload) happens outside that queue so a slow object store
 *   does not hold up an UPDATE.
 * - Without an engine (pf9-lb not installed or not running) every action
 *   that needs the proxy FAILs and changes nothing; DISCOVER and
 *   DIAGNOSTICS still answer.
 * - handle() never throws: every failure is a FAIL reply with hpcs_error
 *   (and hpcs_error_code); secrets are masked in replies and never logged.
 *
 * It satisfies agent/ports.ts' LibraHandler structurally (lb/ does not
 * import from agent/, which sits above it); its tests check the fit.
 */
import { AgentError, LbError, StateError, toAgentError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseArchiveRequest, parseLibraAction, parseLoadBalancers, type LibraAction } from '../protocol/libra/parse-request.js';
import { isPlainObject } from '../protocol/libra/fields.js';
import { failReply, passReply } from '../protocol/libra/reply.js';
import type { LbStateStore } from '../state/lb-state-store.js';
import type { LbEngine } from './engine.js';
import { nodeHttpPut, type HttpPut } from './http-put.js';
import { MetricsWindow } from './metrics.js';
import { EMPTY_LB_STATE, type LbState } from './model.js';
import { joinStats, probeNodes } from './readouts.js';
import { SerialQueue } from './serial-queue.js';
import { archiveToSwift } from './swift-archive.js';
import { tcpProbe, type TcpProbe } from './tcp-probe.js';

/** The worker protocol version DISCOVER reports. */
export const WORKER_PROTOCOL_VERSION = '1.0';
export const DEFAULT_PROBE_TIMEOUT_MS = 2000;

export interface LibraWorkerDeps {
  /** undefined while pf9-lb is not installed or not running. */
  engine: LbEngine | undefined;
  store: LbStateStore;
  logger: Logger;
  agentVersion: string;
  now?: () => Date;
  /** ARCHIVE's upload; node:http/https by default. */
  http?: HttpPut;
  /** DIAGNOSTICS' TCP connect check; node:net by default. */
  probe?: TcpProbe;
  probeTimeoutMs?: number;
  archiveTimeoutMs?: number;
}

/** What the agent knows of the AMQP delivery, for the log line. */
export interface LibraRequestContext {
  correlationId?: string | undefined;
}

type Request = Record<string, unknown>;

export class LibraWorker {
  private engine: LbEngine | undefined;
  private state: LbState = clone(EMPTY_LB_STATE);
  private readonly queue = new SerialQueue();
  private readonly metrics: MetricsWindow;
  private readonly now: () => Date;
  private readonly log: Logger;
  private initPromise: Promise<void> | undefined;

  constructor(private readonly deps: LibraWorkerDeps) {
    this.engine = deps.engine;
    this.now = deps.now ?? (() => new Date());
    this.log = deps.logger;
    this.metrics = new MetricsWindow(this.now());
  }

  /**
   * Loads the saved load balancers and has the engine run them. A corrupt
   * file is kept aside and logged (the agent starts with none); a file that
   * cannot be read rejects, and every request FAILs until a later init (each
   * request retries it) succeeds, so an unreadable file is never overwritten.
   * An engine that refuses the saved state is logged, not fatal: the state
   * is kept and the next change or engine switch applies it again.
   */
  init(): Promise<void> {
    this.initPromise ??= this.queue.run(() => this.restore()).catch((err: unknown) => {
      this.initPromise = undefined;
      this.log.error({ event: 'lb.state_unreadable', error: toAgentError(err).message }, 'load-balancer state not loaded');
      throw err;
    });
    return this.initPromise;
  }

  /**
   * Switches engines (set_config's `config.engine`, or pf9-lb started or
   * stopped). The new engine is made to run the current load balancers;
   * stopping the old one is the caller's business. Rejects when the new
   * engine refuses them (it is switched to regardless, so a later UPDATE
   * goes to it).
   */
  async setEngine(engine: LbEngine | undefined): Promise<void> {
    await this.init().catch(() => undefined);
    await this.queue.run(async () => {
      if (engine === this.engine) return;
      this.engine = engine;
      if (engine !== undefined && this.state.loadBalancers.length > 0) await engine.apply(clone(this.state));
      await this.startMetricsWindow();
    });
  }

  /** The load balancers as last accepted (a copy), for status reports. */
  currentState(): LbState {
    return clone(this.state);
  }

  async handle(input: Request, context: LibraRequestContext = {}): Promise<Request> {
    // The agent only hands over JSON objects; anything else is answered as an empty request, never thrown on.
    const request: Request = isPlainObject(input) ? input : {};
    const startedMs = Date.now();
    let action: string | undefined;
    let reply: Request;
    let failure: AgentError | undefined;
    try {
      const parsed = parseLibraAction(request);
      action = parsed;
      reply = await this.dispatch(parsed, request);
    } catch (err) {
      failure = toAgentError(err);
      action ??= rawAction(request);
      reply = failReply(request, failure.message, failure.code);
    }
    const line = {
      event: 'libra.handled',
      action,
      correlation_id: context.correlationId,
      response: reply.hpcs_response,
      ...(failure ? { code: failure.code, error: reply.hpcs_error } : {}),
      duration_ms: Date.now() - startedMs,
    };
    if (failure) this.log.warn(line, 'libra request failed');
    else this.log.info(line, 'libra request handled');
    return reply;
  }

  private async dispatch(action: LibraAction, request: Request): Promise<Request> {
    switch (action) {
      case 'DISCOVER':
        return passReply(request, { version: WORKER_PROTOCOL_VERSION, agent_version: this.deps.agentVersion });
      case 'UPDATE': {
        const loadBalancers = parseLoadBalancers(request);
        // A suspended device stays suspended through an UPDATE (a node change must not reopen it); ENABLE reopens.
        await this.exclusive((engine) => this.commit(engine, { loadBalancers, suspended: this.state.suspended }));
        return passReply(request);
      }
      case 'SUSPEND':
      case 'ENABLE': {
        const suspended = action === 'SUSPEND';
        await this.exclusive((engine) => this.commit(engine, { ...this.state, suspended }));
        return passReply(request);
      }
      case 'DELETE':
        await this.exclusive((engine) => this.deleteAll(engine));
        return passReply(request);
      case 'STATS':
        return passReply(request, {
          // With no load balancers (e.g. after DELETE) there is no proxy to ask, and nothing to report.
          loadbalancers: await this.exclusive(async (engine) =>
            this.state.loadBalancers.length === 0 ? [] : joinStats(this.state.loadBalancers, await engine.stats()),
          ),
        });
      case 'METRICS': {
        const report = await this.exclusive(async (engine) =>
          this.metrics.take(await engine.counters(), this.state.loadBalancers, this.now()),
        );
        return passReply(request, { ...report });
      }
      case 'DIAGNOSTICS':
        return passReply(request, await this.diagnostics());
      case 'ARCHIVE':
        return passReply(request, await this.archive(request));
    }
  }

  /** Runs `job` in turn, after init, with the engine (or FAILs when pf9-lb has none). */
  private async exclusive<T>(job: (engine: LbEngine) => Promise<T>): Promise<T> {
    await this.init();
    return this.queue.run(() => job(this.requireEngine()));
  }

  private requireEngine(): LbEngine {
    if (this.engine === undefined) {
      throw new LbError('LB_NOT_SUPPORTED', 'the pf9-lb app is not installed or not running on this host (no load-balancer engine)');
    }
    return this.engine;
  }

  /** apply -> save -> adopt; on a failed save, the engine goes back to what is still on disk. */
  private async commit(engine: LbEngine, next: LbState): Promise<void> {
    // Nothing runs to suspend or enable when there are no load balancers: only the flag is kept.
    if (next.loadBalancers.length > 0 || this.state.loadBalancers.length > 0) await engine.apply(clone(next));
    try {
      await this.deps.store.save(next);
    } catch (err) {
      let restored = 'the previous load balancers run again';
      try {
        await engine.apply(clone(this.state));
      } catch (rollbackErr) {
        restored = `putting the previous load balancers back failed too: ${toAgentError(rollbackErr).message}`;
      }
      throw new StateError('STATE_WRITE_FAILED', `change not saved (${toAgentError(err).message}); ${restored}`, { cause: err });
    }
    this.state = next;
  }

  private async deleteAll(engine: LbEngine): Promise<void> {
    await engine.destroy();
    // The proxy is gone whatever the save does next: the state in memory must say so.
    this.state = clone(EMPTY_LB_STATE);
    this.metrics.reset(this.now());
    try {
      await this.deps.store.save(this.state);
    } catch (err) {
      throw new StateError(
        'STATE_WRITE_FAILED',
        `load balancers deleted, but the empty state was not saved (${toAgentError(err).message}); they may return after a restart`,
        { cause: err },
      );
    }
  }

  private async diagnostics(): Promise<Request> {
    await this.init();
    const { health, nodes } = await this.queue.run(async () => {
      let health: Request;
      try {
        const h = this.engine ? await this.engine.health() : { running: false, configValid: false };
        health = { running: h.running, config_valid: h.configValid };
      } catch (err) {
        health = { running: false, config_valid: false, error: toAgentError(err).message };
      }
      return { health, nodes: this.state.loadBalancers.flatMap((lb) => lb.nodes) };
    });
    return {
      engine: this.engine?.kind ?? null,
      haproxy: health,
      nodes: await probeNodes(nodes, this.deps.probe ?? tcpProbe, this.deps.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS),
    };
  }

  private async archive(request: Request): Promise<Request> {
    const req = parseArchiveRequest(request);
    const { logs, name } = await this.exclusive(async (engine) => {
      const lb = this.state.loadBalancers.find((l) => l.id === req.lbId);
      if (lb === undefined) {
        throw new LbError('LB_REQUEST_INVALID', `loadBalancers[0].id: no load balancer ${JSON.stringify(req.lbId)} on this host`);
      }
      return { logs: await engine.logs(lb.id), name: req.lbName ?? lb.name };
    });
    const result = await archiveToSwift({ ...req, lbName: name }, logs, {
      http: this.deps.http ?? nodeHttpPut,
      now: this.now(),
      ...(this.deps.archiveTimeoutMs !== undefined ? { timeoutMs: this.deps.archiveTimeoutMs } : {}),
    });
    return { hpcs_object_name: result.objectPath };
  }

  private async restore(): Promise<void> {
    const saved = await this.deps.store.load(this.now());
    const corrupt = this.deps.store.lastLoadError;
    if (corrupt) this.log.error({ event: 'lb.state_corrupt', code: corrupt.code, error: corrupt.message }, 'load-balancer state was corrupt');
    this.state = saved ?? clone(EMPTY_LB_STATE);
    const count = this.state.loadBalancers.length;
    if (this.engine !== undefined && count > 0) {
      try {
        await this.engine.apply(clone(this.state));
        this.log.info({ event: 'lb.restored', count, suspended: this.state.suspended }, 'load balancers restored');
      } catch (err) {
        const e = toAgentError(err);
        this.log.error({ event: 'lb.restore_failed', code: e.code, error: e.message }, 'saved load balancers not applied');
      }
    }
    await this.startMetricsWindow();
  }

  /** METRICS counts from here: the engine's counters now are the baseline (none when it cannot say). */
  private async startMetricsWindow(): Promise<void> {
    let baseline: Awaited<ReturnType<LbEngine['counters']>> = [];
    try {
      if (this.engine !== undefined && this.state.loadBalancers.length > 0) baseline = await this.engine.counters();
    } catch {
      // No baseline: the first METRICS then reports what the proxy counted so far, which is still a true total.
    }
    this.metrics.reset(this.now(), baseline);
  }
}

/** hpcs_action as sent (any case), for the log line of a request that did not parse. */
function rawAction(request: Request): string | undefined {
  const key = Object.keys(request).find((k) => k.toLowerCase() === 'hpcs_action');
  const value = key === undefined ? undefined : request[key];
  return typeof value === 'string' ? value.slice(0, 32) : undefined;
}

function clone(state: LbState): LbState {
  return structuredClone(state);
}
