/**
 * The reconnect loop's schedule, with the connector and the delay injected:
 * no broker and no sleeping. (The loop against a real broker is in
 * test/integration/outage.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { AmqpBus, type ConnectFn, type DelayFn } from '../../../src/bus/amqp-bus.js';
import { createLogger } from '../../../src/logger.js';

function busWith(connect: ConnectFn, delay: DelayFn): AmqpBus {
  return new AmqpBus({
    url: 'amqp://guest:guest@127.0.0.1:1/',
    tls: { enabled: false, ca: '', cert: '', key: '', verify: true },
    topology: { exchange: 'pf9-bbone', queue: 'bbslave-q-X', durable: false, queueType: 'classic', bindings: ['slaves', 'X'] },
    connectTimeoutMs: 1000,
    heartbeatSeconds: 30,
    prefetch: 16,
    backoff: { baseMs: 50, maxMs: 500, factor: 2, jitter: 0.2 },
    clientName: 'test',
    logger: createLogger({ level: 'silent' }),
    connect,
    delay,
    random: () => 0.5,
  });
}

describe('AmqpBus reconnect loop', () => {
  it('retries forever with exponential, capped, jittered delays and stops when closed', async () => {
    const delays: number[] = [];
    const urls: string[] = [];
    const options: Array<Record<string, unknown>> = [];
    let eighth!: () => void;
    const eightDelays = new Promise<void>((r) => (eighth = r));
    const connect: ConnectFn = (url, opts) => {
      urls.push(url);
      options.push(opts);
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    };
    const delay: DelayFn = (ms, signal) => {
      delays.push(ms);
      if (delays.length < 8) return Promise.resolve();
      eighth();
      // Hold the eighth wait until close() aborts it, as the real delay does.
      return new Promise((r) => signal.addEventListener('abort', () => r(), { once: true }));
    };
    const bus = busWith(connect, delay);
    bus.start(() => Promise.resolve('ack'));
    await eightDelays;
    await bus.close();
    // random() = 0.5 and jitter 0.2: each delay is 90% of base * 2^(n-1), capped at 500 before jitter.
    expect(delays).toEqual([45, 90, 180, 360, 450, 450, 450, 450]);
    expect(urls).toHaveLength(8);
    expect(bus.isConnected()).toBe(false);
    // Nagle off, the AMQP heartbeat in the URL, and a connection name the broker's admin can search for.
    expect(options[0]).toMatchObject({ noDelay: true, clientProperties: { connection_name: 'test' } });
    expect(new URL(urls[0] ?? '').searchParams.get('heartbeat')).toBe('30');
  });

  it('refuses to publish while disconnected with a typed error', async () => {
    const bus = busWith(() => Promise.reject(new Error('down')), () => Promise.resolve());
    await expect(bus.publish('master', { opcode: 'status' })).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' });
    await expect(bus.waitForConnected(10)).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' });
  });
});
