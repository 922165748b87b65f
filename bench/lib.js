// Shared pieces of the benchmarks: a master-side client that measures
// round trips by correlation id, percentiles, and /proc memory readings.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import amqp from 'amqplib';

export async function connectClient(url, exchange) {
  const conn = await amqp.connect(url, { noDelay: true });
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, 'topic', { durable: false });
  const q = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(q.queue, exchange, 'master');
  const waiting = new Map();
  await ch.consume(
    q.queue,
    (m) => {
      const id = m?.properties.correlationId;
      const done = id && waiting.get(id);
      if (done) {
        waiting.delete(id);
        done();
      }
    },
    { noAck: true },
  );
  return {
    /** One ping to `routingKey`, resolved with the round trip in ms. */
    async roundTrip(routingKey, timeoutMs = 5000) {
      const id = randomUUID();
      const start = process.hrtime.bigint();
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply from ${routingKey} in ${timeoutMs} ms`)), timeoutMs);
        waiting.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
        ch.publish(exchange, routingKey, Buffer.from('{"opcode":"ping"}'), { correlationId: id });
      });
      return Number(process.hrtime.bigint() - start) / 1e6;
    },
    async cleanup(queues) {
      for (const name of queues) await ch.deleteQueue(name).catch(() => undefined);
      await ch.deleteExchange(exchange).catch(() => undefined);
      await conn.close();
    },
  };
}

export function percentile(sorted, p) {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export async function measure(client, routingKey, count, warmup = 50) {
  for (let i = 0; i < warmup; i++) await client.roundTrip(routingKey);
  const samples = [];
  for (let i = 0; i < count; i++) samples.push(await client.roundTrip(routingKey));
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), n: count };
}

/** Private anonymous memory (kB) of a process: what it really costs, unlike RSS, which counts the node binary's shared pages. */
export function anonymousKb(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const m = /^Anonymous:\s+(\d+) kB/m.exec(text);
  if (!m) throw new Error(`no Anonymous line in /proc/${pid}/smaps_rollup`);
  return Number(m[1]);
}

export const mb = (kb) => (kb / 1024).toFixed(1);
