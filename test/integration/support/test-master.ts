/**
 * A stand-in for the historical master, speaking to the agent over the real
 * broker: it declares the exchange and host queues the way pf9-du's master
 * did (pika defaults: not durable, not exclusive, not auto-delete), listens
 * on `master` with a queue of its own, and lets tests wait for messages by
 * predicate instead of sleeping.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';

export interface Received {
  body: Record<string, unknown>;
  routingKey: string;
  correlationId: string | undefined;
  at: number;
}

export class TestMaster extends EventEmitter {
  readonly received: Received[] = [];
  private constructor(
    private readonly model: ChannelModel,
    private readonly ch: Channel,
    readonly exchange: string,
    readonly replyQueue: string,
  ) {
    super();
  }

  static async connect(url: string, exchange = 'pf9-bbone'): Promise<TestMaster> {
    const model = await amqp.connect(url, { noDelay: true });
    const ch = await model.createChannel();
    // A refused declare rejects the call below and also emits 'error'; the rejection is what callers see.
    ch.on('error', () => undefined);
    try {
      await ch.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
    } catch (err) {
      await model.close().catch(() => undefined);
      throw err;
    }
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(q.queue, exchange, 'master');
    const master = new TestMaster(model, ch, exchange, q.queue);
    await ch.consume(q.queue, (m) => m && master.onMessage(m), { noAck: true });
    return master;
  }

  private onMessage(m: ConsumeMessage): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(m.content.toString()) as Record<string, unknown>;
    } catch {
      body = { unparsable: m.content.toString() };
    }
    const r: Received = {
      body,
      routingKey: m.fields.routingKey,
      correlationId: typeof m.properties.correlationId === 'string' ? m.properties.correlationId : undefined,
      at: performance.now(),
    };
    this.received.push(r);
    this.emit('message', r);
  }

  /** Declares a host's queue as the historical master does before it sends to that host. */
  async declareHostQueue(hostId: string): Promise<void> {
    await this.ch.assertQueue(`bbslave-q-${hostId}`, { durable: false, exclusive: false, autoDelete: false });
  }

  send(routingKey: string, body: unknown, props: { correlationId?: string; replyTo?: string } = {}): void {
    const content = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    this.ch.publish(this.exchange, routingKey, content, props);
  }

  /** Sends and waits for the message that carries the same correlation id. */
  async request(routingKey: string, body: unknown, timeoutMs = 10_000): Promise<Received> {
    const correlationId = randomUUID();
    const reply = this.next((r) => r.correlationId === correlationId, timeoutMs, `reply to ${JSON.stringify(body).slice(0, 60)}`);
    this.send(routingKey, body, { correlationId });
    return reply;
  }

  /** The next message (arriving from now on) matching `pred`. */
  next(pred: (r: Received) => boolean, timeoutMs = 10_000, what = 'message'): Promise<Received> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('message', onMessage);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const onMessage = (r: Received): void => {
        if (!pred(r)) return;
        clearTimeout(timer);
        this.off('message', onMessage);
        resolve(r);
      };
      this.on('message', onMessage);
    });
  }

  async close(): Promise<void> {
    await this.model.close().catch(() => undefined);
  }
}

export function statusOf(hostId: string) {
  return (r: Received): boolean =>
    r.body.opcode === 'status' && (r.body.data as { host_id?: string } | undefined)?.host_id === hostId;
}
