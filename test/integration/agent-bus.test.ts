/**
 * The agent on a real RabbitMQ, seen from a master's side of the bus.
 * Every test runs in this file's own vhost; host ids are random.
 */
import amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeConnections, createVhost, type TestVhost } from '../helpers/broker.js';
import { waitFor } from '../helpers/wait.js';
import { randomHostId, startTestAgent, type TestAgent } from './support/agent-harness.js';
import { statusOf, TestMaster } from './support/test-master.js';
import { desiredHash } from '../../src/protocol/canonical-json.js';

let vhost: TestVhost;
let master: TestMaster;
const agents: TestAgent[] = [];

async function agent(opts: Partial<Parameters<typeof startTestAgent>[0]> = {}): Promise<TestAgent> {
  const a = await startTestAgent({ url: vhost.url, ...opts });
  agents.push(a);
  await a.bus.waitForConnected(10_000);
  return a;
}

beforeAll(async () => {
  vhost = await createVhost('agent-bus');
  master = await TestMaster.connect(vhost.url);
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.dispose()));
});

afterAll(async () => {
  await master.close();
  await vhost.dispose();
});

describe('ping and status', () => {
  it('answers ping with a status naming its host_id and host info, with the correlation id', async () => {
    const a = await agent();
    const reply = await master.request(a.hostId, { opcode: 'ping' });
    expect(reply.routingKey).toBe('master');
    expect(reply.body).toMatchObject({
      opcode: 'status',
      data: {
        host_id: a.hostId,
        status: 'ok',
        info: { os_family: 'Linux', arch: expect.any(String) as unknown, hostname: expect.any(String) as unknown },
        host_agent: { status: 'running', version: expect.any(String) as unknown },
        heartbeat_period: 60,
        desired_hash: null,
        apps: {},
      },
    });
    const data = reply.body.data as { timestamp: string; info: { os_info: string } };
    expect(Date.parse(data.timestamp)).not.toBeNaN();
    expect(data.info.os_info.length).toBeGreaterThan(0);
  });

  it('sends heartbeats at the configured period (within its 5% jitter)', async () => {
    const a = await agent({ sets: ['hostagent.heartbeat_period=1'] });
    const beat = (r: { correlationId: string | undefined; body: Record<string, unknown> }): boolean =>
      statusOf(a.hostId)(r as never) && r.correlationId === undefined;
    const first = await master.next(beat, 5000, 'first heartbeat');
    const second = await master.next(beat, 5000, 'second heartbeat');
    const third = await master.next(beat, 5000, 'third heartbeat');
    for (const gap of [second.at - first.at, third.at - second.at]) {
      expect(gap).toBeGreaterThan(900);
      expect(gap).toBeLessThan(1300);
    }
    expect((third.body.data as { heartbeat_period: number }).heartbeat_period).toBe(1);
  });

  it('delivers a broadcast on `slaves` to every agent', async () => {
    const [a, b] = await Promise.all([agent(), agent()]);
    const wantA = master.next((r) => statusOf(a.hostId)(r) && r.correlationId === 'bcast');
    const wantB = master.next((r) => statusOf(b.hostId)(r) && r.correlationId === 'bcast');
    master.send('slaves', { opcode: 'ping' }, { correlationId: 'bcast' });
    await Promise.all([wantA, wantB]);
  });
});

describe('bad messages', () => {
  it.each([
    ['malformed JSON', '{"opcode": ', 'MESSAGE_MALFORMED'],
    ['an unknown opcode', { opcode: 'self_destruct' }, 'OPCODE_UNKNOWN'],
    ['wrong types', { opcode: 'set_config', data: { 'pf9-foo': { version: '1', running: 'yes' } } }, 'MESSAGE_INVALID'],
    ['a JSON array', [1, 2, 3], 'MESSAGE_INVALID'],
  ])('answers %s with an error message and keeps serving', async (_name, body, code) => {
    const a = await agent();
    const reply = await master.request(a.hostId, body);
    expect(reply.body).toMatchObject({ opcode: 'error', data: { host_id: a.hostId, error: { code } } });
    expect((reply.body.data as { received: { excerpt: string } }).received.excerpt.length).toBeGreaterThan(0);
    const ping = await master.request(a.hostId, { opcode: 'ping' });
    expect(ping.body.opcode).toBe('status');
    // Acked, not requeued: nothing is left on the queue.
    const probe = await amqp.connect(vhost.url);
    const ch = await probe.createChannel();
    const q = await ch.checkQueue(a.queue);
    await probe.close();
    expect(q.messageCount).toBe(0);
  });
});

