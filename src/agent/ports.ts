/**
 * What the agent hands messages to. The reconcile and load-balancer issues
 * provide the real implementations; the agent only knows these shapes.
 */
import type { ActualApp, DesiredApps, HostStatus } from '../protocol/bbone/types.js';

export interface AppsSnapshot {
  status: HostStatus;
  apps: Record<string, ActualApp>;
  /** sha256 of the desired apps held (canonical JSON), null when none was ever received. */
  desiredHash: string | null;
  /** Extra status fields (e.g. per-app errors, a corrupt state file). */
  extra?: Record<string, unknown>;
}

export interface AppsController {
  /** Loads what was saved, so the agent reports (and later converges) before any master speaks. */
  init(): Promise<void>;
  /** Takes a complete desired set; resolves only once it is durable on disk. */
  setDesired(apps: DesiredApps): Promise<void>;
  snapshot(): AppsSnapshot;
}

/** A Libra worker request in, the reply (request plus hpcs_response...) out. Never throws. */
export interface LibraHandler {
  handle(request: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface Timer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimer: Timer = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
