/**
 * What the agent hands desired state to and asks for status. The
 * reconciler implements it; the agent knows only this shape.
 */
import type { ActualApp, DesiredApps, HostStatus } from '../protocol/bbone/types.js';

export interface AppsSnapshot {
  status: HostStatus;
  apps: Record<string, ActualApp>;
  /** sha256 of the desired apps held (canonical JSON), null when none was ever received. */
  desiredHash: string | null;
  /** Extra status fields (e.g. a corrupt state file). */
  extra?: Record<string, unknown>;
}

export interface AppsController {
  /** Loads what was saved and starts converging to it, before any master speaks. */
  init(): Promise<void>;
  /** Takes a complete desired set; resolves once it is durable on disk (converging goes on after). */
  setDesired(apps: DesiredApps): Promise<void>;
  /** A cheap look at the host (heartbeat); starts a converge when it drifted. */
  tick(): Promise<void>;
  snapshot(): AppsSnapshot;
  /** Called when a converge ends (with its duration), so a status can be sent at once. */
  onSettled(listener: (info?: { ms?: number }) => void): void;
  /** Waits for a running converge to end; services keep running. */
  close(): Promise<void>;
}
