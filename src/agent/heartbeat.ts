/**
 * Periodic status. Each period is stretched or shrunk by up to `jitter`
 * (5% by default) at random, so a fleet started together (a datacenter power
 * cycle) drifts apart instead of beating in step against the broker.
 * Scheduling is a chain of single timers rather than setInterval, so a slow
 * beat never overlaps the next one.
 */
import type { Timer } from './ports.js';

export interface HeartbeatOptions {
  periodMs: number;
  jitter?: number;
  timer: Timer;
  random?: () => number;
  beat: () => Promise<void>;
  onError: (err: unknown) => void;
}

export class Heartbeat {
  private handle: unknown;
  private running = false;

  constructor(private readonly opts: HeartbeatOptions) {}

  /** Next delay: period * (1 ± jitter). */
  nextDelay(): number {
    const jitter = this.opts.jitter ?? 0.05;
    const u = (this.opts.random ?? Math.random)() * 2 - 1;
    return Math.max(1, Math.round(this.opts.periodMs * (1 + jitter * u)));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.handle !== undefined) this.opts.timer.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private schedule(): void {
    this.handle = this.opts.timer.setTimeout(() => {
      void this.opts
        .beat()
        .catch((err: unknown) => this.opts.onError(err))
        .finally(() => {
          if (this.running) this.schedule();
        });
    }, this.nextDelay());
  }
}
