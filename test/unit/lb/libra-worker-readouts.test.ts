import { createServer, type Server } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpPutRequest } from '../../../src/lb/http-put.js';
import { FakeEngine } from './fake-engine.js';
import { httpUpdate, makeHarness, tcpAndHttpUpdate, type Harness } from './worker-harness.js';

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** A port that was just free: listened on, then closed. */
async function closedPort(): Promise<number> {
  const { server, port } = await listen();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('LibraWorker readouts', () => {
  let h: Harness;
  afterEach(async () => {
    await h.cleanup();
  });

  it('DISCOVER: version 1.0 and the agent version, engine or not', async () => {
    h = await makeHarness({ engine: null });
    expect(await h.worker.handle({ Hpcs_Action: 'discover', x: 1 })).toEqual({
      Hpcs_Action: 'discover',
      x: 1,
      version: '1.0',
      agent_version: '9.9.9',
      hpcs_response: 'PASS',
    });
  });

  it('an unknown action FAILs naming hpcs_action and is logged', async () => {
    h = await makeHarness();
    expect(await h.worker.handle({ hpcs_action: 'PING' }, { correlationId: 'k' })).toEqual({
      hpcs_action: 'PING',
      hpcs_response: 'FAIL',
      hpcs_error: 'hpcs_action: unknown action "PING"; expected one of UPDATE, SUSPEND, ENABLE, DELETE, DISCOVER, ARCHIVE, STATS, METRICS, DIAGNOSTICS',
      hpcs_error_code: 'LB_REQUEST_INVALID',
    });
    expect(h.logs.at(-1)).toMatchObject({ event: 'libra.handled', action: 'PING', correlation_id: 'k', response: 'FAIL', level: 'warn' });
  });

  it('never throws, whatever it is handed', async () => {
    h = await makeHarness();
    const reply = await h.worker.handle({ HPCS_ACTION: 'update', loadbalancers: [], loadBalancers: [] });
    expect(reply).toMatchObject({ hpcs_response: 'FAIL', hpcs_error_code: 'LB_REQUEST_INVALID' });
    expect(reply.hpcs_error).toContain('field given twice');
    expect(h.logs.at(-1)).toMatchObject({ action: 'update', response: 'FAIL' });
    expect(await h.worker.handle(null as unknown as Record<string, unknown>)).toMatchObject({
      hpcs_response: 'FAIL',
      hpcs_error: 'hpcs_action: missing',
    });
  });

  it('STATS: the model joined with what the proxy reports; a node it does not report is DOWN', async () => {
    h = await makeHarness();
    await h.worker.handle(tcpAndHttpUpdate());
    h.engine.statsResult = [
      { id: 'w', nodes: [{ id: 'a', address: '127.0.0.1', port: 9001, status: 'UP' }] },
      { id: 'd', nodes: [] },
      { id: 'other', nodes: [{ id: 'z', address: '1.1.1.1', port: 1, status: 'UP' }] },
    ];
    const reply = await h.worker.handle({ hpcs_action: 'STATS' });
    expect(reply).toEqual({
      hpcs_action: 'STATS',
      loadbalancers: [
        { id: 'w', name: 'web', protocol: 'HTTP', nodes: [{ id: 'a', address: '127.0.0.1', port: 9001, status: 'UP' }] },
        { id: 'd', name: 'db', protocol: 'TCP', nodes: [{ id: 'b', address: '127.0.0.2', port: 3306, status: 'DOWN' }] },
      ],
      hpcs_response: 'PASS',
    });
  });

  it('STATS failing in the engine is a FAIL with its message, not a throw', async () => {
    h = await makeHarness();
    await h.worker.handle(tcpAndHttpUpdate());
    h.engine.stats = () => Promise.reject(new Error('connect ENOENT /run/haproxy/admin.sock'));
    expect(await h.worker.handle({ hpcs_action: 'STATS' })).toMatchObject({
      hpcs_response: 'FAIL',
      hpcs_error: 'connect ENOENT /run/haproxy/admin.sock',
    });
  });

  it('STATS with no load balancers (e.g. after DELETE) is an empty PASS, without asking the proxy', async () => {
    h = await makeHarness();
    h.engine.stats = () => Promise.reject(new Error('must not be asked'));
    expect(await h.worker.handle({ hpcs_action: 'STATS' })).toEqual({ hpcs_action: 'STATS', loadbalancers: [], hpcs_response: 'PASS' });
  });

  it('METRICS: counters since the previous METRICS, from a baseline taken at start; resets count whole', async () => {
    h = await makeHarness();
    await h.worker.handle(tcpAndHttpUpdate());
    h.engine.countersResult = [
      { id: 'w', protocol: 'HTTP', bytes_in: 100, bytes_out: 1000, current_sessions: 2, total_sessions: 10 },
      { id: 'd', protocol: 'TCP', bytes_in: 5, bytes_out: 6, current_sessions: 0, total_sessions: 1 },
    ];
    // A restart of the agent: init reads a baseline.
    const started = await makeHarness({ engine: h.engine, dir: h.dir });
    await started.worker.init();
    h.engine.countersResult = [{ id: 'w', protocol: 'HTTP', bytes_in: 150, bytes_out: 1500, current_sessions: 3, total_sessions: 12 }];
    started.clock.now = new Date('2026-01-01T00:05:00.000Z');
    expect(await started.worker.handle({ hpcs_action: 'METRICS' })).toEqual({
      hpcs_action: 'METRICS',
      utc_start: '2026-01-01T00:00:00.000Z',
      utc_end: '2026-01-01T00:05:00.000Z',
      loadbalancers: [
        { id: 'w', protocol: 'HTTP', bytes_in: 50, bytes_out: 500, current_sessions: 3, total_sessions: 2 },
        { id: 'd', protocol: 'TCP', bytes_in: 0, bytes_out: 0, current_sessions: 0, total_sessions: 0 },
      ],
      hpcs_response: 'PASS',
    });
    // The proxy restarted: counters went down, so all of them are new.
    h.engine.countersResult = [{ id: 'w', protocol: 'HTTP', bytes_in: 7, bytes_out: 70, current_sessions: 1, total_sessions: 1 }];
    started.clock.now = new Date('2026-01-01T00:10:00.000Z');
    const second = await started.worker.handle({ hpcs_action: 'metrics' });
    expect(second).toMatchObject({
      utc_start: '2026-01-01T00:05:00.000Z',
      utc_end: '2026-01-01T00:10:00.000Z',
      loadbalancers: [{ id: 'w', bytes_in: 7, bytes_out: 70, current_sessions: 1, total_sessions: 1 }, { id: 'd' }],
    });
  });

  it('DIAGNOSTICS: proxy health and a TCP connect check per node (listening -> true, closed -> false)', async () => {
    const { server, port } = await listen();
    const closed = await closedPort();
    try {
      h = await makeHarness();
      await h.worker.handle(
        httpUpdate([
          { id: 1, address: '127.0.0.1', port: String(port), weight: 1 },
          { id: 2, address: '127.0.0.1', port: String(closed), weight: 1 },
        ]),
      );
      h.engine.healthResult = { running: true, configValid: false };
      expect(await h.worker.handle({ hpcs_action: 'DIAGNOSTICS' })).toEqual({
        hpcs_action: 'DIAGNOSTICS',
        engine: 'haproxy',
        haproxy: { running: true, config_valid: false },
        nodes: [
          { id: '1', address: '127.0.0.1', port, reachable: true },
          { id: '2', address: '127.0.0.1', port: closed, reachable: false },
        ],
        hpcs_response: 'PASS',
      });
    } finally {
      server.close();
    }
  });

  it('DIAGNOSTICS answers without an engine, and when health cannot be read', async () => {
    h = await makeHarness({ engine: null, probe: () => Promise.resolve(false) });
    expect(await h.worker.handle({ hpcs_action: 'DIAGNOSTICS' })).toMatchObject({
      engine: null,
      haproxy: { running: false, config_valid: false },
      nodes: [],
      hpcs_response: 'PASS',
    });
    const engine = new FakeEngine();
    engine.healthResult = new Error('master socket refused');
    await h.worker.setEngine(engine);
    expect(await h.worker.handle({ hpcs_action: 'DIAGNOSTICS' })).toMatchObject({
      haproxy: { running: false, config_valid: false, error: 'master socket refused' },
    });
  });

  describe('ARCHIVE (through the HTTP seam; the real PUT is in test/integration/lb/archive.test.ts)', () => {
    const archive = {
      hpcs_action: 'ARCHIVE',
      hpcs_object_store_type: 'swift',
      hpcs_object_store_endpoint: 'http://swift.test/v1/AUTH_a',
      hpcs_object_store_basepath: 'logs',
      hpcs_object_store_token: 'sekrit-token',
      loadBalancers: [{ id: 10, protocol: 'HTTP' }],
    };

    it('gzips the LB log lines and PUTs them under <basepath>/<lb id>/ with the token', async () => {
      const puts: HttpPutRequest[] = [];
      h = await makeHarness({
        http: (req) => {
          puts.push(req);
          return Promise.resolve({ status: 201, statusText: 'Created', body: '' });
        },
      });
      await h.worker.handle(httpUpdate());
      h.engine.logsByLb.set('10', 'line 1\nline 2\n');
      h.clock.now = new Date('2026-03-04T05:06:07.000Z');
      expect(await h.worker.handle(archive)).toEqual({
        ...archive,
        hpcs_object_store_token: '*****',
        hpcs_object_name: 'logs/10/web-20260304-050607.log.gz',
        hpcs_response: 'PASS',
      });
      expect(puts).toHaveLength(1);
      expect(puts[0]?.url).toBe('http://swift.test/v1/AUTH_a/logs/10/web-20260304-050607.log.gz');
      expect(puts[0]?.headers['X-Auth-Token']).toBe('sekrit-token');
      expect(gunzipSync(puts[0]?.body ?? Buffer.alloc(0)).toString()).toBe('line 1\nline 2\n');
      expect(JSON.stringify(h.logs)).not.toContain('sekrit-token');
    });

    it('FAILs for a load balancer this host does not have, without uploading', async () => {
      let called = false;
      h = await makeHarness({
        http: () => {
          called = true;
          return Promise.resolve({ status: 201, statusText: 'Created', body: '' });
        },
      });
      await h.worker.handle(httpUpdate());
      const reply = await h.worker.handle({ ...archive, loadBalancers: [{ id: 99 }] });
      expect(reply).toMatchObject({
        hpcs_response: 'FAIL',
        hpcs_error: 'loadBalancers[0].id: no load balancer "99" on this host',
        hpcs_object_store_token: '*****',
      });
      expect(called).toBe(false);
    });

    it('scrubs the token from an error a server echoes back', async () => {
      h = await makeHarness({ http: () => Promise.resolve({ status: 500, statusText: 'Oops', body: 'bad token sekrit-token' }) });
      await h.worker.handle(httpUpdate());
      h.engine.logsByLb.set('10', 'x\n');
      const reply = await h.worker.handle(archive);
      expect(reply.hpcs_error).toBe('object store answered HTTP 500 Oops for logs/10/web-20260101-000000.log.gz at http://swift.test/v1/AUTH_a: bad token *****');
      expect(JSON.stringify(reply)).not.toContain('sekrit-token');
      expect(JSON.stringify(h.logs)).not.toContain('sekrit-token');
    });
  });
});
