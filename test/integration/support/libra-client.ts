/**
 * A master-side Libra client for tests: sends worker requests to a host
 * (or the `pf9-lb` topic) with its own reply_to queue and a correlation id
 * per request, and resolves with the reply that carries that id.
 */
import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel } from 'amqplib';

export class LibraClient {
  private readonly waiting = new Map<string, (body: Record<string, unknown>) => void>();

  private constructor(
    private readonly model: ChannelModel,
    private readonly ch: Channel,
    private readonly replyQueue: string,
    private readonly exchange: string,
  ) {}

  static async connect(url: string, exchange = 'pf9-bbone'): Promise<LibraClient> {
    const model = await amqp.connect(url, { noDelay: true });
    const ch = await model.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const client = new LibraClient(model, ch, queue, exchange);
    await ch.consume(
      queue,
      (m) => m && client.waiting.get(String(m.properties.correlationId))?.(JSON.parse(m.content.toString()) as Record<string, unknown>),
      { noAck: true },
    );
    return client;
  }

  request(routingKey: string, request: Record<string, unknown>, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const id = randomUUID();
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no reply to ${JSON.stringify(request).slice(0, 80)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (body) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(body);
      });
    });
    this.ch.publish(this.exchange, routingKey, Buffer.from(JSON.stringify(request)), { replyTo: this.replyQueue, correlationId: id });
    return reply;
  }

  async close(): Promise<void> {
    await this.model.close().catch(() => undefined);
  }
}
