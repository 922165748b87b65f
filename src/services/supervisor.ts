/**
 * The built-in service manager, for hosts and test machines without
 * systemd: runs an app's service from the unit file its package installed
 * (see unit-file.ts for what is honoured), restarts it per Restart=, and
 * records each process in `<stateDir>/services/<name>.pid` so that a
 * restarted agent re-adopts what it left running instead of starting
 * duplicates.
 *
 * Children are detached (own session and process group) and unref'd: the
 * agent may exit, crash or be upgraded and services keep running (fail
 * static). Only processes this agent spawned report their exit; an adopted
 * process (found through its pid file at init) is not our child, so its
 * death is only seen by activeStates() and the reconciler's next start().
 *
 * Operations on one service run one at a time (a queue per name), and the
 * exit of a child is handled on the same queue, so a start, a stop and a
 * crash never interleave.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { planLaunch, spawnDetached } from './launch.js';
import { listPidFiles, readPidFile, removePidFile, writePidFile, type PidRecord } from './pid-file.js';
import { isProcessAlive, readProcStat } from './proc.js';
import { killLeftovers, mayBeOurGroup, signalGroup, terminateGroup } from './process-group.js';
import { classifyExit, DEFAULT_BACKOFF, restartDelayMs, shouldRestart, type BackoffOptions } from './restart-policy.js';
import { assertServiceName } from './service-name.js';
import type { ServiceManager } from './types.js';
import { DEFAULT_RESTART_SEC_MS, loadUnit, type RestartPolicy } from './unit-file.js';

export interface SupervisorTimer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SupervisorOptions {
  /** Install root (packages.root): unit files and programs are found under it; children get it as PF9_ROOT. */
  root: string;
  /** Pid files go to `<stateDir>/services/`. */
  stateDir: string;
  /** Where `<name>.log` (stdout and stderr, appended) goes; default `<stateDir>/services`. */
  logDir?: string;
  logger: Logger;
  /** Schedules restarts; default real timers, unref'd. */
  timer?: SupervisorTimer;
  /** Milliseconds clock, to measure how long a run lasted. */
  now?: () => number;
  /** SIGTERM to SIGKILL, ms. Default 10 s. */
  stopTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
}

const realTimer: SupervisorTimer = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Proc {
  pid: number;
  startTime: number;
  /** Absent for an adopted process: no exit event will come. */
  child?: ChildProcess;
  spawnedAt: number;
  restart: RestartPolicy;
  ignoreFailure: boolean;
}

interface Slot {
  /** The process we believe runs the service. */
  current?: Proc;
  /** Last process started or adopted, kept after it exits so its leftover group can be killed. */
  last?: { pid: number; startTime: number };
  /** Start was asked for and no stop since: exits are restarted per Restart=. */
  wanted: boolean;
  restartTimer?: unknown;
  quickExits: number;
  restartSecMs: number;
  queue: Promise<void>;
}

export class Supervisor implements ServiceManager {
  readonly kind = 'supervisor' as const;
  private readonly root: string;
  private readonly pidDir: string;
  private readonly logDir: string;
  private readonly log: Logger;
  private readonly timer: SupervisorTimer;
  private readonly now: () => number;
  private readonly stopTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly slots = new Map<string, Slot>();
  private closed = false;

  constructor(opts: SupervisorOptions) {
    if (!opts.root.startsWith('/')) throw new AppError('SERVICE_FAILED', `supervisor root must be an absolute path, got "${opts.root}"`);
    if (!opts.stateDir.startsWith('/')) throw new AppError('SERVICE_FAILED', `supervisor stateDir must be an absolute path, got "${opts.stateDir}"`);
    this.root = opts.root;
    this.pidDir = join(opts.stateDir, 'services');
    this.logDir = opts.logDir ?? this.pidDir;
    this.log = opts.logger;
    this.timer = opts.timer ?? realTimer;
    this.now = opts.now ?? Date.now;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
  }

