/**
 * Interoperating with the historical master's declarations: RabbitMQ
 * refuses a second declare with other arguments (406 PRECONDITION_FAILED),
 * so whoever declares second must match, or fall back to using what exists.
 */
import amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVhost, type TestVhost } from '../helpers/broker.js';
import { randomHostId, startTestAgent, type TestAgent } from './support/agent-harness.js';
import { TestMaster } from './support/test-master.js';

let vhost: TestVhost;
const agents: TestAgent[] = [];
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  vhost = await createVhost('topology');
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.dispose()));
  for (const c of cleanups.splice(0)) await c();
});
afterAll(async () => {
  await vhost.dispose();
});

async function agentOn(exchange: string, hostId: string, sets: string[] = []): Promise<TestAgent> {
  const a = await startTestAgent({ url: vhost.url, hostId, sets: [`amqp.exchange=${exchange}`, ...sets] });
  agents.push(a);
  await a.bus.waitForConnected(10_000);
  return a;
}

async function masterOn(exchange: string): Promise<TestMaster> {
  const m = await TestMaster.connect(vhost.url, exchange);
  cleanups.push(() => m.close());
  return m;
}

async function pingWorks(m: TestMaster, hostId: string): Promise<void> {
  const reply = await m.request(hostId, { opcode: 'ping' });
  expect(reply.body).toMatchObject({ opcode: 'status', data: { host_id: hostId } });
}

let n = 0;
const uniqueExchange = (): string => `pf9-bbone-t${++n}-${Date.now()}`;

describe('declarations shared with the historical master', () => {
  it('works when the master declared exchange and queue first (not durable)', async () => {
    const ex = uniqueExchange();
    const hostId = randomHostId();
    const m = await masterOn(ex);
    await m.declareHostQueue(hostId);
    const a = await agentOn(ex, hostId);
    await pingWorks(m, hostId);
    expect(a.logs.filter((l) => l.event === 'bus.topology_mismatch')).toEqual([]);
  });

  it('lets the master declare after the agent without PRECONDITION_FAILED', async () => {
    const ex = uniqueExchange();
    const hostId = randomHostId();
    await agentOn(ex, hostId);
    // TestMaster.connect declares the exchange the historical way; declareHostQueue the queue. Either would throw on 406.
    const m = await masterOn(ex);
    await m.declareHostQueue(hostId);
    await pingWorks(m, hostId);
  });

  it('uses a durable exchange and queue declared by someone else as they are, and warns with both argument sets', async () => {
    const ex = uniqueExchange();
    const hostId = randomHostId();
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    await ch.assertExchange(ex, 'topic', { durable: true });
    await ch.assertQueue(`bbslave-q-${hostId}`, { durable: true });
    await conn.close();

    const a = await agentOn(ex, hostId);
    const warnings = a.logs.filter((l) => l.event === 'bus.topology_mismatch');
    expect(warnings.map((w) => w.object).sort()).toEqual(['exchange', 'queue']);
    for (const w of warnings) {
      expect(w.wanted).toMatchObject({ durable: false });
      expect(String(w.broker)).toMatch(/inequivalent arg 'durable'.*received 'false' but current is 'true'/);
    }
    const m = await masterOn(ex).catch(() => undefined);
    // The historical master itself cannot declare this exchange (that is the broker's rule); talk to it passively.
    expect(m).toBeUndefined();
    const probe = await amqp.connect(vhost.url);
    const pch = await probe.createChannel();
    const q = await pch.assertQueue('', { exclusive: true });
    await pch.bindQueue(q.queue, ex, 'master');
    const reply = new Promise<Record<string, unknown>>((resolve) =>
      void pch.consume(q.queue, (msg) => msg && resolve(JSON.parse(msg.content.toString()) as Record<string, unknown>), { noAck: true }),
    );
    pch.publish(ex, hostId, Buffer.from('{"opcode":"ping"}'));
    expect(await reply).toMatchObject({ opcode: 'status', data: { host_id: hostId } });
    await probe.close();
  });

  it('declares durable when asked (amqp.durable=true), and a quorum queue with amqp.queue_type=quorum', async () => {
    const ex = uniqueExchange();
    const durableHost = randomHostId();
    const quorumHost = randomHostId();
    const d = await agentOn(ex, durableHost, ['amqp.durable=true']);
    const q = await agentOn(ex, quorumHost, ['amqp.queue_type=quorum']);
    expect(d.logs.filter((l) => l.event === 'bus.topology_mismatch')).toEqual([]);
    expect(q.logs.filter((l) => l.event === 'bus.topology_mismatch')).toEqual([]);
    // A non-durable redeclare is refused: proof that what exists is durable.
    const conn = await amqp.connect(vhost.url);
    conn.on('error', () => undefined);
    for (const name of [d.queue, q.queue]) {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await expect(ch.assertQueue(name, { durable: false })).rejects.toThrow(/PRECONDITION_FAILED/);
    }
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await expect(ch.assertQueue(q.queue, { durable: true })).rejects.toThrow(/x-queue-type/);
    await conn.close();
  });
});
