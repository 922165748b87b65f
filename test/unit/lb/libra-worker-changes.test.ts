import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { LibraHandler } from '../../../src/agent/ports.js';
import { LbError } from '../../../src/errors.js';
import type { LbState } from '../../../src/lb/model.js';
import { LbStateStore } from '../../../src/state/lb-state-store.js';
import { FakeEngine } from './fake-engine.js';
import { sampleState } from './samples.js';
import { httpUpdate, makeHarness, tcpAndHttpUpdate, type Harness } from './worker-harness.js';

const webLb = {
  id: '10',
  name: 'web',
  protocol: 'HTTP',
  port: 8080,
  algorithm: 'ROUND_ROBIN',
  nodes: [{ id: '1', address: '127.0.0.1', port: 9001, weight: 2, backup: false, condition: 'ENABLED' }],
  timeouts: { client: 30000, server: 30000, connect: 30000 },
  retries: 3,
};

function onDisk(h: Harness): unknown {
  return JSON.parse(readFileSync(h.store.path, 'utf8'));
}

describe('LibraWorker changes', () => {
  let h: Harness;
  afterEach(async () => {
    await h.cleanup();
  });

  it('fits the agent LibraHandler port', async () => {
    h = await makeHarness();
    const handler: LibraHandler = h.worker;
    expect(typeof handler.handle).toBe('function');
  });

  it('UPDATE: applies, then saves, then answers PASS with the request as sent', async () => {
    h = await makeHarness();
    let runningAtSave: LbState | undefined;
    const save = h.store.save.bind(h.store);
    h.store.save = async (state) => {
      runningAtSave = h.engine.running;
      await save(state);
    };
    const request = httpUpdate();
    const reply = await h.worker.handle(request, { correlationId: 'c-1' });
    // The file is there when the reply is.
    expect(existsSync(h.store.path)).toBe(true);
    expect(reply).toEqual({ ...request, hpcs_response: 'PASS' });
    expect(runningAtSave).toEqual({ loadBalancers: [webLb], suspended: false });
    expect(onDisk(h)).toEqual({ format: 1, suspended: false, loadBalancers: [webLb] });
    expect(h.worker.currentState()).toEqual({ loadBalancers: [webLb], suspended: false });
    expect(h.logs.at(-1)).toMatchObject({ event: 'libra.handled', action: 'UPDATE', correlation_id: 'c-1', response: 'PASS' });
  });

  it('UPDATE replaces the whole set: HTTP+TCP, then HTTP alone', async () => {
    h = await makeHarness();
    expect((await h.worker.handle(tcpAndHttpUpdate())).hpcs_response).toBe('PASS');
    expect(h.engine.running?.loadBalancers.map((l) => l.id)).toEqual(['w', 'd']);
    expect((await h.worker.handle(httpUpdate())).hpcs_response).toBe('PASS');
    expect(h.engine.running?.loadBalancers.map((l) => l.id)).toEqual(['10']);
    expect(h.worker.currentState().loadBalancers.map((l) => l.id)).toEqual(['10']);
  });

  it('UPDATE refused by the engine: FAIL with its words, previous state kept on disk and in memory', async () => {
    h = await makeHarness();
    await h.worker.handle(httpUpdate());
    const before = readFileSync(h.store.path, 'utf8');
    h.engine.failApply = new LbError('LB_INVALID', "haproxy: [ALERT] parsing [cfg:12]: unknown keyword 'foo'");
    const request = httpUpdate([{ id: 2, address: '127.0.0.1', port: '9002', weight: 1 }]);
    const reply = await h.worker.handle(request);
    expect(reply).toEqual({
      ...request,
      hpcs_response: 'FAIL',
      hpcs_error: "haproxy: [ALERT] parsing [cfg:12]: unknown keyword 'foo'",
      hpcs_error_code: 'LB_INVALID',
    });
    expect(readFileSync(h.store.path, 'utf8')).toBe(before);
    expect(h.worker.currentState().loadBalancers[0]?.nodes[0]?.id).toBe('1');
    expect(h.logs.at(-1)).toMatchObject({ action: 'UPDATE', response: 'FAIL', code: 'LB_INVALID' });
  });

  it('UPDATE that cannot be saved: FAIL, and the engine runs the previous state again', async () => {
    h = await makeHarness();
    await h.worker.handle(httpUpdate());
    h.store.save = () => Promise.reject(new Error('ENOSPC: no space left on device'));
    const reply = await h.worker.handle(tcpAndHttpUpdate());
    expect(reply.hpcs_response).toBe('FAIL');
    expect(reply.hpcs_error_code).toBe('STATE_WRITE_FAILED');
    expect(reply.hpcs_error).toContain('ENOSPC');
    expect(reply.hpcs_error).toContain('the previous load balancers run again');
    expect(h.engine.running?.loadBalancers.map((l) => l.id)).toEqual(['10']);
    expect(h.worker.currentState().loadBalancers.map((l) => l.id)).toEqual(['10']);
  });

  it('an invalid UPDATE FAILs naming the field and never reaches the engine or the disk', async () => {
    h = await makeHarness();
    const request = httpUpdate([{ id: 1, address: '127.0.0.1', port: '9001', weight: 300 }]);
    const reply = await h.worker.handle(request);
    expect(reply).toEqual({
      ...request,
      hpcs_response: 'FAIL',
      hpcs_error: 'loadBalancers[0].nodes[0].weight: must be an integer 1..256, got 300',
      hpcs_error_code: 'LB_REQUEST_INVALID',
    });
    expect(h.engine.calls).not.toContain('apply');
    expect(existsSync(h.store.path)).toBe(false);
  });

  it('SUSPEND and ENABLE flip the flag through the engine and on disk; an UPDATE keeps a device suspended', async () => {
    h = await makeHarness();
    await h.worker.handle(httpUpdate());
    expect(await h.worker.handle({ hpcs_action: 'suspend' })).toEqual({ hpcs_action: 'suspend', hpcs_response: 'PASS' });
    expect(h.engine.running?.suspended).toBe(true);
    expect(onDisk(h)).toMatchObject({ suspended: true });
    await h.worker.handle(httpUpdate([{ id: 3, address: '127.0.0.1', port: '9003', weight: 1 }]));
    expect(h.engine.running?.suspended).toBe(true);
    expect(await h.worker.handle({ HPCS_ACTION: 'Enable' })).toEqual({ HPCS_ACTION: 'Enable', hpcs_response: 'PASS' });
    expect(h.engine.running).toMatchObject({ suspended: false });
    expect(onDisk(h)).toMatchObject({ suspended: false, loadBalancers: [{ nodes: [{ id: '3' }] }] });
  });

  it('DELETE destroys the proxy and saves an empty state', async () => {
    h = await makeHarness();
    await h.worker.handle(httpUpdate());
    expect(await h.worker.handle({ hpcs_action: 'DELETE' })).toEqual({ hpcs_action: 'DELETE', hpcs_response: 'PASS' });
    expect(h.engine.calls).toContain('destroy');
    expect(h.engine.running).toBeUndefined();
    expect(onDisk(h)).toEqual({ format: 1, suspended: false, loadBalancers: [] });
    expect(h.worker.currentState()).toEqual({ loadBalancers: [], suspended: false });
  });

  it('DELETE that the engine cannot do: FAIL, state kept', async () => {
    h = await makeHarness();
    await h.worker.handle(httpUpdate());
    h.engine.failDestroy = new Error('kill: permission denied');
    const reply = await h.worker.handle({ hpcs_action: 'DELETE' });
    expect(reply).toMatchObject({ hpcs_response: 'FAIL', hpcs_error: 'kill: permission denied', hpcs_error_code: 'INTERNAL' });
    expect(onDisk(h)).toMatchObject({ loadBalancers: [{ id: '10' }] });
  });

  it('without an engine (pf9-lb not running), changes FAIL and nothing is written', async () => {
    h = await makeHarness({ engine: null });
    for (const action of ['UPDATE', 'SUSPEND', 'ENABLE', 'DELETE', 'STATS', 'METRICS']) {
      const reply = await h.worker.handle(action === 'UPDATE' ? httpUpdate() : { hpcs_action: action });
      expect(reply).toMatchObject({ hpcs_response: 'FAIL', hpcs_error_code: 'LB_NOT_SUPPORTED' });
      expect(reply.hpcs_error).toBe('the pf9-lb app is not installed or not running on this host (no load-balancer engine)');
    }
    expect(existsSync(h.store.path)).toBe(false);
  });

  it('init restores the saved load balancers into the engine', async () => {
    h = await makeHarness();
    await new LbStateStore(h.dir, 'H1').save(sampleState);
    await h.worker.init();
    expect(h.engine.running).toEqual(sampleState);
    expect(h.worker.currentState()).toEqual(sampleState);
    expect(h.logs).toContainEqual(expect.objectContaining({ event: 'lb.restored', count: 1 }));
  });

  it('a request before init loads the saved state first, so it is never overwritten blindly', async () => {
    h = await makeHarness();
    await new LbStateStore(h.dir, 'H1').save(sampleState);
    await h.worker.handle({ hpcs_action: 'SUSPEND' });
    expect(onDisk(h)).toMatchObject({ suspended: true, loadBalancers: [{ id: '10', name: 'web' }] });
  });

  it('init with a corrupt file: kept aside, logged, starts empty', async () => {
    h = await makeHarness();
    await new LbStateStore(h.dir, 'H1').save(sampleState);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(h.store.path, '{');
    await h.worker.init();
    expect(h.worker.currentState()).toEqual({ loadBalancers: [], suspended: false });
    expect(h.logs).toContainEqual(expect.objectContaining({ event: 'lb.state_corrupt', code: 'STATE_CORRUPT' }));
    expect(h.engine.calls).not.toContain('apply');
  });

  it('setEngine hands the current load balancers to a new engine; the same engine again is a no-op', async () => {
    h = await makeHarness({ engine: null });
    await new LbStateStore(h.dir, 'H1').save(sampleState);
    await h.worker.init();
    const sozu = new FakeEngine('sozu');
    await h.worker.setEngine(sozu);
    expect(sozu.running).toEqual(sampleState);
    await h.worker.setEngine(sozu);
    expect(sozu.calls.filter((c) => c === 'apply')).toHaveLength(1);
    expect((await h.worker.handle({ hpcs_action: 'SUSPEND' })).hpcs_response).toBe('PASS');
    expect(sozu.running?.suspended).toBe(true);
    await h.worker.setEngine(undefined);
    expect((await h.worker.handle({ hpcs_action: 'ENABLE' })).hpcs_response).toBe('FAIL');
  });

  it('setEngine rejects when the new engine refuses the state, and still switches to it', async () => {
    h = await makeHarness({ engine: null });
    await new LbStateStore(h.dir, 'H1').save(sampleState);
    const engine = new FakeEngine();
    engine.failApply = new LbError('LB_APPLY_FAILED', 'cannot bind 0.0.0.0:8080');
    await expect(h.worker.setEngine(engine)).rejects.toThrow('cannot bind');
    expect((await h.worker.handle({ hpcs_action: 'ENABLE' })).hpcs_response).toBe('PASS');
    expect(engine.running).toEqual(sampleState);
  });

  it('runs changes one at a time, in arrival order, even when they arrive together', async () => {
    h = await makeHarness();
    let active = 0;
    let maxActive = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    h.engine.applyGate = async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      if (first) {
        first = false;
        await held;
      }
      await new Promise((r) => setImmediate(r));
      active--;
    };
    const a = h.worker.handle(httpUpdate([{ id: 'a', address: '127.0.0.1', port: '9001', weight: 1 }]));
    const b = h.worker.handle(httpUpdate([{ id: 'b', address: '127.0.0.1', port: '9002', weight: 1 }]));
    const s = h.worker.handle({ hpcs_action: 'STATS' });
    await new Promise((r) => setTimeout(r, 20));
    // The first apply is held: the second has not started, STATS waits too.
    expect(h.engine.calls.filter((c) => c === 'apply')).toHaveLength(1);
    expect(h.engine.calls).not.toContain('stats');
    release();
    const replies = await Promise.all([a, b, s]);
    expect(replies.map((r) => r.hpcs_response)).toEqual(['PASS', 'PASS', 'PASS']);
    expect(maxActive).toBe(1);
    expect(h.worker.currentState().loadBalancers[0]?.nodes.map((n) => n.id)).toEqual(['b']);
    expect(onDisk(h)).toMatchObject({ loadBalancers: [{ nodes: [{ id: 'b' }] }] });
  });

  it('masks TLS keys in the reply and never logs them', async () => {
    h = await makeHarness();
    const key = '-----BEGIN PRIVATE KEY-----\nTOPSECRET\n-----END PRIVATE KEY-----';
    const request = httpUpdate();
    (request.loadBalancers as Array<Record<string, unknown>>)[0]!.TLS = { certificate: '-----BEGIN CERTIFICATE-----\nC', Key: key };
    const reply = await h.worker.handle(request);
    expect(reply.hpcs_response).toBe('PASS');
    expect(JSON.stringify(reply)).not.toContain('TOPSECRET');
    expect((reply.loadBalancers as Array<{ TLS: { Key: string } }>)[0]?.TLS.Key).toBe('*****');
    expect(JSON.stringify(h.logs)).not.toContain('TOPSECRET');
    // The engine (and the 0600 state file) do get the key: HAProxy needs it.
    expect(h.engine.running?.loadBalancers[0]?.tls?.key).toBe(key);
  });
});
