/**
 * ControlHandlers built from plain functions the agent hands over. control/
 * must not import reconcile/ or bus/ (siblings and lower layers' classes are
 * the agent's business), so run-agent.ts passes what it has as closures:
 * `() => bus.isConnected()`, `() => apps.snapshot()`, and so on.
 *
 * A converge with real progress needs the apps controller to report it
 * (`convergeNow`); until it can, a converge is "look at the host now, then
 * wait for the converge that look started", reported in three steps.
 */
import type { ControlHandlers, ControlStatus } from './handlers.js';
import type { TaskReporter } from './tasks.js';

export interface AppsView {
  status: string;
  apps: Record<string, { running: boolean; error?: { message: string } }>;
  desiredHash: string | null;
  extra?: Record<string, unknown>;
}

export interface AgentControlPorts {
  version: string;
  hostId: string;
  isConnected(): boolean;
  snapshot(): AppsView;
  /** The desired apps as saved, undefined when none was ever received. */
  loadDesired(): Promise<Record<string, unknown> | undefined>;
  /** Looks at the host and starts a converge when it differs from desired (the heartbeat's tick). */
  tick(): Promise<void>;
  /** Resolves when no converge is running. */
  idle(): Promise<void>;
  /** Registers a listener for every converge that ends; `info.ms` when the controller measures it. */
  onSettled(listener: (info?: { ms?: number }) => void): void;
  /** When the controller can converge with progress, this replaces tick + idle. */
  convergeNow?: (progress: (done: number, total: number, msg: string) => void) => Promise<void>;
  subscribeLogs(listener: (line: string) => void): () => void;
  now?: () => number;
}

export function createAgentControlHandlers(ports: AgentControlPorts): ControlHandlers {
  const now = ports.now ?? Date.now;
  const startedAt = now();
  let last: ControlStatus['last_converge'] = null;
  ports.onSettled((info) => {
    last = {
      finished_at: new Date(now()).toISOString(),
      result: ports.snapshot().status,
      ...(typeof info?.ms === 'number' ? { ms: info.ms } : {}),
    };
  });

  return {
    async status(): Promise<ControlStatus> {
      const snap = ports.snapshot();
      return {
        uptime_s: Math.round((now() - startedAt) / 1000),
        version: ports.version,
        host_id: ports.hostId,
        broker_connected: ports.isConnected(),
        status: snap.status,
        desired_hash: snap.desiredHash,
        last_converge: last,
        desired: (await ports.loadDesired()) ?? null,
        actual: snap.apps,
        ...snap.extra,
      };
    },

    async converge(report: TaskReporter): Promise<void> {
      if (ports.convergeNow) {
        await ports.convergeNow((done, total, msg) => report.step(done, total, msg));
      } else {
        report.progress(0, 'looking at the host');
        await ports.tick();
        report.progress(10, 'converging');
        await ports.idle();
      }
      const snap = ports.snapshot();
      const failed = Object.entries(snap.apps).filter(([, app]) => app.error);
      if (snap.status === 'errors') {
        throw new Error(`converge ended with errors: ${failed.map(([name, app]) => `${name}: ${app.error?.message ?? '?'}`).join('; ')}`);
      }
      report.note(snap.desiredHash === null ? 'no desired state received yet; nothing to do' : `status ${snap.status}`);
    },

    subscribeLogs: (listener) => ports.subscribeLogs(listener),
  };
}
