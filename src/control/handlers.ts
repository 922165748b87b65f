/**
 * What the control socket needs from the agent. agent/ implements it; control/
 * knows nothing else of the agent (it is a sibling of reconcile/ and lb/ and
 * must not import them), so a converge arrives here as a function.
 */
import type { TaskReporter } from './tasks.js';

export interface ControlStatus {
  uptime_s: number;
  version: string;
  host_id: string;
  broker_connected: boolean;
  /** The last converge that ended, or null before the first. */
  last_converge: { finished_at: string; result: string; ms?: number } | null;
  /** The desired apps as the master sent them, null when none was ever received. */
  desired: Record<string, unknown> | null;
  /** What the agent observed on the host, as in the status message. */
  actual: Record<string, unknown>;
  /** Any other field the agent wants an operator to see (status, desired_hash, ...). */
  [extra: string]: unknown;
}

export interface ControlHandlers {
  status(): Promise<ControlStatus | Record<string, unknown>>;
  /** Runs a converge now and resolves when it has ended; rejects (task state error) when it failed. */
  converge(report: TaskReporter): Promise<void>;
  /** Calls `listener` with every structured log line the agent writes; returns the unsubscribe function. */
  subscribeLogs(listener: (line: string) => void): () => void;
}
