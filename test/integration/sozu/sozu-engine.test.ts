/**
 * SozuEngine against the sozu simulator: real orders on a real unix
 * socket, real HTTP through the listeners the simulator opened.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SozuEngine } from '../../../src/lb/sozu/sozu-engine.js';
import { createLogger } from '../../../src/logger.js';
import type { LbState } from '../../../src/protocol/libra/model.js';
import { closeAll, freePort, httpGet, startBackends, type TestBackend } from '../../helpers/http-backends.js';
import { startSozuSimulator, type SozuSimulator } from '../../helpers/sozu-simulator.js';
import { httpLb, node } from '../../helpers/sozu/model.js';
import { waitFor } from '../../helpers/wait.js';

let dir: string;
let sim: SozuSimulator;
let engine: SozuEngine;
let backends: TestBackend[];
let port: number;

const socketPath = (): string => join(dir, 'sozu.sock');
const stateWith = (nodes: TestBackend[], suspended = false): LbState => ({
  loadBalancers: [httpLb('10', port, nodes.map((b) => node(b.id, b.port)))],
  suspended,
});
const get = (host = 'app.example.test') => httpGet(port, '/', { headers: { host } });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sozu-engine-'));
  sim = await startSozuSimulator({ socketPath: socketPath() });
  backends = await startBackends('http', ['a', 'b', 'c']);
  port = await freePort();
  engine = new SozuEngine({ socketPath: socketPath(), logger: createLogger({ level: 'silent' }), bindAddress: '127.0.0.1', timeoutMs: 2000, reconnectDelaysMs: [20] });
});

afterEach(async () => {
  await engine.close();
  await sim.close();
  await closeAll(backends);
  await rm(dir, { recursive: true, force: true });
});

describe('SozuEngine', () => {
  it('routes by hostname, round robin over the nodes, and follows a removed node', async () => {
    await engine.apply(stateWith(backends.slice(0, 2)));
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await get()).body);
    expect(bodies.sort()).toEqual(['a', 'a', 'b', 'b']);
    expect((await get('other.example.test')).status).toBe(404);

    await engine.apply(stateWith([backends[1]!]));
    for (let i = 0; i < 3; i++) expect((await get()).body).toBe('b');
    expect(sim.dump().backends).toEqual([expect.objectContaining({ app_id: '10', backend_id: 'b' })]);
  });

  it('SUSPEND removes the fronts and keeps the rest; ENABLE brings them back', async () => {
    await engine.apply(stateWith(backends));
    await engine.apply(stateWith(backends, true));
    expect((await get()).status).toBe(404);
    expect(sim.dump()).toMatchObject({ http_fronts: [], applications: [expect.objectContaining({ app_id: '10' })] });
    expect((sim.dump().backends as unknown[]).length).toBe(3);
    await engine.apply(stateWith(backends, false));
    expect((await get()).status).toBe(200);
  });

  it('a refused order -> LB_INVALID with the proxy\'s message, and the previous state still runs', async () => {
    await engine.apply(stateWith([backends[0]!]));
    const before = sim.dump();
    sim.failNext('ADD_HTTP_FRONT', 'front refused by the test');
    const next: LbState = { loadBalancers: [...stateWith(backends).loadBalancers, httpLb('11', await freePort(), [node('c', backends[2]!.port)])], suspended: false };
    await expect(engine.apply(next)).rejects.toMatchObject({ code: 'LB_INVALID', message: expect.stringContaining('front refused by the test') as unknown });
    expect(sim.dump()).toEqual(before);
    expect((await get()).body).toBe('a');
  });

  it('a port sozu cannot bind is refused with its reason, nothing else changed', async () => {
    await engine.apply(stateWith([backends[0]!]));
    const before = sim.dump();
    const busy: LbState = { loadBalancers: [...stateWith([backends[0]!]).loadBalancers, httpLb('12', backends[1]!.port, [node('c', backends[2]!.port)])], suspended: false };
    await expect(engine.apply(busy)).rejects.toMatchObject({ code: 'LB_INVALID', message: expect.stringMatching(/could not bind listener .*EADDRINUSE/) as unknown });
    expect(sim.dump()).toEqual(before);
  });

  it('an HTTP load balancer without hostname is LB_INVALID naming the field, before anything is sent', async () => {
    const noHost = httpLb('10', port, [node('a', backends[0]!.port)]);
    delete noHost.hostname;
    await expect(engine.apply({ loadBalancers: [noHost], suspended: false })).rejects.toMatchObject({
      code: 'LB_INVALID',
      message: expect.stringContaining('loadBalancers[0].hostname is required') as unknown,
    });
    expect(sim.received).toEqual([]);
  });

  it('SAVE_STATE after a change lets a fresh sozu LOAD_STATE and route the same way', async () => {
    await engine.apply(stateWith(backends.slice(0, 2)));
    const saved = sim.received.filter((r) => r.type === 'SAVE_STATE');
    expect(saved.at(-1)?.data).toEqual({ path: engine.saveStatePath });
    await engine.close();
    await sim.close();

    sim = await startSozuSimulator({ socketPath: socketPath() });
    const fresh = new SozuEngine({ socketPath: socketPath(), logger: createLogger({ level: 'silent' }), bindAddress: '127.0.0.1' });
    try {
      const { SozuCommandClient } = await import('../../../src/lb/sozu/command-client.js');
      const c = new SozuCommandClient({ socketPath: socketPath() });
      await c.send('LOAD_STATE', { path: engine.saveStatePath });
      await c.close();
      expect(['a', 'b']).toContain((await get()).body);
      expect((await fresh.health())).toEqual({ running: true, configValid: false });
    } finally {
      await fresh.close();
    }
  });

  it('notices sozu restarting (socket closed), reconnects and applies the desired state again', async () => {
    await engine.apply(stateWith(backends.slice(0, 2)));
    await sim.close();
    sim = await startSozuSimulator({ socketPath: socketPath() });
    await waitFor(async () => (await get().catch(() => ({ status: 0 }))).status === 200, { what: 'routing to come back after the restart', timeoutMs: 5000 });
    expect(await engine.health()).toEqual({ running: true, configValid: true });
  });

  it('says clearly what sozu cannot report', async () => {
    await expect(engine.stats()).rejects.toMatchObject({ code: 'LB_NOT_SUPPORTED' });
    await expect(engine.counters()).rejects.toMatchObject({ code: 'LB_NOT_SUPPORTED' });
    await expect(engine.logs('10')).rejects.toMatchObject({ code: 'LB_NOT_SUPPORTED' });
  });

  it('stop and destroy remove every load balancer from sozu', async () => {
    await engine.apply(stateWith(backends));
    await engine.destroy();
    expect(sim.dump()).toEqual({ listeners: [], applications: [], backends: [], http_fronts: [], https_fronts: [], tcp_fronts: [], certificates: [] });
  });
});
