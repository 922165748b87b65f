/**
 * What the agent declares on the broker, and how it copes with a broker
 * where someone else declared it first.
 *
 * The historical master declares the exchange and each host's queue itself,
 * with default arguments, before it sends to that host. RabbitMQ refuses a
 * second declare whose arguments differ (406 PRECONDITION_FAILED, and the
 * channel is closed), so by default we declare exactly as the master does;
 * when the broker still refuses, we fall back to a passive check and use what
 * is there, warning with both argument sets so an operator can reconcile them.
 */
import type { Channel, ChannelModel, Options } from 'amqplib';

export interface TopologySpec {
  exchange: string;
  queue: string;
  durable: boolean;
  queueType: 'classic' | 'quorum';
  /** Routing keys the queue is bound to on the exchange. */
  bindings: readonly string[];
}

export function exchangeOptions(spec: TopologySpec): Options.AssertExchange {
  return { durable: spec.durable || spec.queueType === 'quorum', autoDelete: false, internal: false };
}

export function queueOptions(spec: TopologySpec): Options.AssertQueue {
  if (spec.queueType === 'quorum') {
    // Quorum queues must be durable and can be neither exclusive nor auto-delete.
    return { durable: true, exclusive: false, autoDelete: false, arguments: { 'x-queue-type': 'quorum' } };
  }
  return { durable: spec.durable, exclusive: false, autoDelete: false };
}

export interface TopologyWarning {
  object: 'exchange' | 'queue';
  name: string;
  wanted: Options.AssertExchange | Options.AssertQueue;
  /** The broker's own words on what differs ("received 'false' but current is 'true'"). */
  broker: string;
}

interface AmqpError extends Error {
  code?: number;
}

function isPreconditionFailed(err: unknown): err is AmqpError {
  return err instanceof Error && ((err as AmqpError).code === 406 || /PRECONDITION_FAILED/.test(err.message));
}

/**
 * Declares (or, on PRECONDITION_FAILED, passively checks) the exchange and the
 * queue, then binds every routing key. Each refused declare costs a channel,
 * so declares run on throwaway channels and bindings on a fresh one.
 */
export async function declareTopology(model: ChannelModel, spec: TopologySpec): Promise<TopologyWarning[]> {
  const warnings: TopologyWarning[] = [];

  const exOpts = exchangeOptions(spec);
  const exWarning = await declareOrCheck(
    model,
    (ch) => ch.assertExchange(spec.exchange, 'topic', exOpts),
    (ch) => ch.checkExchange(spec.exchange),
  );
  if (exWarning) warnings.push({ object: 'exchange', name: spec.exchange, wanted: exOpts, broker: exWarning });

  const qOpts = queueOptions(spec);
  const qWarning = await declareOrCheck(
    model,
    (ch) => ch.assertQueue(spec.queue, qOpts),
    (ch) => ch.checkQueue(spec.queue),
  );
  if (qWarning) warnings.push({ object: 'queue', name: spec.queue, wanted: qOpts, broker: qWarning });

  const ch = await model.createChannel();
  try {
    for (const key of spec.bindings) await ch.bindQueue(spec.queue, spec.exchange, key);
  } finally {
    await closeQuietly(ch);
  }
  return warnings;
}

/** Returns undefined when the active declare worked, else the broker's refusal text after a passive check passed. */
async function declareOrCheck(
  model: ChannelModel,
  declare: (ch: Channel) => Promise<unknown>,
  check: (ch: Channel) => Promise<unknown>,
): Promise<string | undefined> {
  const ch = await model.createChannel();
  // A refused declare also emits 'error' on the channel; without a listener Node would throw it.
  ch.on('error', () => undefined);
  try {
    await declare(ch);
    await closeQuietly(ch);
    return undefined;
  } catch (err) {
    if (!isPreconditionFailed(err)) {
      await closeQuietly(ch);
      throw err;
    }
    const checker = await model.createChannel();
    checker.on('error', () => undefined);
    try {
      await check(checker);
    } finally {
      await closeQuietly(checker);
    }
    return err.message;
  }
}

async function closeQuietly(ch: Channel): Promise<void> {
  try {
    await ch.close();
  } catch {
    // Already closed by the broker (that is how a refused declare ends); nothing to release.
  }
}
