import { describe, expect, it } from 'vitest';
import { NO_METRICS, type AgentMetrics } from '../../../src/metrics/metrics.js';
import { countAppsByState, meterPublishes, watchBus, watchConverges, type SettledInfo } from '../../../src/metrics/wire-metrics.js';
import type { AppsSnapshot } from '../../../src/reconcile/apps-controller.js';
import { FakeBus } from '../agent/fake-bus.js';

function recorder(): { metrics: AgentMetrics; calls: string[] } {
  const calls: string[] = [];
  const metrics: AgentMetrics = {
    ...NO_METRICS,
    enabled: true,
    convergeFinished: (s, r) => calls.push(`converge ${s} ${r}`),
    appsByState: (c) => calls.push(`apps ${c.running}/${c.stopped}/${c.failed}`),
    publishConfirmed: () => calls.push('confirmed'),
    publishFailed: () => calls.push('failed'),
    brokerConnected: (b) => calls.push(`connected ${b}`),
    reconnected: () => calls.push('reconnected'),
  };
  return { metrics, calls };
}

const snapshot: AppsSnapshot = {
  status: 'errors',
  desiredHash: null,
  apps: {
    a: { version: '1', running: true, config: {} },
    b: { version: '1', running: false, config: {} },
    c: { version: '1', running: true, config: {}, error: { code: 'HOOK_FAILED', message: 'x' } },
  },
};

describe('metrics wiring', () => {
  it('counts apps by state', () => {
    expect(countAppsByState(snapshot)).toEqual({ running: 1, stopped: 1, failed: 1 });
  });

  it('follows the bus: connected gauge and reconnects after the first connect', () => {
    const bus = new FakeBus();
    bus.connected = false;
    const { metrics, calls } = recorder();
    const off = watchBus(bus, metrics);
    bus.emit('connected');
    bus.emit('disconnected', 'gone');
    bus.emit('connected');
    off();
    bus.emit('connected');
    expect(calls).toEqual(['connected false', 'connected true', 'connected false', 'reconnected', 'connected true']);
  });

  it('records each settled converge, with its duration when the controller gives one', () => {
    let listener: ((info?: SettledInfo) => void) | undefined;
    const { metrics, calls } = recorder();
    watchConverges({ onSettled: (l) => (listener = l), snapshot: () => snapshot }, metrics);
    listener?.({ ms: 1500 });
    listener?.();
    expect(calls).toEqual(['converge 1.5 errors', 'apps 1/1/1', 'converge NaN errors', 'apps 1/1/1']);
  });

  it('counts publishes confirmed and failed, and leaves the rest of the bus alone', async () => {
    const bus = new FakeBus();
    const { metrics, calls } = recorder();
    const metered = meterPublishes(bus, metrics);
    await metered.publish('master', { a: 1 });
    bus.failPublish = true;
    await expect(metered.publish('master', {})).rejects.toThrow('publish failed');
    expect(calls).toEqual(['confirmed', 'failed']);
    expect(metered.isConnected()).toBe(true);
    expect(bus.published).toHaveLength(1);
    expect(meterPublishes(bus, NO_METRICS)).toBe(bus);
  });
});