  async init(): Promise<void> {
    for (const name of await listPidFiles(this.pidDir)) {
      const slot = this.slot(name);
      await this.serial(slot, async () => {
        const record = await readPidFile(this.pidDir, name);
        if (record !== undefined && record !== 'corrupt' && (await isProcessAlive(record.pid, record.startTime))) {
          this.adopt(slot, record);
          slot.wanted = true;
          this.log.info({ event: 'service.adopted', service: name, pid: record.pid }, 'service already running, adopted');
        } else {
          await removePidFile(this.pidDir, name);
          this.log.info({ event: 'service.stale_pid_file', service: name, pid: record === 'corrupt' ? null : record?.pid }, 'removed stale pid file');
        }
      });
    }
  }

  async start(service: string): Promise<void> {
    assertServiceName(service);
    const slot = this.slot(service);
    return this.serial(slot, async () => {
      slot.wanted = true;
      this.cancelRestart(slot);
      if (await this.running(service, slot)) return;
      await this.spawn(service, slot);
    });
  }

  async stop(service: string): Promise<void> {
    assertServiceName(service);
    const slot = this.slot(service);
    return this.serial(slot, async () => {
      slot.wanted = false;
      this.cancelRestart(slot);
      const record = await readPidFile(this.pidDir, service);
      const targets = [slot.current, slot.last, record === 'corrupt' ? undefined : record];
      slot.current = undefined;
      const seen = new Set<number>();
      for (const t of targets) {
        if (!t || seen.has(t.pid)) continue;
        seen.add(t.pid);
        await terminateGroup(service, t.pid, t.startTime, this.stopTimeoutMs, () =>
          this.log.warn({ event: 'service.kill', service, pid: t.pid, afterMs: this.stopTimeoutMs }, 'service ignored SIGTERM, sending SIGKILL'),
        );
      }
      slot.last = undefined;
      await removePidFile(this.pidDir, service);
    });
  }

  async restart(service: string): Promise<void> {
    await this.stop(service);
    await this.start(service);
  }

