/**
 * The master side of the backbone, as bbonectl needs it: one connection, a
 * confirm channel (a publish counts only once the broker has it), and an
 * exclusive auto-delete queue of its own bound to `master`, which is also
 * the reply_to of Libra requests.
 *
 * Topology is declared exactly as the agent declares it by default (the
 * agent's own exchangeOptions / declareTopology), because RabbitMQ refuses a
 * second declare with other arguments; when someone declared them otherwise,
 * a passive check is used instead and the broker's words are returned as
 * warnings, as the agent does.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Message } from 'amqplib';
import { declareTopology, exchangeOptions, type TopologySpec } from '../../bus/topology.js';
import { MASK, maskUrl, type FrozenConfig } from '../../config/index.js';
import { AGENT_VERSION } from '../../version.js';

export interface Incoming {
  body: Record<string, unknown>;
  routingKey: string;
  correlationId: string | undefined;
  /** performance.now() at arrival, for round-trip times. */
  at: number;
  /** Date.now() at arrival, for "last seen". */
  wallAt: number;
}

export interface PublishProps {
  correlationId?: string;
  replyTo?: string;
  /** Ask the broker to hand the message back when no queue is bound to the key (see onReturn). */
  mandatory?: boolean;
}

type Listener = (m: Incoming) => void;

/** The host queue name the agent uses by default (DESIGN.md). */
export function hostQueueName(hostId: string): string {
  return `bbslave-q-${hostId}`;
}

/** Removes the broker password from a text (amqplib errors may quote the URL). */
export function scrubSecrets(text: string, url: string): string {
  let out = text.split(url).join(maskUrl(url));
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password !== '') out = out.split(password).join(MASK);
  } catch {
    // An unparsable URL has no password we could find; maskUrl above did what it could.
  }
  return out;
}

function connectOptions(config: FrozenConfig): { url: string; socket: Record<string, unknown> } {
  const { tls } = config.amqp;
  const isTls = tls.enabled || config.amqp.url.startsWith('amqps:');
  const url = new URL(isTls ? config.amqp.url.replace(/^amqp:/, 'amqps:') : config.amqp.url);
  url.searchParams.set('heartbeat', String(config.amqp.heartbeat));
  const socket: Record<string, unknown> = {
    // Ping round trips are what bbonectl measures; Nagle would add up to 40 ms to each.
    noDelay: true,
    timeout: config.amqp.connect_timeout * 1000,
    clientProperties: { connection_name: 'bbonectl', product: 'bbonectl', version: AGENT_VERSION },
  };
  if (isTls) {
    if (tls.ca) socket.ca = [readFileSync(tls.ca)];
    if (tls.cert) socket.cert = readFileSync(tls.cert);
    if (tls.key) socket.key = readFileSync(tls.key);
    socket.rejectUnauthorized = tls.verify;
  }
  return { url: url.toString(), socket };
}

function isPreconditionFailed(err: unknown): boolean {
  return err instanceof Error && ((err as { code?: unknown }).code === 406 || /PRECONDITION_FAILED/.test(err.message));
}

async function closeQuietly(ch: Channel): Promise<void> {
  try {
    await ch.close();
  } catch {
    // Already closed by the broker, which is how a refused declare ends.
  }
}

export class MasterClient {
  private readonly listeners = new Set<Listener>();
  private readonly returnListeners = new Set<(correlationId: string | undefined) => void>();
  private closedReason: string | undefined;
  private readonly closeListeners = new Set<(reason: string) => void>();
  private closing = false;

  private constructor(
    private readonly model: ChannelModel,
    private readonly ch: ConfirmChannel,
    private readonly spec: Omit<TopologySpec, 'queue' | 'bindings'>,
    readonly replyQueue: string,
    readonly warnings: string[],
  ) {}

  static async connect(config: FrozenConfig): Promise<MasterClient> {
    const { url, socket } = connectOptions(config);
    const model = await amqp.connect(url, socket);
    try {
      const spec = { exchange: config.amqp.exchange, durable: config.amqp.durable, queueType: config.amqp.queue_type };
      const warnings: string[] = [];
      const exWarning = await declareExchange(model, spec);
      if (exWarning !== undefined) warnings.push(`exchange ${spec.exchange} exists with other arguments; using it as it is (${exWarning})`);
      const ch = await model.createConfirmChannel();
      const q = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      await ch.bindQueue(q.queue, spec.exchange, 'master');
      const client = new MasterClient(model, ch, spec, q.queue, warnings);
      client.wire();
      await ch.consume(q.queue, (m) => m && client.deliver(m), { noAck: true });
      return client;
    } catch (err) {
      await model.close().catch(() => undefined);
      throw err;
    }
  }

