/**
 * The engine's promises under stress: reloads under keep-alive load drop
 * nothing (DESIGN.md's measurement, with `option idle-close-on-response`),
 * a removed node's sessions are waited for, and a config HAProxy accepts but
 * cannot run (a port already taken) fails without disturbing what runs.
 */
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haproxyPaths } from '../../../../src/lb/haproxy/process.js';
import { reloadAndWait } from '../../../../src/lb/haproxy/reload.js';
import { MasterCli, RuntimeApi } from '../../../../src/lb/haproxy/runtime-api.js';
import type { LbState, LoadBalancer } from '../../../../src/lb/model.js';
import { closeAll, httpGet, startBackends, startTcpBackend, tcpRequest, type TestBackend } from '../../../helpers/http-backends.js';
import { engineFixture, makeLb, node, type EngineFixture } from './fixture.js';

let fx: EngineFixture;
let web: TestBackend[];
const backends: TestBackend[] = [];
const state = (...lbs: LoadBalancer[]): LbState => ({ loadBalancers: lbs, suspended: false });

beforeAll(async () => {
  fx = await engineFixture({ drainTimeoutMs: 3000 });
  web = await startBackends('http', ['a', 'b']);
  backends.push(...web);
});

afterAll(async () => {
  await fx.cleanup();
  await closeAll(backends);
});

/** Keeps `concurrency` keep-alive clients busy until stopped; counts failures (errors and non-200s). */
function keepAliveLoad(port: number, concurrency: number): { stop(): Promise<{ ok: number; failed: string[] }> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        const r = await httpGet(port, '/', { agent });
        if (r.status === 200) ok++;
        else failed.push(`status ${r.status}`);
      } catch (err) {
        failed.push((err as Error).message);
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return { ok, failed };
    },
  };
}

describe('HaproxyEngine under load and on failure', () => {
  let lb: LoadBalancer;

  it('reloads 5 times under keep-alive load without a failed request', async () => {
    lb = await makeLb('20', 'HTTP', web.map((b) => node(b)));
    await fx.engine.apply(state(lb));
    const before = await fx.reloads();
    const load = keepAliveLoad(lb.port, 8);
    for (let i = 1; i <= 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      lb = { ...lb, timeouts: { ...lb.timeouts, server: 30_000 + i * 1000 } };
      await fx.engine.apply(state(lb));
    }
    await new Promise((r) => setTimeout(r, 100));
    const { ok, failed } = await load.stop();
    expect((await fx.reloads()).reloads).toBe(before.reloads + 5);
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(100);
  });

  it('removing a TCP node waits for its session to end, then deletes it without a reload', async () => {
    const t1 = await startTcpBackend('t1');
    const t2 = await startTcpBackend('t2');
    backends.push(t1, t2);
    const tcp = await makeLb('21', 'TCP', [node(t1)]);
    await fx.engine.apply(state(lb, tcp));
    await fx.engine.apply(state(lb, { ...tcp, nodes: [node(t1), node(t2)] }));
    // A session held open on t1 (sticky by source: everything from 127.0.0.1 went to t1).
    const held = net.connect(tcp.port, '127.0.0.1');
    held.write('hi\n');
    await once(held, 'data');
    const before = await fx.reloads();
    const started = Date.now();
    const removal = fx.engine.apply(state(lb, { ...tcp, nodes: [node(t2)] }));
    await new Promise((r) => setTimeout(r, 400));
    held.end();
    await removal;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(2500);
    expect(await fx.reloads()).toEqual(before);
    expect(await tcpRequest(tcp.port)).toBe('t2');
    expect((await fx.engine.stats()).find((s) => s.id === '21')?.nodes.map((n) => n.id)).toEqual(['t2']);
    await fx.engine.apply(state(lb));
  });

  it('refuses a port another process holds before touching HAProxy; the previous config keeps serving', async () => {
    const squatter = net.createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const cfgBefore = await readFile(join(fx.runDir, 'haproxy.cfg'), 'utf8');
      const before = await fx.reloads();
      const taken = await makeLb('22', 'HTTP', web.map((b) => node(b)), { port });
      const started = Date.now();
      const err = (await fx.engine.apply(state(lb, taken)).catch((e: unknown) => e)) as Error;
      expect(Date.now() - started).toBeLessThan(500);
      expect(err).toMatchObject({ code: 'LB_APPLY_FAILED', message: `cannot listen on 127.0.0.1 port ${port}: in use by another process` });
      expect(await fx.reloads()).toEqual(before);
      expect((await httpGet(lb.port)).status).toBe(200);
      expect(await readFile(join(fx.runDir, 'haproxy.cfg'), 'utf8')).toBe(cfgBefore);
    } finally {
      squatter.close();
    }
  });

  it('a reload HAProxy fails is reported with its alert, and the old worker keeps serving', async () => {
    // Behind the engine's back (its port probe would refuse this first): a config that passes -c but cannot bind.
    const squatter = net.createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const port = (squatter.address() as net.AddressInfo).port;
    const cfgFile = join(fx.runDir, 'haproxy.cfg');
    const good = await readFile(cfgFile, 'utf8');
    try {
      await writeFile(cfgFile, good.replace(`bind 127.0.0.1:${lb.port}`, `bind 127.0.0.1:${lb.port}\n    bind 127.0.0.1:${port}`));
      const ctx = { paths: haproxyPaths(fx.runDir), master: new MasterCli(join(fx.runDir, 'master.sock')), admin: new RuntimeApi(join(fx.runDir, 'admin.sock')), timeoutMs: 10_000 };
      const err = (await reloadAndWait(ctx).catch((e: unknown) => e)) as Error;
      expect(err).toMatchObject({ code: 'LB_APPLY_FAILED' });
      expect(err.message).toMatch(/cannot bind socket \(Address already in use\)/);
      expect((await httpGet(lb.port)).status).toBe(200);
    } finally {
      await writeFile(cfgFile, good);
      squatter.close();
    }
    // The engine goes on: the next change reloads normally.
    lb = { ...lb, retries: 2 };
    await fx.engine.apply(state(lb));
    expect((await httpGet(lb.port)).status).toBe(200);
  });

  it('starts HAProxy again when it was stopped, and reports it stopped meanwhile', async () => {
    await fx.engine.stop();
    expect(await fx.engine.health()).toEqual({ running: false, configValid: true });
    await expect(httpGet(lb.port)).rejects.toThrow(/ECONNREFUSED/);
    await fx.engine.apply(state(lb));
    expect((await httpGet(lb.port)).status).toBe(200);
  });
});
