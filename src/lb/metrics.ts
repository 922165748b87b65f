/**
 * METRICS reports traffic since the previous METRICS, while the proxy only
 * offers cumulative counters: the worker keeps the last raw counters it saw
 * and reports differences. A counter that went down means the proxy started
 * counting again (a restart; an HAProxy reload gives the new worker fresh
 * counters), so its whole current value is what happened since.
 * current_sessions is a gauge and is reported as it is.
 *
 * The first window starts when the agent (or the current engine) started,
 * from a baseline read then; without one, the first report holds whatever
 * the proxy counted before.
 */
import type { LbCounters, LoadBalancer } from './model.js';

export interface MetricsReport {
  utc_start: string;
  utc_end: string;
  loadbalancers: LbCounters[];
}

export class MetricsWindow {
  private start: Date;
  private previous = new Map<string, LbCounters>();

  constructor(start: Date) {
    this.start = start;
  }

  /** A new window from `at`, counting from `baseline` (raw counters then). */
  reset(at: Date, baseline: readonly LbCounters[] = []): void {
    this.start = at;
    this.previous = new Map(baseline.map((c) => [c.id, c]));
  }

  /**
   * The differences since the window started, for the load balancers of the
   * model (in its order; one the proxy did not report counts zeros); the
   * next window starts now, from `current`.
   */
  take(current: readonly LbCounters[], lbs: readonly LoadBalancer[], at: Date): MetricsReport {
    const now = new Map(current.map((c) => [c.id, c]));
    const loadbalancers = lbs.map((lb): LbCounters => {
      const cur = now.get(lb.id);
      const prev = this.previous.get(lb.id);
      return {
        id: lb.id,
        protocol: lb.protocol,
        bytes_in: delta(cur?.bytes_in, prev?.bytes_in),
        bytes_out: delta(cur?.bytes_out, prev?.bytes_out),
        current_sessions: cur?.current_sessions ?? 0,
        total_sessions: delta(cur?.total_sessions, prev?.total_sessions),
      };
    });
    const report = { utc_start: this.start.toISOString(), utc_end: at.toISOString(), loadbalancers };
    this.reset(at, current);
    return report;
  }
}

function delta(current: number | undefined, previous: number | undefined): number {
  if (current === undefined) return 0;
  if (previous === undefined || current < previous) return current;
  return current - previous;
}
