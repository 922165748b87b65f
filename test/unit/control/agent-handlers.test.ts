import { describe, expect, it } from 'vitest';
import { createAgentControlHandlers, type AgentControlPorts, type AppsView } from '../../../src/control/agent-handlers.js';
import type { TaskReporter } from '../../../src/control/tasks.js';

function ports(over: Partial<AgentControlPorts> = {}) {
  let time = 1_000_000;
  let settled: ((info?: { ms?: number }) => void) | undefined;
  let view: AppsView = { status: 'ok', apps: { 'pf9-foo': { running: true } }, desiredHash: 'abc' };
  const calls: string[] = [];
  const p: AgentControlPorts = {
    version: '0.1.0',
    hostId: 'AA:BB',
    isConnected: () => true,
    snapshot: () => view,
    loadDesired: () => Promise.resolve({ 'pf9-foo': { version: '1', running: true } }),
    tick: () => (calls.push('tick'), Promise.resolve()),
    idle: () => (calls.push('idle'), Promise.resolve()),
    onSettled: (l) => (settled = l),
    subscribeLogs: () => () => undefined,
    now: () => time,
    ...over,
  };
  return { p, calls, advance: (ms: number) => (time += ms), settle: (info?: { ms?: number }) => settled?.(info), setView: (v: AppsView) => (view = v) };
}

function reporter(): { r: TaskReporter; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    r: { progress: (p, m) => seen.push(`${p} ${m ?? ''}`), step: (d, t, m) => seen.push(`${d}/${t} ${m ?? ''}`), note: (m) => seen.push(m) },
  };
}

describe('createAgentControlHandlers', () => {
  it('status tells uptime, identity, broker, last converge, desired and actual apps', async () => {
    const t = ports();
    const h = createAgentControlHandlers(t.p);
    t.advance(5000);
    expect(await h.status()).toMatchObject({ uptime_s: 5, host_id: 'AA:BB', broker_connected: true, last_converge: null, status: 'ok' });
    t.settle({ ms: 1200 });
    const status = await h.status();
    expect(status.last_converge).toEqual({ finished_at: new Date(1_005_000).toISOString(), result: 'ok', ms: 1200 });
    expect(status.desired).toEqual({ 'pf9-foo': { version: '1', running: true } });
    expect(status.actual).toEqual({ 'pf9-foo': { running: true } });
  });

  it('converge ticks then waits, and fails when apps failed', async () => {
    const t = ports();
    const h = createAgentControlHandlers(t.p);
    const { r, seen } = reporter();
    await h.converge(r);
    expect(t.calls).toEqual(['tick', 'idle']);
    expect(seen).toEqual(['0 looking at the host', '10 converging', 'status ok']);
    t.setView({ status: 'errors', apps: { 'pf9-foo': { running: false, error: { message: 'dpkg failed' } } }, desiredHash: 'abc' });
    await expect(h.converge(reporter().r)).rejects.toThrow('converge ended with errors: pf9-foo: dpkg failed');
  });

  it('uses convergeNow with real progress when the controller offers it', async () => {
    const t = ports({
      convergeNow: (progress) => {
        progress(1, 4, 'downloading pf9-foo');
        progress(4, 4, 'started pf9-foo');
        return Promise.resolve();
      },
    });
    const { r, seen } = reporter();
    await createAgentControlHandlers(t.p).converge(r);
    expect(t.calls).toEqual([]);
    expect(seen).toEqual(['1/4 downloading pf9-foo', '4/4 started pf9-foo', 'status ok']);
  });
});
