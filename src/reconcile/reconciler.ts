/**
 * The apps controller: holds the desired state (durably), converges the
 * host to it, never two converges at once (a set_config arriving meanwhile
 * is queued and the newest wins, since each round plans from the latest
 * desired state), retries failed apps on later heartbeats up to
 * `max_converge_attempts`, then reports them failed until the next
 * set_config.
 *
 * An agent that never received a desired state does nothing to the host:
 * "no desired state" is not "desire nothing".
 */
import { AgentError, toAgentError, type StateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { desiredHash } from '../protocol/canonical-json.js';
import type { ActualApp, DesiredApps, HostStatus } from '../protocol/bbone/types.js';
import type { DesiredStateStore } from '../state/desired-state-store.js';
import type { ManagedAppsStore } from '../state/managed-apps-store.js';
import type { AppsController, AppsSnapshot } from './apps-controller.js';
import { executeActions, type ExecutorDeps } from './executor.js';
import { observeHost, type ObserveCaches } from './observe.js';
import { planActions } from './plan.js';
import type { Action, ObservedApp } from './types.js';

export interface ReconcilerDeps extends ExecutorDeps {
  store: DesiredStateStore;
  managedStore: ManagedAppsStore;
  maxAttempts: number;
  driftCheckMs: number;
  now?: () => number;
}

export class Reconciler implements AppsController {
  private desired: DesiredApps | undefined;
  private hash: string | null = null;
  private observed = new Map<string, ObservedApp>();
  private managed = new Set<string>();
  private readonly bound = new Set<string>();
  private readonly caches: ObserveCaches = { configs: new Map(), services: new Map() };
  private readonly attempts = new Map<string, number>();
  private readonly errors = new Map<string, AgentError>();
  private readonly gaveUp = new Set<string>();
  private readonly listeners: Array<(info?: { ms?: number }) => void> = [];
  /** Listeners of a converge's progress (the control socket's converge task). */
  private readonly progress = new Set<(done: number, total: number, msg: string) => void>();
  private actionsDone = 0;
  private actionsTotal = 0;
  private running: Promise<void> | undefined;
  private pending = false;
  private lastFullRead = -Infinity;
  private stateError: StateError | undefined;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly deps: ReconcilerDeps) {
    this.log = deps.logger;
    this.now = deps.now ?? Date.now;
  }

  async init(): Promise<void> {
    this.desired = await this.deps.store.load();
    this.stateError = this.deps.store.lastLoadError;
    this.hash = this.desired ? desiredHash(this.desired) : null;
    this.managed = await this.deps.managedStore.load().catch((err: unknown) => {
      this.log.error({ event: 'state.corrupt', error: toAgentError(err).message }, 'managed apps list unreadable; only pf9app packages will be removed');
      return new Set<string>();
    });
    await this.deps.services.init();
    this.kick('start');
  }

  async setDesired(apps: DesiredApps): Promise<void> {
    await this.deps.store.save(apps);
    this.desired = apps;
    this.hash = desiredHash(apps);
    this.stateError = undefined;
    // A new desired state is a fresh start for every app, given-up ones included.
    this.attempts.clear();
    this.errors.clear();
    this.gaveUp.clear();
    this.kick('set_config');
  }

  async tick(): Promise<void> {
    if (this.running || !this.desired) return;
    await this.observe();
    if (this.plan().length > 0) this.kick('drift');
  }

  onSettled(listener: (info?: { ms?: number }) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Looks at the host now, converges if it differs, and reports progress
   * (actions done of the plan, bytes of downloads) until that converge (or
   * the one already running) has ended.
   */
  async convergeNow(progress: (done: number, total: number, msg: string) => void): Promise<void> {
    this.progress.add(progress);
    try {
      if (!this.running) await this.tick();
      await this.idle();
    } finally {
      this.progress.delete(progress);
    }
  }

  /** Download progress from the downloader, passed on to progress listeners. */
  reportDownload(app: string, bytes: number, total: number | undefined): void {
    const of = total === undefined ? '' : ` of ${total}`;
    this.emitProgress(`downloading ${app}: ${bytes}${of} bytes`);
  }

  private emitProgress(msg: string): void {
    for (const p of this.progress) p(this.actionsDone, this.actionsTotal, msg);
  }

  async close(): Promise<void> {
    this.pending = false;
    await this.running;
    await this.deps.services.close();
  }

  /** Resolves when no converge is running (for tests and tools). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  snapshot(): AppsSnapshot {
    const apps: Record<string, ActualApp> = {};
    for (const [name, o] of this.observed) {
      if (!o.managed && !(this.desired && name in this.desired)) continue;
      apps[name] = { version: o.version, running: o.running, config: o.config ?? {} };
    }
    for (const [name, error] of this.errors) {
      const entry = apps[name] ?? { version: '', running: false, config: {} };
      const gaveUp = this.gaveUp.has(name) ? ` (gave up after ${this.attempts.get(name) ?? 0} attempts)` : '';
      apps[name] = { ...entry, error: { code: error.code, message: `${error.message}${gaveUp}` } };
    }
    let status: HostStatus = 'ok';
    if (this.errors.size > 0) status = 'errors';
    else if (this.running || (this.desired && this.plan().length > 0)) status = 'converging';
    return {
      status,
      apps,
      desiredHash: this.hash,
      ...(this.stateError ? { extra: { state_error: this.stateError.toJSON() } } : {}),
    };
  }

  private plan(): Action[] {
    return planActions(this.desired ?? {}, this.observed, { boundTopics: this.bound, skip: this.gaveUp });
  }

  private kick(reason: string): void {
    if (this.running) {
      this.pending = true;
      return;
    }
    const started = this.now();
    this.running = this.loop(reason).finally(() => {
      this.running = undefined;
      const ms = this.now() - started;
      for (const l of this.listeners) l({ ms });
    });
  }

  private async loop(reason: string): Promise<void> {
    do {
      this.pending = false;
      try {
        await this.convergeOnce(reason);
      } catch (err) {
        // Observing failed (package db unreadable...): report it on every desired app, retry next heartbeat.
        const error = toAgentError(err);
        this.log.error({ event: 'converge.failed', code: error.code, error: error.message }, 'converge failed');
        for (const app of Object.keys(this.desired ?? {})) this.errors.set(app, error);
      }
      reason = 'queued set_config';
    } while (this.pending);
  }

  private async observe(): Promise<void> {
    const full = this.now() - this.lastFullRead >= this.deps.driftCheckMs;
    this.observed = await observeHost(this.deps, this.caches, {
      managed: this.managed,
      desired: new Map(Object.entries(this.desired ?? {}).map(([name, app]) => [name, app.version])),
      fullConfigRead: full,
    });
    if (full) this.lastFullRead = this.now();
  }

  private async convergeOnce(reason: string): Promise<void> {
    if (!this.desired) return;
    await this.observe();
    const actions = this.plan();
    if (actions.length === 0) {
      // Nothing left to do, except for apps given up on: they stay failed until the next set_config.
      for (const app of [...this.errors.keys()]) if (!this.gaveUp.has(app)) this.errors.delete(app);
      return;
    }
    const started = this.now();
    this.log.info({ event: 'converge.started', reason, actions: actions.length, desired_hash: this.hash }, 'converging');
    this.actionsDone = 0;
    this.actionsTotal = actions.length;
    this.emitProgress(`converging: ${actions.length} actions`);
    const result = await executeActions(actions, {
      ...this.deps,
      onAction: (a, err) => {
        this.actionsDone++;
        this.emitProgress(`${a.kind} ${a.app}${err ? ` failed: ${err.message}` : ''}`);
        this.deps.onAction?.(a, err);
      },
    });

    for (const app of result.installed) this.managed.add(app);
    for (const app of result.removed) this.managed.delete(app);
    if (result.installed.length + result.removed.length > 0) await this.deps.managedStore.save(this.managed);
    for (const [app, config] of result.configs) this.caches.configs.set(app, config);
    for (const app of result.removed) this.caches.configs.delete(app);

    for (const app of new Set(actions.map((a) => a.app))) {
      const error = result.failed.get(app);
      if (!error) {
        this.attempts.delete(app);
        this.errors.delete(app);
        continue;
      }
      const n = (this.attempts.get(app) ?? 0) + 1;
      this.attempts.set(app, n);
      this.errors.set(app, error);
      if (n >= this.deps.maxAttempts) this.gaveUp.add(app);
    }
    for (const a of actions) {
      if (a.kind === 'bind_topic' && !result.failed.has(a.app)) this.bound.add(a.app);
      if (a.kind === 'unbind_topic' && !result.failed.has(a.app)) this.bound.delete(a.app);
    }
    await this.observe();
    this.log.info(
      { event: 'converge.finished', ms: this.now() - started, failed: [...result.failed.keys()], remaining: this.plan().length },
      'converge finished',
    );
  }
}
