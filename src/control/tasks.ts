/**
 * Tasks started over the control socket (today: converge). A task has an id,
 * a state (running -> complete | error), a percent that never goes back, an
 * eta estimated from the rate so far, and a message.
 *
 * Updates are throttled at the source: a download may report progress for
 * every chunk, and each update becomes one line to every subscribed client,
 * so an update is emitted only when the whole percent or the message changes.
 */
import type { TaskState, TaskStatusParams } from '../protocol/teeth.js';

/** What a running task uses to say how far it got. The agent's converge receives one. */
export interface TaskReporter {
  /** percent is clamped to 0..100 and never decreases; msg, when given, replaces the message. */
  progress(percent: number, msg?: string): void;
  /** Progress as a fraction of work units (actions done, bytes downloaded). */
  step(done: number, total: number, msg?: string): void;
  /** Replaces the message only. */
  note(msg: string): void;
}

export interface TaskInfo extends TaskStatusParams {
  kind: string;
  started_at: string;
  finished_at?: string;
}

export type TaskListener = (task: TaskInfo) => void;

export interface TaskRegistryOptions {
  /** Finished tasks kept for task_status queries; the oldest go first. */
  keepFinished?: number;
  now?: () => number;
}

interface Entry {
  info: TaskInfo;
  startedMs: number;
  lastEmitted: { whole: number; msg: string };
}

export class TaskRegistry {
  private readonly tasks = new Map<string, Entry>();
  private readonly listeners = new Set<TaskListener>();
  private readonly keepFinished: number;
  private readonly now: () => number;
  private seq = 0;

  constructor(opts: TaskRegistryOptions = {}) {
    this.keepFinished = opts.keepFinished ?? 20;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Starts `run` as a task of `kind`, unless one of that kind is running: then
   * that one is returned (joined = true). Two converges at once would only
   * queue in the reconciler anyway, and one id to follow is clearer.
   */
  start(kind: string, run: (reporter: TaskReporter) => Promise<void>): { task: TaskInfo; joined: boolean } {
    for (const entry of this.tasks.values()) {
      if (entry.info.kind === kind && entry.info.state === 'running') return { task: { ...entry.info }, joined: true };
    }
    this.seq += 1;
    const startedMs = this.now();
    const info: TaskInfo = {
      task_id: `${kind}-${startedMs.toString(36)}-${this.seq}`,
      kind,
      state: 'running',
      percent: 0,
      eta: null,
      msg: 'started',
      started_at: new Date(startedMs).toISOString(),
    };
    const entry: Entry = { info, startedMs, lastEmitted: { whole: 0, msg: info.msg } };
    this.tasks.set(info.task_id, entry);
    this.emit(entry);
    const reporter = this.reporterFor(entry);
    // Run on a later turn of the event loop, so the caller's {task_id} reply is written before the first push.
    void new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => run(reporter))
      .then(
        () => this.finish(entry, 'complete', entry.info.msg === 'started' ? 'done' : entry.info.msg),
        (err: unknown) => this.finish(entry, 'error', err instanceof Error ? err.message : String(err)),
      );
    return { task: { ...info }, joined: false };
  }

  get(taskId: string): TaskInfo | undefined {
    const entry = this.tasks.get(taskId);
    return entry ? { ...entry.info } : undefined;
  }

  list(): TaskInfo[] {
    return [...this.tasks.values()].map((e) => ({ ...e.info }));
  }

  onUpdate(listener: TaskListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private reporterFor(entry: Entry): TaskReporter {
    const update = (percent: number | undefined, msg: string | undefined): void => {
      const info = entry.info;
      if (info.state !== 'running') return; // a late report after the task ended changes nothing
      if (percent !== undefined && Number.isFinite(percent)) {
        info.percent = Math.max(info.percent, Math.min(100, Math.max(0, percent)));
      }
      if (msg !== undefined) info.msg = msg;
      info.eta = this.estimate(entry);
      const whole = Math.floor(info.percent);
      if (whole !== entry.lastEmitted.whole || info.msg !== entry.lastEmitted.msg) this.emit(entry);
    };
    return {
      progress: (percent, msg) => update(percent, msg),
      step: (done, total, msg) => update(total > 0 ? (done / total) * 100 : undefined, msg),
      note: (msg) => update(undefined, msg),
    };
  }

  /** Linear extrapolation: the time spent so far, scaled to the part still to do. */
  private estimate(entry: Entry): number | null {
    const { percent } = entry.info;
    if (percent <= 0 || percent >= 100) return percent >= 100 ? 0 : null;
    const elapsedSec = (this.now() - entry.startedMs) / 1000;
    return Math.round((elapsedSec * (100 - percent)) / percent);
  }

  private finish(entry: Entry, state: TaskState, msg: string): void {
    const info = entry.info;
    info.state = state;
    info.msg = msg;
    info.eta = state === 'complete' ? 0 : null;
    if (state === 'complete') info.percent = 100;
    info.finished_at = new Date(this.now()).toISOString();
    this.emit(entry);
    this.prune();
  }

  private prune(): void {
    const finished = [...this.tasks.values()].filter((e) => e.info.state !== 'running');
    for (const old of finished.slice(0, Math.max(0, finished.length - this.keepFinished))) this.tasks.delete(old.info.task_id);
  }

  private emit(entry: Entry): void {
    entry.lastEmitted = { whole: Math.floor(entry.info.percent), msg: entry.info.msg };
    const snapshot = { ...entry.info };
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch {
        // A listener's failure (e.g. a socket gone) must not stop the task or the other listeners.
      }
    }
  }
}
