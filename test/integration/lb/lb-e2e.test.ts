/**
 * The load-balancer app end to end: a master on the real RabbitMQ turns
 * pf9-lb on with set_config, then sends Libra worker requests (with
 * reply_to and correlation_id) that the agent applies to a real HAProxy on
 * 127.0.0.1, in front of small backends on 127.0.0.1.
 */
import { gunzipSync } from 'node:zlib';
import { startSwiftServer } from '../../helpers/swift-server.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredHash } from '../../../src/protocol/canonical-json.js';
import { createVhost, type TestVhost } from '../../helpers/broker.js';
import { closeAll, freePort, httpGet, startBackends, startTcpBackend, tcpRequest, type TestBackend } from '../../helpers/http-backends.js';
import { waitFor } from '../../helpers/wait.js';
import { randomHostId, startTestAgent, type TestAgent } from '../support/agent-harness.js';
import { killMatching } from '../support/host-processes.js';
import { LibraClient } from '../support/libra-client.js';
import { statusOf, TestMaster } from '../support/test-master.js';

let vhost: TestVhost;
let master: TestMaster;
let agent: TestAgent;
let libra: LibraClient;
let web: TestBackend[];
let tcp: TestBackend;
let webPort: number;
let tcpPort: number;
const hostId = randomHostId();
const BOGUS_PEM = '-----BEGIN CERTIFICATE-----\nTUlJQm9ndXM=\n-----END CERTIFICATE-----\n';
const BOGUS_KEY = '-----BEGIN PRIVATE KEY-----\nTUlJQm9ndXM=\n-----END PRIVATE KEY-----\n';
const lbOn = { 'pf9-lb': { version: '1.0', running: true, config: { engine: 'haproxy' } } };

/** A Libra worker request, answered at our reply_to. */
const lb = (request: Record<string, unknown>, routingKey = hostId): Promise<Record<string, unknown>> => libra.request(routingKey, request);

const node = (b: TestBackend, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ id: b.id, address: b.address, port: b.port, ...extra });

function httpLb(nodes: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'web', name: 'web', protocol: 'HTTP', port: webPort, nodes, ...extra };
}

async function spread(n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await httpGet(webPort, '/');
    counts[r.body.trim()] = (counts[r.body.trim()] ?? 0) + 1;
  }
  return counts;
}

beforeAll(async () => {
  vhost = await createVhost('lb-e2e');
  master = await TestMaster.connect(vhost.url);
  libra = await LibraClient.connect(vhost.url);
  web = await startBackends('http', ['n1', 'n2', 'n3']);
  tcp = await startTcpBackend('t1');
  webPort = await freePort();
  tcpPort = await freePort();
  agent = await startTestAgent({ url: vhost.url, hostId, sets: ['lb.bind_address=127.0.0.1', 'hostagent.heartbeat_period=1'] });
  await agent.bus.waitForConnected(10_000);
  const on = master.next((r) => statusOf(hostId)(r) && (r.body.data as { status: string }).status === 'ok' && (r.body.data as { desired_hash: string }).desired_hash === desiredHash(lbOn), 30_000, 'pf9-lb on');
  master.send(hostId, { opcode: 'set_config', data: lbOn });
  await on;
}, 60_000);

afterAll(async () => {
  await lb({ hpcs_action: 'DELETE' }).catch(() => undefined);
  await agent?.dispose();
  await killMatching(agent.stateDir); // any HAProxy left by a failed test
  await libra?.close();
  await master?.close();
  await vhost?.dispose();
  await closeAll([...(web ?? []), ...(tcp ? [tcp] : [])]);
});

