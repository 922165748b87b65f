/**
 * AMQP driver of the Bus: one connection, a consuming channel and a
 * confirm channel for publishing, re-established forever with capped,
 * jittered backoff.
 *
 * Timing note: the loop never sleeps with a bare setTimeout; `delay` is
 * injected (tests pass one that resolves at once and records the schedule)
 * and every wait is abortable so close() does not hang on a pending retry.
 *
 * Any channel closing under us (a publish to a deleted exchange, a consumer
 * cancelled by the broker because its queue was deleted) is handled like a
 * lost connection: tear down and start again, which re-declares topology.
 * That keeps one recovery path instead of one per failure.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { BusError } from '../errors.js';
import type { Logger } from '../logger.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { Bus, BusEvents, MessageHandler, PublishOptions } from './bus.js';
import { declareTopology, type TopologySpec } from './topology.js';
import { maskUrl } from '../config/mask.js';

export type ConnectFn = (url: string, socketOptions: Record<string, unknown>) => Promise<ChannelModel>;
export type DelayFn = (ms: number, signal: AbortSignal) => Promise<void>;

export interface AmqpBusOptions {
  url: string;
  tls: { enabled: boolean; ca: string; cert: string; key: string; verify: boolean };
  topology: Omit<TopologySpec, 'bindings'> & { bindings: readonly string[] };
  connectTimeoutMs: number;
  heartbeatSeconds: number;
  prefetch: number;
  backoff: BackoffPolicy;
  clientName: string;
  logger: Logger;
  connect?: ConnectFn;
  delay?: DelayFn;
  random?: () => number;
}

export const abortableDelay: DelayFn = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

const defaultConnect: ConnectFn = async (url, socketOptions) => {
  // Loaded here so that tools importing the bus types do not pay for amqplib.
  const amqp = await import('amqplib');
  return amqp.connect(url, socketOptions);
};

interface Session {
  model: ChannelModel;
  consumer: Channel;
  publisher: ConfirmChannel;
  consumerTag: string | undefined;
  closed: Promise<string>;
  markClosed: (reason: string) => void;
}

export class AmqpBus extends EventEmitter implements Bus {
  private readonly opts: AmqpBusOptions;
  private readonly log: Logger;
  private readonly connectFn: ConnectFn;
  private readonly delayFn: DelayFn;
  private readonly random: () => number;
  private readonly bindings: Set<string>;
  private readonly stopper = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private session: Session | undefined;
  private loop: Promise<void> | undefined;
  private handler: MessageHandler | undefined;
  private connectedWaiters: Array<() => void> = [];

  constructor(opts: AmqpBusOptions) {
    super();
    this.opts = opts;
    this.log = opts.logger;
    this.connectFn = opts.connect ?? defaultConnect;
    this.delayFn = opts.delay ?? abortableDelay;
    this.random = opts.random ?? Math.random;
    this.bindings = new Set(opts.topology.bindings);
  }

  override on<E extends keyof BusEvents>(event: E, listener: BusEvents[E]): this {
    return super.on(event, listener);
  }

  override off<E extends keyof BusEvents>(event: E, listener: BusEvents[E]): this {
    return super.off(event, listener);
  }

  start(handler: MessageHandler): void {
    if (this.loop) throw new BusError('INTERNAL', 'bus already started');
    this.handler = handler;
    this.loop = this.runForever();
  }

  isConnected(): boolean {
    return this.session !== undefined;
  }

  waitForConnected(timeoutMs = 30_000): Promise<void> {
    if (this.session) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.connectedWaiters = this.connectedWaiters.filter((w) => w !== onConnected);
        reject(new BusError('BUS_UNAVAILABLE', `not connected to the broker after ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.connectedWaiters.push(onConnected);
    });
  }

  async publish(routingKey: string, body: unknown, options: PublishOptions = {}): Promise<void> {
    const session = this.session;
    if (!session) throw new BusError('BUS_UNAVAILABLE', `not connected: cannot publish to ${routingKey}`);
    const content = Buffer.from(JSON.stringify(body));
    const props: Options.Publish = { contentType: 'application/json', correlationId: options.correlationId };
    const exchange = options.toQueue !== undefined ? '' : this.opts.topology.exchange;
    const key = options.toQueue ?? routingKey;
    await new Promise<void>((resolve, reject) => {
      session.publisher.publish(exchange, key, content, props, (err: unknown) => {
        if (err) reject(new BusError('BUS_UNAVAILABLE', `broker did not confirm publish to ${key}`, { cause: err }));
        else resolve();
      });
    });
  }

  async bindTopic(key: string): Promise<void> {
    this.bindings.add(key);
    await this.withLiveChannel((ch) => ch.bindQueue(this.opts.topology.queue, this.opts.topology.exchange, key));
  }

  async unbindTopic(key: string): Promise<void> {
    this.bindings.delete(key);
    await this.withLiveChannel((ch) => ch.unbindQueue(this.opts.topology.queue, this.opts.topology.exchange, key));
  }

  async close(): Promise<void> {
    this.stopper.abort();
    const session = this.session;
    if (session?.consumerTag) {
      // Stop new deliveries first; what was already handed to us finishes below.
      await session.consumer.cancel(session.consumerTag).catch(() => undefined);
    }
    await Promise.allSettled([...this.inFlight]);
    if (session) {
      // Close the channels before the connection: amqplib multiplexes channels onto the socket, and a
      // connection.close can overtake acks still queued on a channel's stream (then the broker redelivers
      // what we handled). A channel.close is queued behind them and waits for the broker's close-ok.
      await session.consumer.close().catch(() => undefined);
      await session.publisher.close().catch(() => undefined);
      await session.model.close().catch(() => undefined);
    }
    await this.loop;
  }

  /** Binding changes while disconnected are applied by the next topology declare. */
  private async withLiveChannel(fn: (ch: Channel) => Promise<unknown>): Promise<void> {
    const session = this.session;
    if (!session) return;
    const ch = await session.model.createChannel();
    try {
      await fn(ch);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  private async runForever(): Promise<void> {
    let attempt = 0;
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      let reason: string;
      try {
        const session = await this.openSession();
        if (signal.aborted) {
          // close() was called while we were connecting: it found no session to close, so we do.
          await session.model.close().catch(() => undefined);
          break;
        }
        attempt = 0;
        this.session = session;
        this.log.info({ event: 'bus.connected', url: maskUrl(this.opts.url), queue: this.opts.topology.queue }, 'connected to broker');
        for (const w of this.connectedWaiters.splice(0)) w();
        this.emit('connected');
        reason = await session.closed;
        this.session = undefined;
        if (signal.aborted) break;
        this.log.warn({ event: 'bus.disconnected', reason }, 'lost broker connection');
        this.emit('disconnected', reason);
        await session.model.close().catch(() => undefined);
      } catch (err) {
        this.session = undefined;
        if (signal.aborted) break;
        reason = err instanceof Error ? err.message : String(err);
      }
      attempt += 1;
      const delayMs = backoffDelay(attempt, this.opts.backoff, this.random);
      this.log.warn({ event: 'bus.retry', attempt, delay_ms: delayMs, reason }, 'will reconnect to broker');
      await this.delayFn(delayMs, signal);
    }
  }

  private socketOptions(): Record<string, unknown> {
    const { tls } = this.opts;
    const options: Record<string, unknown> = {
      noDelay: true,
      timeout: this.opts.connectTimeoutMs,
      keepAlive: true,
      clientProperties: { connection_name: this.opts.clientName, product: 'pf9-hostagent' },
    };
    if (this.isTls()) {
      // Read at every connect so a rotated certificate is picked up without a restart.
      if (tls.ca) options.ca = [readFileSync(tls.ca)];
      if (tls.cert) options.cert = readFileSync(tls.cert);
      if (tls.key) options.key = readFileSync(tls.key);
      options.rejectUnauthorized = tls.verify;
    }
    return options;
  }

  private isTls(): boolean {
    return this.opts.tls.enabled || this.opts.url.startsWith('amqps:');
  }

  private connectUrl(): string {
    const base = this.isTls() ? this.opts.url.replace(/^amqp:/, 'amqps:') : this.opts.url;
    const url = new URL(base);
    url.searchParams.set('heartbeat', String(this.opts.heartbeatSeconds));
    return url.toString();
  }

  private async openSession(): Promise<Session> {
    const model = await this.connectFn(this.connectUrl(), this.socketOptions());
    try {
      let markClosed!: (reason: string) => void;
      const closed = new Promise<string>((resolve) => (markClosed = resolve));
      model.on('error', (err: Error) => markClosed(`connection error: ${err.message}`));
      model.on('close', (err?: Error) => markClosed(err ? `connection closed: ${err.message}` : 'connection closed'));

      const spec: TopologySpec = { ...this.opts.topology, bindings: [...this.bindings] };
      const warnings = await declareTopology(model, spec);
      for (const w of warnings) {
        this.log.warn(
          { event: 'bus.topology_mismatch', object: w.object, name: w.name, wanted: w.wanted, broker: w.broker },
          `${w.object} ${w.name} exists with other arguments; using it as it is`,
        );
      }

      const publisher = await model.createConfirmChannel();
      const consumer = await model.createChannel();
      for (const ch of [publisher, consumer]) {
        ch.on('error', (err: Error) => markClosed(`channel error: ${err.message}`));
        ch.on('close', () => markClosed('channel closed'));
      }
      await consumer.prefetch(this.opts.prefetch);
      const session: Session = { model, consumer, publisher, consumerTag: undefined, closed, markClosed };
      const reply = await consumer.consume(spec.queue, (msg) => this.onDelivery(session, msg), { noAck: false });
      session.consumerTag = reply.consumerTag;
      return session;
    } catch (err) {
      await model.close().catch(() => undefined);
      throw err;
    }
  }

  private onDelivery(session: Session, msg: ConsumeMessage | null): void {
    if (!msg) {
      // The broker cancelled our consumer (e.g. the queue was deleted): start over, which re-declares it.
      session.markClosed('consumer cancelled by broker');
      return;
    }
    if (!this.handler) return;
    const handler = this.handler;
    const work = (async () => {
      let disposition: 'ack' | 'reject' = 'reject';
      try {
        disposition = await handler({
          body: msg.content,
          routingKey: msg.fields.routingKey,
          exchange: msg.fields.exchange,
          correlationId: strOrUndefined(msg.properties.correlationId),
          replyTo: strOrUndefined(msg.properties.replyTo),
          messageId: strOrUndefined(msg.properties.messageId),
          redelivered: msg.fields.redelivered,
        });
      } catch (err) {
        this.log.error({ event: 'bus.handler_failed', err }, 'message handler failed; message rejected');
      }
      // An ack on a channel that died meanwhile is moot: the broker redelivers.
      if (this.session !== session) return;
      if (disposition === 'ack') session.consumer.ack(msg);
      else session.consumer.reject(msg, false);
    })();
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

function strOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