describe('set_config before reconcile exists', () => {
  it('saves the desired apps, reports their hash, and still has them after a restart', async () => {
    const hostId = randomHostId();
    const a = await agent({ hostId });
    const apps = { 'pf9-foo': { version: '1.0-1', url: 'http://example.invalid/pf9-foo.rpm', running: true, config: {} } };
    const reply = await master.request(hostId, { opcode: 'set_config', data: apps });
    expect(reply.body).toMatchObject({ opcode: 'status', data: { desired_hash: desiredHash(apps), status: 'converging' } });
    const stateDir = a.stateDir;
    await a.stop();
    const b = await agent({ hostId, stateDir });
    const again = await master.request(hostId, { opcode: 'ping' });
    expect((again.body.data as { desired_hash: string }).desired_hash).toBe(desiredHash(apps));
    await b.stop();
  });

  it('answers Libra requests at their reply_to with the correlation id; pf9-lb off means FAIL for changes', async () => {
    const a = await agent();
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    const replies = new Map<string, Record<string, unknown>>();
    let arrived!: () => void;
    const both = new Promise<void>((resolve) => (arrived = resolve));
    await ch.consume(
      q.queue,
      (m) => {
        if (!m) return;
        replies.set(String(m.properties.correlationId), JSON.parse(m.content.toString()) as Record<string, unknown>);
        if (replies.size === 2) arrived();
      },
      { noAck: true },
    );
    const send = (body: object, correlationId: string): boolean =>
      ch.publish('pf9-bbone', a.hostId, Buffer.from(JSON.stringify(body)), { replyTo: q.queue, correlationId });
    send({ hpcs_action: 'DISCOVER' }, 'lb-1');
    send({ hpcs_action: 'update', loadBalancers: [{ id: 'lb1', name: 'web', protocol: 'HTTP', port: '8080', nodes: [{ id: 'n1', address: '127.0.0.1', port: '9' }] }] }, 'lb-2');
    await both;
    await conn.close();
    expect(replies.get('lb-1')).toEqual({ hpcs_action: 'DISCOVER', version: '1.0', agent_version: expect.any(String) as unknown, hpcs_response: 'PASS' });
    expect(replies.get('lb-2')).toMatchObject({ hpcs_action: 'update', hpcs_response: 'FAIL', hpcs_error_code: 'LB_NOT_SUPPORTED' });
  });
});

describe('app topics', () => {
  it('binds and unbinds an app topic, and keeps the binding across a reconnect', async () => {
    const a = await agent();
    const topic = `pf9-app-${a.hostId.replace(/:/g, '').toLowerCase()}`;
    await a.bus.bindTopic(topic);
    expect((await master.request(topic, { opcode: 'ping' })).body).toMatchObject({ data: { host_id: a.hostId } });

    const reconnected = new Promise<void>((resolve) => a.bus.on('connected', () => resolve()));
    await waitFor(async () => (await closeConnections(vhost.name)) > 0 || undefined, { what: 'connections to close', timeoutMs: 10_000 });
    await reconnected;
    await master.close();
    master = await TestMaster.connect(vhost.url);
    expect((await master.request(topic, { opcode: 'ping' })).body).toMatchObject({ data: { host_id: a.hostId } });

    await a.bus.unbindTopic(topic);
    await expect(master.request(topic, { opcode: 'ping' }, 500)).rejects.toThrow(/timed out/);
  });
});

describe('reconnects', () => {
  it('reconnects after the broker closes its connection, and answers ping again', async () => {
    const a = await agent();
    const disconnected = new Promise<string>((resolve) => a.bus.on('disconnected', resolve));
    const reconnected = new Promise<void>((resolve) => {
      let seen = false;
      a.bus.on('disconnected', () => (seen = true));
      a.bus.on('connected', () => seen && resolve());
    });
    await waitFor(async () => (await closeConnections(vhost.name)) > 0 || undefined, { what: 'a connection to close', timeoutMs: 10_000 });
    await disconnected;
    await reconnected;
    const reply = await master.request(a.hostId, { opcode: 'ping' }).catch(async () => {
      // closeConnections also closed the test master's own connection; reconnect it and retry.
      await master.close();
      master = await TestMaster.connect(vhost.url);
      return master.request(a.hostId, { opcode: 'ping' });
    });
    expect(reply.body.opcode).toBe('status');
    expect(a.logs.some((l) => l.event === 'bus.disconnected')).toBe(true);
  });
});