describe('pf9-lb through Libra requests', () => {
  it('DISCOVER answers with the worker protocol version; the reply is the request plus fields', async () => {
    const req = { HPCS_ACTION: 'discover', extra_field: { kept: true } };
    expect(await lb(req)).toEqual({ ...req, version: '1.0', agent_version: expect.any(String) as unknown, hpcs_response: 'PASS' });
  });

  it('UPDATE builds an HTTP load balancer that balances by weight (field names and values in any case)', async () => {
    const req = {
      hpcs_action: 'UpDaTe',
      LoadBalancers: [{ Id: 'web', NAME: 'web', protocol: 'http', PORT: String(webPort), algorithm: 'round_robin', nodes: [node(web[0]!, { weight: '1' }), node(web[1]!, { weight: 2 }), node(web[2]!, { WEIGHT: 1 })] }],
      ignored: 'extra',
    };
    expect(await lb(req)).toEqual({ ...req, hpcs_response: 'PASS' });
    const counts = await spread(200);
    expect(counts.n1! + counts.n2! + counts.n3!).toBe(200);
    expect(counts.n2! / counts.n1!).toBeGreaterThan(1.5);
    expect(counts.n2! / counts.n3!).toBeGreaterThan(1.5);
  });

  it('a DISABLED node gets no new requests; a node can be added and removed', async () => {
    expect((await lb({ hpcs_action: 'UPDATE', loadBalancers: [httpLb([node(web[0]!), node(web[1]!, { condition: 'DISABLED' }), node(web[2]!)])] })).hpcs_response).toBe('PASS');
    const c1 = await spread(60);
    expect(c1.n2).toBeUndefined();
    expect(c1.n1! + c1.n3!).toBe(60);
    expect((await lb({ hpcs_action: 'UPDATE', loadBalancers: [httpLb([node(web[0]!)])] })).hpcs_response).toBe('PASS');
    expect(Object.keys(await spread(20))).toEqual(['n1']);
    expect((await lb({ hpcs_action: 'UPDATE', loadBalancers: [httpLb([node(web[0]!), node(web[2]!)])] })).hpcs_response).toBe('PASS');
    expect(Object.keys(await spread(20)).sort()).toEqual(['n1', 'n3']);
  });

  it('two load balancers in one UPDATE, one HTTP and one TCP; STATS and METRICS report them', async () => {
    const reply = await lb({
      hpcs_action: 'UPDATE',
      loadBalancers: [httpLb([node(web[0]!), node(web[1]!)]), { id: 'db', name: 'db', protocol: 'TCP', port: tcpPort, nodes: [node(tcp)] }],
    });
    expect(reply.hpcs_response).toBe('PASS');
    expect(await tcpRequest(tcpPort)).toBe('t1');
    expect((await httpGet(webPort, '/')).status).toBe(200);
    const stats = await lb({ hpcs_action: 'STATS' });
    expect(stats).toMatchObject({
      hpcs_response: 'PASS',
      loadbalancers: [
        { id: 'web', name: 'web', protocol: 'HTTP', nodes: [{ id: 'n1', status: 'UP' }, { id: 'n2', status: 'UP' }] },
        { id: 'db', name: 'db', protocol: 'TCP', nodes: [{ id: 't1', status: 'UP' }] },
      ],
    });
    const metrics = await lb({ hpcs_action: 'METRICS' });
    expect(metrics).toMatchObject({ hpcs_response: 'PASS', utc_start: expect.any(String) as unknown, utc_end: expect.any(String) as unknown });
    const web0 = (metrics.loadbalancers as Array<{ id: string; total_sessions: number; bytes_out: number }>).find((m) => m.id === 'web');
    expect(web0?.total_sessions).toBeGreaterThan(0);
    expect(web0?.bytes_out).toBeGreaterThan(0);
  });

  it('refuses invalid UPDATEs with a message naming the problem, and the previous LB keeps serving', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ hpcs_action: 'UPDATE', loadBalancers: [httpLb([node(web[0]!)]), { ...httpLb([node(web[1]!)]), id: 'b', port: tcpPort }, { id: 'c', protocol: 'TCP', port: 1, nodes: [node(tcp)] }] }, /one or two|at most two|3/i],
      [{ hpcs_action: 'UPDATE', loadBalancers: [httpLb([node(web[0]!)]), { ...httpLb([node(web[1]!)]), id: 'b', port: tcpPort }] }, /HTTP/],
      [{ hpcs_action: 'UPDATE', loadBalancers: [httpLb([node(web[0]!, { weight: 300 })])] }, /weight/],
      [{ hpcs_action: 'UPDATE', loadBalancers: [httpLb([node(web[0]!)], { port: 70000 })] }, /port/],
      [{ hpcs_action: 'UPDATE', loadBalancers: [httpLb([])] }, /nodes/],
      // Well-formed to the parser, refused by HAProxy itself (haproxy -c): its own words come back.
      [{ hpcs_action: 'UPDATE', loadBalancers: [httpLb([node(web[0]!)], { tls: { certificate: BOGUS_PEM, key: BOGUS_KEY } })] }, /haproxy|ALERT|certificate|PEM/i],
    ];
    for (const [req, problem] of cases) {
      const reply = await lb(req);
      expect(reply.hpcs_response).toBe('FAIL');
      expect(String(reply.hpcs_error)).toMatch(problem);
    }
    expect(await tcpRequest(tcpPort)).toBe('t1');
    expect((await httpGet(webPort, '/')).status).toBe(200);
  });

  it('SUSPEND refuses connections, ENABLE serves again', async () => {
    expect((await lb({ hpcs_action: 'SUSPEND' })).hpcs_response).toBe('PASS');
    await expect(httpGet(webPort, '/', { timeoutMs: 1000 })).rejects.toThrow();
    expect((await lb({ hpcs_action: 'ENABLE' })).hpcs_response).toBe('PASS');
    expect((await httpGet(webPort, '/')).status).toBe(200);
  });

  it('STATS shows a killed backend as DOWN after the monitor interval', async () => {
    const monitor = { type: 'CONNECT', delay: 1, timeout: 1, attempts: 2 };
    expect((await lb({ hpcs_action: 'UPDATE', loadBalancers: [httpLb([node(web[0]!), node(web[1]!)], { monitor })] })).hpcs_response).toBe('PASS');
    await web[1]!.kill();
    try {
      await waitFor(
        async () => {
          const s = await lb({ hpcs_action: 'STATS' });
          const nodes = (s.loadbalancers as Array<{ nodes: Array<{ id: string; status: string }> }>)[0]?.nodes ?? [];
          return nodes.find((n) => n.id === 'n2')?.status === 'DOWN';
        },
        { what: 'n2 to be DOWN in STATS', timeoutMs: 15_000, intervalMs: 500 },
      );
      expect(Object.keys(await spread(10))).toEqual(['n1']);
    } finally {
      await web[1]!.revive();
    }
  });

  it('a re-sent set_config for pf9-lb leaves the load balancers alone', async () => {
    const settled = master.next((r) => statusOf(hostId)(r) && (r.body.data as { status: string }).status === 'ok', 20_000, 'status ok');
    master.send(hostId, { opcode: 'set_config', data: lbOn });
    await settled;
    expect((await httpGet(webPort, '/')).status).toBe(200);
  });

  it('restores the load balancers from disk when the agent restarts after HAProxy died with it', async () => {
    const stateDir = agent.stateDir;
    await agent.stop();
    await killMatching(`${stateDir}/`); // HAProxy too: a reboot
    await waitFor(async () => !(await httpGet(webPort, '/', { timeoutMs: 500 }).then(() => true, () => false)), { what: 'the LB to be down', timeoutMs: 5000 });
    agent = await startTestAgent({ url: vhost.url, hostId, stateDir, sets: ['lb.bind_address=127.0.0.1', 'hostagent.heartbeat_period=1'] });
    await waitFor(async () => (await httpGet(webPort, '/', { timeoutMs: 500 }).then((r) => r.status, () => 0)) === 200, {
      what: 'the restored LB to serve',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
  });

  it('DIAGNOSTICS says HAProxy runs with a valid config, and which nodes answer', async () => {
    const reply = await lb({ hpcs_action: 'DIAGNOSTICS' });
    expect(reply).toMatchObject({ hpcs_response: 'PASS', haproxy: { running: true, config_valid: true } });
    const nodes = reply.nodes as Array<{ id: string; reachable: boolean }>;
    expect(nodes.find((n) => n.id === 'n1')?.reachable).toBe(true);
  });

  it('ARCHIVE uploads the gzipped HAProxy log lines of one load balancer to a Swift store; the token is masked', async () => {
    const swift = await startSwiftServer({ token: 'tok-123' });
    try {
      swift.createContainer('lb-logs');
      for (let i = 0; i < 5; i++) expect((await httpGet(webPort, `/archive-me-${i}`)).status).toBeLessThan(500);
      const req = {
        hpcs_action: 'ARCHIVE',
        hpcs_object_store_type: 'swift',
        hpcs_object_store_endpoint: swift.endpoint,
        hpcs_object_store_basepath: 'lb-logs',
        hpcs_object_store_token: 'tok-123',
        loadBalancers: [{ id: 'web', name: 'web', protocol: 'HTTP' }],
      };
      // HAProxy writes its log lines asynchronously: retry until the archive holds our requests.
      let text = '';
      await waitFor(
        async () => {
          const reply = await lb(req);
          expect(reply).toMatchObject({ hpcs_response: 'PASS', hpcs_object_store_token: '*****' });
          const name = String(reply.hpcs_object_name).replace(/^lb-logs\//, '');
          text = gunzipSync(swift.object('lb-logs', name) ?? Buffer.alloc(0)).toString('utf8');
          return text.includes('/archive-me-4');
        },
        { what: 'the archive to hold the requests just made', timeoutMs: 20_000, intervalMs: 1000 },
      );
      expect(text).toMatch(/web/);
      const bad = await lb({ ...req, hpcs_object_store_token: 'wrong' });
      expect(bad).toMatchObject({ hpcs_response: 'FAIL', hpcs_object_store_token: '*****' });
      expect(String(bad.hpcs_error)).toMatch(/401/);
    } finally {
      await swift.close();
    }
  });

  it('DELETE removes the load balancers', async () => {
    expect((await lb({ hpcs_action: 'DELETE' }, 'pf9-lb')).hpcs_response).toBe('PASS');
    await expect(httpGet(webPort, '/', { timeoutMs: 1000 })).rejects.toThrow();
    expect(await lb({ hpcs_action: 'STATS' })).toMatchObject({ hpcs_response: 'PASS', loadbalancers: [] });
  });
});
