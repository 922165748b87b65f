/**
 * HaproxyEngine against a real HAProxy 2.6 on 127.0.0.1 and real backends.
 * The tests of this file run in order on one engine, each from the state
 * the previous one left, as a load balancer lives through its changes;
 * "no reload" is judged by the master's own reload count (`show proc`).
 */
import { execFile } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentError } from '../../../../src/errors.js';
import type { LbState, LoadBalancer } from '../../../../src/lb/model.js';
import { closeAll, httpGet, startBackends, startTcpBackend, tcpRequest, type TestBackend } from '../../../helpers/http-backends.js';
import { waitFor } from '../../../helpers/wait.js';
import { engineFixture, makeLb, node, spread, type EngineFixture } from './fixture.js';

const execFileP = promisify(execFile);
let fx: EngineFixture;
let web: TestBackend[];
let http: LoadBalancer;
const backends: TestBackend[] = [];

const state = (...lbs: LoadBalancer[]): LbState => ({ loadBalancers: lbs, suspended: false });

beforeAll(async () => {
  fx = await engineFixture();
  web = await startBackends('http', ['a', 'b', 'c', 'd']);
  backends.push(...web);
});

afterAll(async () => {
  await fx.cleanup();
  await closeAll(backends);
});

describe('HaproxyEngine', () => {
  it('balances an HTTP load balancer by weight', async () => {
    const [a, b, c] = web as [TestBackend, TestBackend, TestBackend];
    http = await makeLb('10', 'HTTP', [node(a), node(b, { weight: 2 }), node(c)]);
    await fx.engine.apply(state(http));
    const counts = await spread(http.port, 400);
    expect(counts.a).toBeGreaterThanOrEqual(90);
    expect(counts.a).toBeLessThanOrEqual(110);
    expect(counts.b).toBeGreaterThanOrEqual(180);
    expect(counts.b).toBeLessThanOrEqual(220);
    expect(counts.c).toBeGreaterThanOrEqual(90);
    expect(counts.c).toBeLessThanOrEqual(110);
    const reply = await httpGet(http.port, '/');
    expect(reply.headers['set-cookie']?.[0]).toMatch(/^SERVERID=[abc];/);
  });

  it('disables a node and changes a weight through the runtime API, without a reload', async () => {
    const before = await fx.reloads();
    http = { ...http, nodes: http.nodes.map((n) => (n.id === 'c' ? { ...n, condition: 'DISABLED' } : n.id === 'a' ? { ...n, weight: 3 } : n)) };
    await fx.engine.apply(state(http));
    const counts = await spread(http.port, 100);
    expect(counts.c).toBeUndefined();
    expect(counts.a).toBeGreaterThanOrEqual(50);
    expect(await fx.reloads()).toEqual(before);
    const stats = await fx.engine.stats();
    expect(stats).toEqual([{ id: '10', nodes: expect.arrayContaining([expect.objectContaining({ id: 'c', status: 'MAINT' })]) as unknown }]);
  });

  it('keeps runtime changes across a reload (config on disk matches)', async () => {
    // A timeout change needs a reload; node c must stay disabled and a at weight 3.
    http = { ...http, timeouts: { ...http.timeouts, server: 20_000 } };
    const before = await fx.reloads();
    await fx.engine.apply(state(http));
    expect((await fx.reloads()).reloads).toBe(before.reloads + 1);
    const counts = await spread(http.port, 80);
    expect(counts.c).toBeUndefined();
    expect(counts.a).toBe(48);
    expect(counts.b).toBe(32);
  });

  it('re-enables a node, adds one (HTTP: by reload) and removes one (runtime)', async () => {
    const d = web[3] as TestBackend;
    http = { ...http, nodes: [...http.nodes.map((n) => ({ ...n, condition: 'ENABLED' as const, weight: 1 })), node(d)] };
    await fx.engine.apply(state(http));
    expect(Object.keys(await spread(http.port, 40)).sort()).toEqual(['a', 'b', 'c', 'd']);
    const before = await fx.reloads();
    http = { ...http, nodes: http.nodes.filter((n) => n.id !== 'b') };
    await fx.engine.apply(state(http));
    expect(await fx.reloads()).toEqual(before);
    expect(Object.keys(await spread(http.port, 30)).sort()).toEqual(['a', 'c', 'd']);
  });

  it('runs an HTTP and a TCP load balancer at once; adds a TCP node without a reload', async () => {
    const t1 = await startTcpBackend('t1');
    const t2 = await startTcpBackend('t2');
    backends.push(t1, t2);
    const tcp = await makeLb('11', 'TCP', [node(t1)]);
    await fx.engine.apply(state(http, tcp));
    expect(await tcpRequest(tcp.port)).toBe('t1');
    expect((await httpGet(http.port)).status).toBe(200);
    const before = await fx.reloads();
    const tcp2 = { ...tcp, nodes: [node(t1), node(t2)] };
    await fx.engine.apply(state(http, tcp2));
    expect(await fx.reloads()).toEqual(before);
    // Sticky by source address: every connection from 127.0.0.1 goes to the node it first went to.
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await tcpRequest(tcp.port));
    expect(seen.size).toBe(1);
    const stats = await fx.engine.stats();
    expect(stats.find((s) => s.id === '11')?.nodes.map((n) => n.id)).toEqual(['t1', 't2']);
    await fx.engine.apply(state(http));
    await expect(tcpRequest(tcp.port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('SUSPEND refuses connections, ENABLE serves again', async () => {
    await fx.engine.apply({ loadBalancers: [http], suspended: true });
    await expect(httpGet(http.port)).rejects.toThrow(/ECONNREFUSED/);
    expect((await fx.engine.stats()).map((s) => s.id)).toEqual(['10']);
    await fx.engine.apply(state(http));
    expect((await httpGet(http.port)).status).toBe(200);
  });

  it('terminates TLS with the PEM it wrote (0600), routes by hostname and path, and prunes the PEM when TLS goes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pf9-cert-'));
    try {
      await execFileP('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=www.example.com',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
      const tls = { certificate: await readFile(join(dir, 'cert.pem'), 'utf8'), key: await readFile(join(dir, 'key.pem'), 'utf8') };
      const secure = { ...http, tls, hostname: 'www.example.com', pathBegin: '/api' };
      await fx.engine.apply(state(secure));
      const get = (host: string, path: string): Promise<{ status: number; body: string }> =>
        new Promise((resolve, reject) => {
          https.get({ host: '127.0.0.1', port: http.port, path, headers: { host }, rejectUnauthorized: false, agent: false }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          }).on('error', reject);
        });
      expect(await get('www.example.com', '/api/x')).toMatchObject({ status: 200 });
      expect((await get('www.example.com:443', '/api')).status).toBe(200);
      expect((await get('other.example.com', '/api')).status).toBe(404);
      expect((await get('www.example.com', '/other')).status).toBe(404);
      const pems = await readdir(join(fx.runDir, 'tls'));
      expect(pems).toHaveLength(1);
      expect((await stat(join(fx.runDir, 'tls', pems[0] ?? ''))).mode & 0o777).toBe(0o600);
      await fx.engine.apply(state(http));
      expect(await readdir(join(fx.runDir, 'tls'))).toEqual([]);
      expect((await httpGet(http.port, '/other')).status).toBe(200);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a config HAProxy rejects with its own words, and the old one keeps serving', async () => {
    const bogus = { ...http, tls: { certificate: '-----BEGIN CERTIFICATE-----\nMIIBbogus\n-----END CERTIFICATE-----', key: 'nope' } };
    const before = await fx.reloads();
    const err = await fx.engine.apply(state(bogus)).catch((e: unknown) => e as AgentError);
    expect(err).toMatchObject({ code: 'LB_INVALID' });
    expect((err as AgentError).message).toMatch(/unable to load certificate/);
    expect(await fx.reloads()).toEqual(before);
    expect((await httpGet(http.port)).status).toBe(200);
    expect(await fx.engine.health()).toEqual({ running: true, configValid: true });
  });

  it('reports a killed backend as DOWN after the monitor interval', async () => {
    const a = web[0] as TestBackend;
    http = { ...http, monitor: { type: 'HTTP', delay: 1, timeout: 1, attempts: 2, path: '/health' } };
    await fx.engine.apply(state(http));
    await waitFor(async () => (await fx.engine.stats())[0]?.nodes.every((n) => n.status === 'UP'), { what: 'all nodes UP', timeoutMs: 5000 });
    await a.kill();
    try {
      const down = await waitFor(async () => (await fx.engine.stats())[0]?.nodes.find((n) => n.id === 'a' && n.status === 'DOWN'), {
        what: 'node a DOWN',
        timeoutMs: 6000,
        intervalMs: 100,
      });
      expect(down).toEqual({ id: 'a', address: '127.0.0.1', port: a.port, status: 'DOWN' });
      expect(Object.keys(await spread(http.port, 20)).sort()).toEqual(['c', 'd']);
    } finally {
      await a.revive();
    }
  });

  it('captures log lines per load balancer', async () => {
    await httpGet(http.port, '/logged-path');
    const text = await waitFor(async () => {
      const t = await fx.engine.logs('10');
      return t.includes('GET /logged-path') && t;
    }, { what: 'the request in the log of lb 10' });
    expect(text.split('\n')[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ /);
    expect(await fx.engine.logs('11')).not.toContain('/logged-path');
    expect(await fx.engine.logs('../etc')).toBe('');
  });

  it('counts bytes and sessions per frontend', async () => {
    const counters = await fx.engine.counters();
    expect(counters).toEqual([expect.objectContaining({ id: '10', protocol: 'HTTP' })]);
    expect(counters[0]?.total_sessions).toBeGreaterThan(0);
    expect(counters[0]?.bytes_out).toBeGreaterThan(0);
  });

  it('a new engine on the same run dir re-attaches instead of starting a second HAProxy', async () => {
    const pid = fx.engine.masterPid;
    const before = await fx.reloads();
    await fx.engine.close();
    const again = fx.reopen();
    await again.apply(state(http));
    expect(again.masterPid).toBe(pid);
    expect(await fx.reloads()).toEqual(before); // same config text: nothing to do
    await again.close();
    // Another restart, now with a change: not knowing what the running config came from, it reloads once.
    const third = fx.reopen();
    http = { ...http, nodes: http.nodes.map((n) => ({ ...n, weight: 2 })) };
    await third.apply(state(http));
    expect(third.masterPid).toBe(pid);
    expect((await fx.reloads()).reloads).toBe(before.reloads + 1);
    http = { ...http, nodes: http.nodes.map((n) => ({ ...n, weight: 3 })) };
    await third.apply(state(http));
    expect((await fx.reloads()).reloads).toBe(before.reloads + 1);
    expect((await httpGet(http.port)).status).toBe(200);
    fx.engine = third;
  });

  it('destroy() stops HAProxy and removes its files', async () => {
    const pid = fx.engine.masterPid as number;
    await fx.engine.destroy();
    await expect(httpGet(http.port)).rejects.toThrow(/ECONNREFUSED/);
    expect(await fx.engine.health()).toEqual({ running: false, configValid: false });
    await expect(access(join(fx.runDir, 'haproxy.cfg'))).rejects.toThrow();
    await expect(access(join(fx.runDir, 'logs'))).rejects.toThrow();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
