/**
 * What the Libra worker handler needs from a load-balancer engine. The
 * handler owns the model and its persistence; the engine makes the running
 * proxy match a state by the cheapest safe path, and reads back from it.
 */
import type { LbCounters, LbNodeStats, LbState } from './model.js';

export interface LbEngine {
  readonly kind: 'haproxy' | 'sozu';
  /**
   * Makes the proxy run `state` (starting it if needed). Throws AgentError
   * ('LB_INVALID' with the proxy's own words when the proxy rejects the
   * rendered config; 'LB_APPLY_FAILED' otherwise). When it throws, what ran
   * before still runs.
   */
  apply(state: LbState): Promise<void>;
  /** DELETE: stops the proxy, removes its config and logs. */
  destroy(): Promise<void>;
  /** Stops the proxy, keeping its config (the app's running=false). */
  stop(): Promise<void>;
  /** Per load balancer, per node: UP, DOWN or MAINT as the proxy sees them now. */
  stats(): Promise<Array<{ id: string; nodes: LbNodeStats[] }>>;
  /** Raw cumulative counters per load balancer (the handler computes differences). */
  counters(): Promise<LbCounters[]>;
  /** Whether the proxy runs and whether its config on disk is valid. */
  health(): Promise<{ running: boolean; configValid: boolean }>;
  /** The captured log lines of one load balancer (for ARCHIVE). */
  logs(lbId: string): Promise<string>;
  /** Agent shutdown: the proxy keeps running (fail static). */
  close(): Promise<void>;
}
