/**
 * The LbEngine for HAProxy 2.6 in master-worker mode.
 *
 * apply(state) takes the cheapest safe path (plan.ts): nothing; runtime API
 * commands (weights, ENABLED/DISABLED, TCP node added, node removed); or a
 * reload through the master CLI of a config `haproxy -c` accepted first. A
 * runtime path that fails half way falls back to that reload, which makes
 * HAProxy match the state whatever the commands did. The config on disk is
 * rewritten after runtime changes too, so it always says what runs and a
 * restart brings back the same state. Before a reload the servers' state
 * (`show servers state`) goes to the `server-state-file` the new worker
 * loads, so it does not forget which nodes are down.
 *
 * HAProxy outlives the agent (see process.ts); a new engine on the same run
 * dir finds it through the pid file and master socket instead of starting a
 * second one. Not knowing which state the running config was rendered from,
 * its first apply compares text: equal means nothing to do (and from then on
 * the state is known), otherwise a reload.
 *
 * Calls that change things run one at a time, in order of arrival.
 */
import { writeFile } from 'node:fs/promises';
import { LbError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { LbEngine } from '../engine.js';
import type { LbCounters, LbNodeStats, LbState } from '../model.js';
import { ConfigFiles } from './config-files.js';
import { LogCapture } from './log-capture.js';
import { planChange } from './plan.js';
import * as proc from './process.js';
import { reloadAndWait, waitStarted, type WaitContext } from './reload.js';
import { listeningPorts, renderHaproxyConfig, type RenderOptions } from './render.js';
import { MasterCli, RuntimeApi } from './runtime-api.js';
import { applyRuntimeSteps } from './runtime-changes.js';
import { withoutMaintServers, type StatRow } from './runtime-parse.js';
import { countersFromRows, nodeStatsFromRows } from './stats.js';

export interface HaproxyEngineOptions {
  /** Dedicated to this engine: config, sockets, pid, state, tls/, logs/. */
  runDir: string;
  bindAddress: string;
  haproxyBin?: string;
  logger: Logger;
  /** Start or reload until the new worker serves; default 10 s. */
  reloadTimeoutMs?: number;
  /** A removed node's sessions may take this long to end before they are cut; default 30 s. */
  drainTimeoutMs?: number;
  /** Old workers are stopped this long after a reload; default 5 min. */
  hardStopAfterMs?: number;
  /** How often HAProxy's log lines are split per load balancer; default 10 s, 0 = only when read. */
  logCollectIntervalMs?: number;
  logMaxBytesPerLb?: number;
}

export class HaproxyEngine implements LbEngine {
  readonly kind = 'haproxy' as const;
  private readonly paths: proc.HaproxyPaths;
  private readonly bin: string;
  private readonly log: Logger;
  private readonly reloadTimeoutMs: number;
  private readonly drainTimeoutMs: number;
  private readonly renderOpts: RenderOptions;
  private readonly admin: RuntimeApi;
  private readonly master: MasterCli;
  private readonly capture: LogCapture;
  private readonly files: ConfigFiles;
  private readonly collectEveryMs: number;
  private collectTimer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private running: proc.MasterProcess | undefined;
  /** The state the running config was rendered from; undefined when not known (not running, or re-attached). */
  private current: LbState | undefined;

  constructor(opts: HaproxyEngineOptions) {
    if (!opts.runDir) throw new LbError('LB_APPLY_FAILED', 'HaproxyEngine: runDir is required');
    if (!opts.bindAddress) throw new LbError('LB_APPLY_FAILED', 'HaproxyEngine: bindAddress is required (lb.bind_address)');
    this.paths = proc.haproxyPaths(opts.runDir);
    // sun_path holds 107 bytes, and HAProxy binds a unix socket as "<path>.<pid>.tmp" before renaming it.
    if (Buffer.byteLength(this.paths.masterSocket) > 107 - '.4194304.tmp'.length) {
      throw new LbError('LB_APPLY_FAILED', `HaproxyEngine: runDir ${opts.runDir} is too long for unix socket paths; use a shorter lb.run_dir`);
    }
    this.bin = opts.haproxyBin ?? '/usr/sbin/haproxy';
    this.log = opts.logger;
    this.reloadTimeoutMs = opts.reloadTimeoutMs ?? 10_000;
    this.drainTimeoutMs = opts.drainTimeoutMs ?? 30_000;
    this.renderOpts = {
      bindAddress: opts.bindAddress,
      runDir: opts.runDir,
      stateFile: this.paths.stateFile,
      logTarget: 'stdout',
      hardStopAfterMs: opts.hardStopAfterMs,
    };
    this.admin = new RuntimeApi(this.paths.adminSocket);
    this.master = new MasterCli(this.paths.masterSocket);
    this.capture = new LogCapture({ source: this.paths.logOut, dir: this.paths.logDir, maxBytesPerLb: opts.logMaxBytesPerLb });
    this.collectEveryMs = opts.logCollectIntervalMs ?? 10_000;
    this.files = new ConfigFiles(this.paths, this.bin);
  }

  /** Pid of the master process, when one runs (for tests and diagnostics). */
  get masterPid(): number | undefined {
    return this.running?.pid;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private get waitCtx(): WaitContext {
    return { paths: this.paths, master: this.master, admin: this.admin, timeoutMs: this.reloadTimeoutMs };
  }

  apply(state: LbState): Promise<void> {
    return this.serial(() => this.applyNow(state));
  }

  private async applyNow(state: LbState): Promise<void> {
    const text = renderHaproxyConfig(state, this.renderOpts);
    await this.files.ensureDirs();
    const onDisk = await this.files.read();
    const running = await this.attach();
    // Ports the running HAProxy holds cannot be probed; with its config gone (removed by hand) none can be told apart.
    if (!running || onDisk !== undefined) {
      const held = onDisk !== undefined && running ? listeningPorts(onDisk) : new Set<number>();
      await proc.checkPortsFree(this.renderOpts.bindAddress, [...listeningPorts(text)].filter((p) => !held.has(p)));
    }
    if (!running) {
      await this.files.validate(state, text);
      await this.start(onDisk);
    } else if (onDisk === text) {
      this.log.debug({ event: 'lb.haproxy.unchanged' }, 'haproxy config unchanged');
    } else {
      const plan = this.current ? planChange(this.current, state) : { kind: 'reload' as const, reason: 're-attached' };
      if (plan.kind === 'none') {
        await this.files.write(text); // same servers, e.g. listed in another order
      } else if (plan.kind === 'runtime' && (await this.tryRuntime(state, text, plan.steps))) {
        await this.files.write(text);
      } else {
        if (plan.kind === 'reload') this.log.info({ event: 'lb.haproxy.reload', reason: plan.reason }, 'reloading haproxy');
        await this.files.validate(state, text);
        await this.reload(onDisk);
      }
    }
    this.current = state;
    await this.files.prunePems(state);
  }

  /** True when the runtime API did it; false (logged) when a reload must finish the job. */
  private async tryRuntime(state: LbState, text: string, steps: Parameters<typeof applyRuntimeSteps>[1]): Promise<boolean> {
    // An added server carries an address HAProxy may not accept: check the config it will be part of first.
    if (steps.some((s) => s.kind === 'add')) await this.files.validate(state, text);
    try {
      await applyRuntimeSteps(this.admin, steps, {
        drainTimeoutMs: this.drainTimeoutMs,
        onDrainTimeout: (lbId, nodeId, sessions) =>
          this.log.warn({ event: 'lb.haproxy.drain_timeout', lb: lbId, node: nodeId, sessions }, 'cutting sessions of a removed node'),
      });
      this.log.info({ event: 'lb.haproxy.runtime', steps: steps.map((s) => s.kind) }, 'applied through the runtime API');
      return true;
    } catch (err) {
      this.log.warn({ event: 'lb.haproxy.runtime_failed', err: (err as Error).message }, 'runtime API change failed, reloading');
      if (!steps.some((s) => s.kind === 'add')) await this.files.validate(state, text);
      return false;
    }
  }

  private async start(previous: string | undefined): Promise<void> {
    await this.files.installCandidate();
    // A fresh start probes every server again instead of trusting health seen by an earlier run.
    // "1" is the format version line; HAProxy warns about a file without one.
    await writeFile(this.paths.stateFile, '1\n', { mode: 0o600 });
    const errFrom = await proc.fileSize(this.paths.logErr);
    const m = await proc.spawnMaster(this.bin, this.paths);
    try {
      await waitStarted(this.waitCtx, m.exited ?? new Promise(() => undefined), errFrom);
    } catch (err) {
      await proc.stopMaster(m, 2000, () => undefined).catch(() => undefined);
      await this.files.restore(previous);
      throw err;
    }
    this.running = m;
    this.startCollecting();
    this.log.info({ event: 'lb.haproxy.started', pid: m.pid }, 'haproxy started');
  }

  private async reload(previous: string | undefined): Promise<void> {
    try {
      await writeFile(this.paths.stateFile, withoutMaintServers(await this.admin.showServersState()), { mode: 0o600 });
    } catch (err) {
      this.log.warn({ event: 'lb.haproxy.state_save_failed', err: (err as Error).message }, 'server state not saved before reload');
    }
    await this.files.installCandidate();
    try {
      await reloadAndWait(this.waitCtx);
    } catch (err) {
      await this.files.restore(previous);
      throw err;
    }
  }

  /** The running master (found again after an agent restart), or undefined when none runs. */
  private async attach(): Promise<proc.MasterProcess | undefined> {
    if (this.running && (await proc.isMasterAlive(this.paths, this.running))) return this.running;
    this.running = undefined;
    this.current = undefined;
    const found = await proc.findMaster(this.paths);
    if (!found) return undefined;
    try {
      await this.master.showProc();
    } catch (err) {
      throw new LbError('LB_APPLY_FAILED', `haproxy (pid ${found.pid}) runs but its master socket does not answer: ${(err as Error).message}`);
    }
    this.running = found;
    this.startCollecting();
    this.log.info({ event: 'lb.haproxy.attached', pid: found.pid }, 'found running haproxy');
    return found;
  }

  private startCollecting(): void {
    if (this.collectTimer || this.collectEveryMs <= 0) return;
    this.collectTimer = setInterval(() => {
      this.capture.collect().catch((err: unknown) => this.log.warn({ event: 'lb.haproxy.log_capture_failed', err: (err as Error).message }, 'log capture failed'));
    }, this.collectEveryMs);
    this.collectTimer.unref();
  }

  private stopCollecting(): void {
    clearInterval(this.collectTimer);
    this.collectTimer = undefined;
  }

  stop(): Promise<void> {
    return this.serial(async () => {
      const m = this.running ?? (await proc.findMaster(this.paths));
      if (m) {
        await this.capture.collect().catch(() => undefined);
        await proc.stopMaster(m, 5000, () => this.log.warn({ event: 'lb.haproxy.kill', pid: m.pid }, 'haproxy ignored SIGTERM, killing'));
        this.log.info({ event: 'lb.haproxy.stopped', pid: m.pid }, 'haproxy stopped');
      }
      this.stopCollecting();
      this.running = undefined;
      this.current = undefined;
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    await this.serial(() => this.files.removeAll());
  }

  async stats(): Promise<Array<{ id: string; nodes: LbNodeStats[] }>> {
    return nodeStatsFromRows(await this.readStat());
  }

  async counters(): Promise<LbCounters[]> {
    return countersFromRows(await this.readStat());
  }

  private async readStat(): Promise<StatRow[]> {
    try {
      return await this.admin.showStat();
    } catch (err) {
      throw new LbError('LB_APPLY_FAILED', `haproxy stats socket: ${(err as Error).message}`, { cause: err });
    }
  }

  async health(): Promise<{ running: boolean; configValid: boolean }> {
    const running = await this.master.showProc().then(
      (p) => p.workers.length > 0,
      () => false,
    );
    return { running, configValid: await this.files.onDiskValid() };
  }

  logs(lbId: string): Promise<string> {
    return this.capture.read(lbId);
  }

  async close(): Promise<void> {
    this.stopCollecting();
    await this.queue;
  }
}