  /**
   * /proc only, for the processes this supervisor started or adopted: every
   * pid file was adopted or removed by init(), and every start since went
   * through us, so memory knows what disk would say. A heartbeat over 100
   * stopped services thus costs no file system call at all.
   */
  async activeStates(services: readonly string[]): Promise<Map<string, boolean>> {
    const states = await Promise.all(
      services.map(async (name): Promise<[string, boolean]> => {
        const cur = this.slots.get(name)?.current;
        return [name, cur !== undefined && (await isProcessAlive(cur.pid, cur.startTime))];
      }),
    );
    return new Map(states);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots.values()) this.cancelRestart(slot);
    await Promise.all([...this.slots.values()].map((s) => s.queue));
  }

  private slot(name: string): Slot {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = { wanted: false, quickExits: 0, restartSecMs: DEFAULT_RESTART_SEC_MS, queue: Promise.resolve() };
      this.slots.set(name, slot);
    }
    return slot;
  }

  private serial<T>(slot: Slot, fn: () => Promise<T>): Promise<T> {
    const run = slot.queue.then(fn);
    slot.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private adopt(slot: Slot, record: PidRecord): void {
    slot.current = { pid: record.pid, startTime: record.startTime, spawnedAt: this.now(), restart: 'no', ignoreFailure: false };
    slot.last = { pid: record.pid, startTime: record.startTime };
  }

  /** True when a process runs the service, adopting one recorded in its pid file; clears stale records. */
  private async running(name: string, slot: Slot): Promise<boolean> {
    const cur = slot.current;
    if (cur && (await isProcessAlive(cur.pid, cur.startTime))) return true;
    const record = await readPidFile(this.pidDir, name);
    if (record === undefined) return false;
    if (record !== 'corrupt' && (await isProcessAlive(record.pid, record.startTime))) {
      this.adopt(slot, record);
      return true;
    }
    await removePidFile(this.pidDir, name);
    return false;
  }

  private async spawn(name: string, slot: Slot): Promise<void> {
    const { file, spec } = await loadUnit(this.root, name);
    for (const w of spec.warnings) this.log.warn({ event: 'service.unit_warning', service: name, file, warning: w }, w);
    if (spec.type === 'forking') {
      throw new AppError('SERVICE_FAILED', `${file}: Type=forking is not supported by the built-in supervisor (the daemon would be lost and started again); use Type=simple or the systemd driver`);
    }
    slot.restartSecMs = spec.restartSecMs;
    const plan = await planLaunch(spec, { root: this.root, canSwitchUser: process.getuid?.() === 0 });
    for (const w of plan.warnings) this.log.warn({ event: 'service.launch_warning', service: name, warning: w }, w);
    // Members of an earlier run's group that outlived it (ignored SIGTERM at its exit) go now.
    if (slot.last) await killLeftovers(slot.last.pid, slot.last.startTime);
    await mkdir(this.logDir, { recursive: true, mode: 0o755 });
    const { child, exited } = await spawnDetached(plan, join(this.logDir, `${name}.log`));
    const pid = child.pid;
    if (pid === undefined) throw new AppError('SERVICE_FAILED', `${name}: spawned without a pid`);
    const proc: Proc = { pid, startTime: -1, child, spawnedAt: this.now(), restart: spec.restart, ignoreFailure: spec.execStart.ignoreFailure };
    child.on('error', (err) => this.log.warn({ event: 'service.child_error', service: name, pid, err: err.message }, 'child process error'));
    void exited.then(({ code, signal }) =>
      this.serial(slot, () => this.onExit(name, slot, proc, code, signal)).catch((err: unknown) =>
        this.log.error({ event: 'service.exit_handling_failed', service: name, err: (err as Error).message }, 'handling a service exit failed'),
      ),
    );
    slot.current = proc;
    // A process that died at once may be gone already; its exit, queued behind us, cleans up.
    const stat = await readProcStat(pid);
    if (stat) {
      proc.startTime = stat.startTime;
      slot.last = { pid, startTime: stat.startTime };
      try {
        await writePidFile(this.pidDir, name, { pid, startTime: stat.startTime, argv: plan.argv, startedAt: new Date().toISOString() });
      } catch (err) {
        // Unrecorded, it would be started a second time by the next agent: better not run it at all.
        slot.current = undefined;
        signalGroup(pid, 'SIGKILL');
        throw new AppError('SERVICE_FAILED', `${name}: cannot write its pid file, so it was stopped again: ${(err as Error).message}`, { cause: err });
      }
    }
    this.log.info({ event: 'service.started', service: name, pid, argv: plan.argv }, 'service started');
  }

  private async onExit(name: string, slot: Slot, proc: Proc, code: number | null, signal: string | null): Promise<void> {
    // The main process is gone: ask what it left in its group to go too, as systemd does before a restart.
    if (await mayBeOurGroup(proc.pid, proc.startTime)) signalGroup(proc.pid, 'SIGTERM');
    if (slot.current !== proc) return; // stopped, or replaced by a newer start
    slot.current = undefined;
    await removePidFile(this.pidDir, name, proc.pid);
    const kind = classifyExit(code, signal, proc.ignoreFailure);
    const ranMs = this.now() - proc.spawnedAt;
    slot.quickExits = ranMs >= this.backoff.stableAfterMs ? 0 : slot.quickExits + 1;
    const restart = slot.wanted && !this.closed && shouldRestart(proc.restart, kind);
    const delayMs = restart ? restartDelayMs(slot.restartSecMs, slot.quickExits, this.backoff) : undefined;
    this.log.warn({ event: 'service.exited', service: name, pid: proc.pid, code, signal, kind, ranMs, restartInMs: delayMs }, 'service exited');
    if (delayMs !== undefined) this.scheduleRestart(name, slot, delayMs);
  }

  private scheduleRestart(name: string, slot: Slot, delayMs: number): void {
    this.cancelRestart(slot);
    slot.restartTimer = this.timer.setTimeout(() => {
      slot.restartTimer = undefined;
      this.serial(slot, async () => {
        if (!slot.wanted || this.closed || (await this.running(name, slot))) return;
        try {
          await this.spawn(name, slot);
        } catch (err) {
          // Counts as a quick exit, so a broken unit or missing program is retried ever more slowly.
          slot.quickExits++;
          const next = restartDelayMs(slot.restartSecMs, slot.quickExits, this.backoff);
          this.log.error({ event: 'service.restart_failed', service: name, err: (err as Error).message, restartInMs: next }, 'restart failed');
          this.scheduleRestart(name, slot, next);
        }
      }).catch(() => undefined);
    }, delayMs);
  }

  private cancelRestart(slot: Slot): void {
    if (slot.restartTimer !== undefined) this.timer.clearTimeout(slot.restartTimer);
    slot.restartTimer = undefined;
  }
}
