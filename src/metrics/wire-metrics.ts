/**
 * Glue between the agent's parts and AgentMetrics, for run-agent.ts. It sits
 * beside agent/ (it knows the bus and apps controller shapes) so that the
 * parts themselves stay free of metrics code.
 */
import type { Bus } from '../bus/bus.js';
import type { AppsController, AppsSnapshot } from '../reconcile/apps-controller.js';
import type { AgentMetrics, AppsByState } from './metrics.js';

/** running: up and no error; failed: an error is reported; stopped: the rest (stopped as desired, or not yet started). */
export function countAppsByState(snapshot: AppsSnapshot): AppsByState {
  const counts: AppsByState = { running: 0, stopped: 0, failed: 0 };
  for (const app of Object.values(snapshot.apps)) {
    if (app.error) counts.failed += 1;
    else if (app.running) counts.running += 1;
    else counts.stopped += 1;
  }
  return counts;
}

/** Connected gauge and reconnect counter from the bus's own events; returns the unwiring function. */
export function watchBus(bus: Pick<Bus, 'on' | 'off' | 'isConnected'>, metrics: AgentMetrics): () => void {
  let connections = 0;
  const onConnected = (): void => {
    connections += 1;
    if (connections > 1) metrics.reconnected();
    metrics.brokerConnected(true);
  };
  const onDisconnected = (): void => metrics.brokerConnected(false);
  metrics.brokerConnected(bus.isConnected());
  if (bus.isConnected()) connections = 1;
  bus.on('connected', onConnected);
  bus.on('disconnected', onDisconnected);
  return () => {
    bus.off('connected', onConnected);
    bus.off('disconnected', onDisconnected);
  };
}

/** What a settled converge may tell its listeners (see the integration note: reconcile passes it once it measures). */
export interface SettledInfo {
  ms?: number;
}

/** After every converge: its result and duration (when known), and apps by state. */
export function watchConverges(apps: Pick<AppsController, 'onSettled' | 'snapshot'>, metrics: AgentMetrics): void {
  const onSettled = (info?: SettledInfo): void => {
    const snapshot = apps.snapshot();
    const seconds = typeof info?.ms === 'number' ? info.ms / 1000 : NaN;
    metrics.convergeFinished(seconds, snapshot.status === 'errors' ? 'errors' : 'ok');
    metrics.appsByState(countAppsByState(snapshot));
  };
  apps.onSettled(onSettled);
}

/**
 * The bus with publishes counted: resolved = confirmed by the broker (AmqpBus
 * waits for the confirm), rejected = failed. Other members are the bus's own,
 * bound to it, so private state and `this`-returning methods keep working.
 */
export function meterPublishes<B extends Bus>(bus: B, metrics: AgentMetrics): B {
  if (!metrics.enabled) return bus;
  return new Proxy(bus, {
    get(target, prop) {
      if (prop === 'publish') {
        return async (...args: Parameters<Bus['publish']>): Promise<void> => {
          try {
            await target.publish(...args);
          } catch (err) {
            metrics.publishFailed();
            throw err;
          }
          metrics.publishConfirmed();
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
