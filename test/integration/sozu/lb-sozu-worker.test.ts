/**
 * The real LibraWorker with a SozuEngine against the sozu simulator: what
 * the master sees (PASS/FAIL replies) and what the traffic does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LibraWorker } from '../../../src/lb/libra-worker.js';
import { SozuEngine } from '../../../src/lb/sozu/sozu-engine.js';
import { createLogger } from '../../../src/logger.js';
import { LbStateStore } from '../../../src/state/lb-state-store.js';
import { closeAll, freePort, httpGet, startBackends, type TestBackend } from '../../helpers/http-backends.js';
import { startSozuSimulator, type SozuSimulator } from '../../helpers/sozu-simulator.js';

let dir: string;
let sim: SozuSimulator;
let engine: SozuEngine;
let worker: LibraWorker;
let backends: TestBackend[];
let port: number;

const update = (lb: Record<string, unknown>) => ({
  hpcs_action: 'UPDATE',
  loadBalancers: [{ id: '20', name: 'web', protocol: 'HTTP', port, nodes: backends.map((b) => ({ id: b.id, address: '127.0.0.1', port: b.port })), ...lb }],
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sozu-worker-'));
  const socketPath = join(dir, 'sozu.sock');
  sim = await startSozuSimulator({ socketPath });
  backends = await startBackends('http', ['a', 'b']);
  port = await freePort();
  const logger = createLogger({ level: 'silent' });
  engine = new SozuEngine({ socketPath, logger, bindAddress: '127.0.0.1', timeoutMs: 2000 });
  worker = new LibraWorker({ engine, store: new LbStateStore(dir, 'host-1'), logger, agentVersion: 'test', probeTimeoutMs: 500 });
});

afterEach(async () => {
  await engine.close();
  await sim.close();
  await closeAll(backends);
  await rm(dir, { recursive: true, force: true });
});

describe('LibraWorker with the sozu engine', () => {
  it('UPDATE with a hostname -> PASS, and requests for that host reach the nodes round robin', async () => {
    const reply = await worker.handle(update({ hostname: 'web.example.test', path_begin: '/' }));
    expect(reply).toMatchObject({ hpcs_response: 'PASS' });
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await httpGet(port, '/x', { headers: { host: 'web.example.test' } })).body);
    expect(bodies.sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('an HTTP load balancer without hostname -> FAIL naming hostname, nothing sent to sozu', async () => {
    const reply = await worker.handle(update({}));
    expect(reply).toMatchObject({ hpcs_response: 'FAIL', hpcs_error: expect.stringContaining('loadBalancers[0].hostname') as unknown });
    expect(sim.received.filter((r) => r.type === 'PROXY')).toEqual([]);
  });

  it('STATS and METRICS FAIL clearly; DIAGNOSTICS reports sozu and the nodes for real', async () => {
    expect(await worker.handle(update({ hostname: 'web.example.test' }))).toMatchObject({ hpcs_response: 'PASS' });
    expect(await worker.handle({ hpcs_action: 'STATS' })).toMatchObject({ hpcs_response: 'FAIL', hpcs_error_code: 'LB_NOT_SUPPORTED', hpcs_error: expect.stringContaining('sozu') as unknown });
    expect(await worker.handle({ hpcs_action: 'METRICS' })).toMatchObject({ hpcs_response: 'FAIL', hpcs_error_code: 'LB_NOT_SUPPORTED' });
    const diag = await worker.handle({ hpcs_action: 'DIAGNOSTICS' });
    expect(diag).toMatchObject({ hpcs_response: 'PASS', engine: 'sozu', haproxy: { running: true, config_valid: true } });
    expect(diag.nodes).toEqual(backends.map((b) => ({ id: b.id, address: '127.0.0.1', port: b.port, reachable: true })));
  });

  it('SUSPEND and ENABLE -> PASS, traffic stops and comes back; DELETE clears sozu', async () => {
    await worker.handle(update({ hostname: 'web.example.test' }));
    expect(await worker.handle({ hpcs_action: 'SUSPEND' })).toMatchObject({ hpcs_response: 'PASS' });
    expect((await httpGet(port, '/', { headers: { host: 'web.example.test' } })).status).toBe(404);
    expect(await worker.handle({ hpcs_action: 'ENABLE' })).toMatchObject({ hpcs_response: 'PASS' });
    expect((await httpGet(port, '/', { headers: { host: 'web.example.test' } })).status).toBe(200);
    expect(await worker.handle({ hpcs_action: 'DELETE' })).toMatchObject({ hpcs_response: 'PASS' });
    expect(sim.dump()).toMatchObject({ listeners: [], applications: [], backends: [] });
  });
});
