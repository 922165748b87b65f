/**
 * pf9-lb on the sozu engine, end to end: set_config picks `engine: sozu`,
 * Libra requests over the real RabbitMQ reach the agent, which drives the
 * sozu simulator (test/helpers/sozu-simulator.ts: sozu's command protocol
 * byte for byte, really proxying on 127.0.0.1). Then the same load balancer
 * is switched live to HAProxy and back through set_config.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredHash } from '../../../src/protocol/canonical-json.js';
import { createVhost, type TestVhost } from '../../helpers/broker.js';
import { closeAll, freePort, httpGet, startBackends, type TestBackend } from '../../helpers/http-backends.js';
import { startSozuSimulator, type SozuSimulator } from '../../helpers/sozu-simulator.js';
import { selfSigned } from '../../helpers/sozu/certs.js';
import { waitFor } from '../../helpers/wait.js';
import { randomHostId, startTestAgent, type TestAgent } from '../support/agent-harness.js';
import { killMatching } from '../support/host-processes.js';
import { LibraClient } from '../support/libra-client.js';
import { statusOf, TestMaster } from '../support/test-master.js';

let vhost: TestVhost;
let master: TestMaster;
let agent: TestAgent;
let libra: LibraClient;
let sim: SozuSimulator;
let work: string;
let socketPath: string;
let web: TestBackend[];
let port: number;
const hostId = randomHostId();
const HOST = 'app.test';

const lb = (request: Record<string, unknown>): Promise<Record<string, unknown>> => libra.request(hostId, request);

async function setLbEngine(engine: 'sozu' | 'haproxy'): Promise<void> {
  const data = { 'pf9-lb': { version: '1.0', running: true, config: { engine } } };
  const ok = master.next(
    (r) => statusOf(hostId)(r) && (r.body.data as { status: string }).status === 'ok' && (r.body.data as { desired_hash: string }).desired_hash === desiredHash(data),
    30_000,
    `pf9-lb on ${engine}`,
  );
  master.send(hostId, { opcode: 'set_config', data });
  await ok;
}

const node = (b: TestBackend): Record<string, unknown> => ({ id: b.id, address: b.address, port: b.port });
const update = (nodes: TestBackend[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  hpcs_action: 'UPDATE',
  loadBalancers: [{ id: 'web', name: 'web', protocol: 'HTTP', port, hostname: HOST, nodes: nodes.map(node), ...extra }],
});

async function served(n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await httpGet(port, '/', { headers: { host: HOST } });
    expect(r.status).toBe(200);
    counts[r.body.trim()] = (counts[r.body.trim()] ?? 0) + 1;
  }
  return counts;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pf9-sozu-e2e-'));
  socketPath = join(work, 'sozu.sock');
  sim = await startSozuSimulator({ socketPath });
  vhost = await createVhost('lb-sozu');
  master = await TestMaster.connect(vhost.url);
  libra = await LibraClient.connect(vhost.url);
  web = await startBackends('http', ['s1', 's2', 's3']);
  port = await freePort();
  agent = await startTestAgent({ url: vhost.url, hostId, sets: ['lb.bind_address=127.0.0.1', `lb.sozu.socket=${socketPath}`, 'hostagent.heartbeat_period=1'] });
  await agent.bus.waitForConnected(10_000);
  await setLbEngine('sozu');
}, 60_000);

afterAll(async () => {
  await lb({ hpcs_action: 'DELETE' }).catch(() => undefined);
  await agent?.dispose();
  if (agent) await killMatching(agent.stateDir);
  await sim?.close();
  await libra?.close();
  await master?.close();
  await vhost?.dispose();
  await closeAll(web ?? []);
  await rm(work, { recursive: true, force: true });
});

describe('pf9-lb on sozu', () => {
  it('UPDATE routes requests for the hostname through sozu to the backends, round robin', async () => {
    expect(await lb(update([web[0]!, web[1]!]))).toMatchObject({ hpcs_response: 'PASS' });
    expect(await served(20)).toEqual({ s1: 10, s2: 10 });
  });

  it('an HTTP load balancer without hostname is refused on this engine, naming the field', async () => {
    const req = update([web[0]!]);
    delete ((req.loadBalancers as Array<Record<string, unknown>>)[0] as Record<string, unknown>).hostname;
    const reply = await lb(req);
    expect(reply.hpcs_response).toBe('FAIL');
    expect(String(reply.hpcs_error)).toMatch(/hostname/);
    expect(await served(2)).toEqual({ s1: 1, s2: 1 });
  });

  it('adding and removing nodes: traffic follows, with no failed request meanwhile', async () => {
    let failures = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) await httpGet(port, '/', { headers: { host: HOST } }).then((r) => r.status !== 200 && failures++, () => failures++);
    })();
    expect((await lb(update([web[0]!, web[1]!, web[2]!]))).hpcs_response).toBe('PASS');
    expect((await lb(update([web[2]!]))).hpcs_response).toBe('PASS');
    stop = true;
    await load;
    expect(failures).toBe(0);
    expect(await served(5)).toEqual({ s3: 5 });
  });

  it('an HTTPS front is registered with the certificate fingerprint (SHA-256 of the DER); the key is masked in the reply', async () => {
    const tls = selfSigned(HOST);
    const fingerprint = createHash('sha256').update(new X509Certificate(tls.certificate).raw).digest('hex');
    const reply = await lb(update([web[0]!], { tls }));
    expect(reply.hpcs_response).toBe('PASS');
    expect(JSON.stringify(reply)).not.toContain(tls.key.split('\n')[1]);
    const dump = sim.dump() as { https_fronts: Array<Record<string, unknown>>; certificates: Array<{ fingerprint: string }> };
    expect(dump.certificates.map((c) => c.fingerprint)).toContain(fingerprint);
    expect(JSON.stringify(dump.https_fronts)).toContain(fingerprint);
    expect(JSON.stringify(agent.logs)).not.toContain(tls.key.split('\n')[1]);
  });

  it('an Error from sozu is a FAIL with its message, and the previous state keeps serving', async () => {
    expect((await lb(update([web[0]!, web[1]!]))).hpcs_response).toBe('PASS');
    sim.failNext('ADD_BACKEND', 'backend refused by the test');
    const reply = await lb(update([web[0]!, web[1]!, web[2]!]));
    expect(reply).toMatchObject({ hpcs_response: 'FAIL' });
    expect(String(reply.hpcs_error)).toContain('backend refused by the test');
    expect(await served(4)).toEqual({ s1: 2, s2: 2 });
  });

  it('after sozu restarts, the agent reconnects and applies the load balancers again', async () => {
    await sim.close();
    sim = await startSozuSimulator({ socketPath });
    await waitFor(async () => (await httpGet(port, '/', { headers: { host: HOST }, timeoutMs: 500 }).then((r) => r.status, () => 0)) === 200, {
      what: 'the agent to re-apply to the restarted sozu',
      timeoutMs: 20_000,
      intervalMs: 200,
    });
  });

  it('switches the live load balancer to HAProxy and back through set_config, same model', async () => {
    await setLbEngine('haproxy');
    // HAProxy routes by the same hostname (others get 404).
    await waitFor(async () => (await httpGet(port, '/', { headers: { host: HOST }, timeoutMs: 500 }).then((r) => r.status, () => 0)) === 200, {
      what: 'HAProxy to serve',
      timeoutMs: 20_000,
    });
    expect((await httpGet(port, '/', { headers: { host: 'other.test' } })).status).toBe(404);
    expect((sim.dump() as { http_fronts: unknown[] }).http_fronts).toEqual([]);
    await setLbEngine('sozu');
    expect(Object.keys(await served(4)).sort()).toEqual(['s1', 's2']);
  });
});
