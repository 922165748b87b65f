/**
 * Graceful shutdown at the bus level, on the real broker: close() stops
 * consuming, lets the message being handled finish and be acked, and only
 * then closes the connection, so nothing is redelivered after a clean stop.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpBus } from '../../src/bus/amqp-bus.js';
import { createLogger } from '../../src/logger.js';
import { createVhost, type TestVhost } from '../helpers/broker.js';
import { withTimeout } from '../helpers/wait.js';

let vhost: TestVhost;
beforeAll(async () => {
  vhost = await createVhost('bus-shutdown');
});
afterAll(async () => {
  await vhost.dispose();
});

function makeBus(queue: string): AmqpBus {
  return new AmqpBus({
    url: vhost.url,
    tls: { enabled: false, ca: '', cert: '', key: '', verify: true },
    topology: { exchange: 'pf9-bbone', queue, durable: false, queueType: 'classic', bindings: ['slaves', queue] },
    connectTimeoutMs: 5000,
    heartbeatSeconds: 30,
    prefetch: 16,
    backoff: { baseMs: 50, maxMs: 500, factor: 2, jitter: 0.2 },
    clientName: 'bus-shutdown-test',
    logger: createLogger({ level: 'silent' }),
  });
}

describe('AmqpBus.close', () => {
  it('finishes the message in flight and acks it before closing', async () => {
    const queue = `bus-shutdown-${Date.now()}`;
    const bus = makeBus(queue);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const handling = new Promise<void>((r) => (started = r));
    let finished = false;
    bus.start(async () => {
      started();
      await gate;
      finished = true;
      return 'ack';
    });
    await bus.waitForConnected(10_000);

    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    ch.publish('pf9-bbone', queue, Buffer.from('{"opcode":"ping"}'));
    await withTimeout(handling, 5000, 'the handler to start');

    const closing = bus.close();
    // close() must wait for the handler rather than cut it off.
    const early = await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(() => r('waiting'), 200))]);
    expect(early).toBe('waiting');
    release();
    await withTimeout(closing, 5000, 'close() to finish');
    expect(finished).toBe(true);
    expect(bus.isConnected()).toBe(false);

    // Acked, so nothing comes back for the next consumer.
    const q = await ch.checkQueue(queue);
    expect(q.messageCount).toBe(0);
    expect(q.consumerCount).toBe(0);
    await ch.deleteQueue(queue);
    await conn.close();
  });

  it('rejects without requeue what the handler refuses, so it is not delivered again', async () => {
    const queue = `bus-reject-${Date.now()}`;
    const bus = makeBus(queue);
    let calls = 0;
    let seen!: () => void;
    const handled = new Promise<void>((r) => (seen = r));
    bus.start(() => {
      calls++;
      seen();
      return Promise.resolve('reject');
    });
    await bus.waitForConnected(10_000);
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    ch.publish('pf9-bbone', queue, Buffer.from('{}'));
    await withTimeout(handled, 5000, 'the handler');
    await bus.close();
    const q = await ch.checkQueue(queue);
    expect(q.messageCount).toBe(0);
    expect(calls).toBe(1);
    await ch.deleteQueue(queue);
    await conn.close();
  });
});