  private wire(): void {
    const onClose = (reason: string): void => {
      if (this.closedReason !== undefined) return;
      this.closedReason = reason;
      if (this.closing) return;
      for (const l of this.closeListeners) l(reason);
    };
    this.model.on('error', (err: Error) => onClose(`connection error: ${err.message}`));
    this.model.on('close', () => onClose('connection to the broker closed'));
    this.ch.on('error', (err: Error) => onClose(`channel error: ${err.message}`));
    this.ch.on('close', () => onClose('channel closed'));
    this.ch.on('return', (m: Message) => {
      const id = typeof m.properties.correlationId === 'string' ? m.properties.correlationId : undefined;
      for (const l of this.returnListeners) l(id);
    });
  }

  private deliver(m: ConsumeMessage): void {
    let body: unknown;
    try {
      body = JSON.parse(m.content.toString('utf8'));
    } catch {
      return; // Not ours to judge: other masters may share `master`; only JSON objects can be replies.
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
    const incoming: Incoming = {
      body: body as Record<string, unknown>,
      routingKey: m.fields.routingKey,
      correlationId: typeof m.properties.correlationId === 'string' ? m.properties.correlationId : undefined,
      at: performance.now(),
      wallAt: Date.now(),
    };
    for (const l of [...this.listeners]) l(incoming);
  }

  /** Every message on our queue (statuses, errors, RPC replies); returns the unsubscribe. */
  onMessage(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A mandatory publish that no queue took, by correlation id. */
  onReturn(listener: (correlationId: string | undefined) => void): () => void {
    this.returnListeners.add(listener);
    return () => this.returnListeners.delete(listener);
  }

  /** The connection or channel went away (not by close()). */
  onClosed(listener: (reason: string) => void): () => void {
    if (this.closedReason !== undefined && !this.closing) listener(this.closedReason);
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /**
   * Declares the host's queue as the agent does and binds it to the host id,
   * so a set_config waits there for a host that has not connected yet.
   */
  async ensureHostQueue(hostId: string): Promise<string[]> {
    const spec: TopologySpec = { ...this.spec, queue: hostQueueName(hostId), bindings: [hostId] };
    const warnings = await declareTopology(this.model, spec);
    return warnings.map((w) => `${w.object} ${w.name} exists with other arguments; using it as it is (${w.broker})`);
  }

  newCorrelationId(): string {
    return randomUUID();
  }

  /** Publishes to the exchange and resolves once the broker confirms. */
  publish(routingKey: string, body: unknown, props: PublishProps = {}): Promise<void> {
    const content = Buffer.from(JSON.stringify(body));
    const options = {
      contentType: 'application/json',
      correlationId: props.correlationId,
      replyTo: props.replyTo,
      mandatory: props.mandatory ?? false,
    };
    return new Promise((resolve, reject) => {
      this.ch.publish(this.spec.exchange, routingKey, content, options, (err: unknown) => {
        if (err) reject(new Error(`the broker did not confirm the publish to ${routingKey}`, { cause: err }));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.model.close().catch(() => undefined);
  }
}

/** The exchange alone, with the agent's arguments, falling back to a passive check on PRECONDITION_FAILED. */
async function declareExchange(model: ChannelModel, spec: Omit<TopologySpec, 'queue' | 'bindings'>): Promise<string | undefined> {
  const ch = await model.createChannel();
  // A refused declare also emits 'error' on the channel; without a listener Node would throw it.
  ch.on('error', () => undefined);
  try {
    await ch.assertExchange(spec.exchange, 'topic', exchangeOptions({ ...spec, queue: '', bindings: [] }));
    await closeQuietly(ch);
    return undefined;
  } catch (err) {
    await closeQuietly(ch);
    if (!isPreconditionFailed(err)) throw err;
    const checker = await model.createChannel();
    checker.on('error', () => undefined);
    try {
      await checker.checkExchange(spec.exchange);
    } finally {
      await closeQuietly(checker);
    }
    return (err as Error).message;
  }
}
