/**
 * Proves the integration-test helpers do what other tests rely on: a vhost
 * of one's own on the real broker, a proxy that refuses and accepts again on
 * the same port, and a forced close that a client really sees.
 */
import amqp from 'amqplib';
import type { ChannelModel } from 'amqplib';
import net from 'node:net';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { brokerAddress, closeConnections, createVhost, withAddress, type TestVhost } from '../helpers/broker.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

/** Connects and records how the connection ends; the 'error' listener keeps a forced close from throwing. */
async function connect(url: string): Promise<{ conn: ChannelModel; closed: Promise<Error | undefined> }> {
  const conn = await amqp.connect(url);
  conn.on('error', () => {});
  const closed = new Promise<Error | undefined>((resolve) => conn.once('close', (err?: Error) => resolve(err)));
  return { conn, closed };
}

async function closeQuietly(conn: ChannelModel): Promise<void> {
  await conn.close().catch(() => undefined);
}

async function listVhosts(): Promise<string[]> {
  const { stdout } = await execa('rabbitmqctl', ['-q', 'list_vhosts', '--formatter', 'json']);
  return (JSON.parse(stdout) as Array<{ name: string }>).map((v) => v.name);
}

function connectRaw(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('createVhost', () => {
  it('makes a vhost the URL user can use, and removes it on dispose', async () => {
    const vhost = await createVhost('helpers');
    try {
      expect(vhost.name).toMatch(/^helpers-[0-9a-f]{12}$/);
      expect(vhost.url.endsWith(`/${vhost.name}`)).toBe(true);
      expect(await listVhosts()).toContain(vhost.name);

      const { conn } = await connect(vhost.url);
      const ch = await conn.createChannel();
      const q = await ch.assertQueue('', { exclusive: true });
      expect(q.queue).not.toBe('');
      await closeQuietly(conn);
    } finally {
      await vhost.dispose();
      await vhost.dispose(); // twice is fine
    }
    expect(await listVhosts()).not.toContain(vhost.name);
    await expect(amqp.connect(vhost.url)).rejects.toThrow();
  });

  it('rejects a prefix that is not a plain name', async () => {
    await expect(createVhost('-x')).rejects.toThrow(/prefix/);
    await expect(createVhost('a/b')).rejects.toThrow(/prefix/);
  });
});

describe('closeConnections', () => {
  let vhost: TestVhost;
  beforeAll(async () => {
    vhost = await createVhost('helpers-close');
  });
  afterAll(async () => {
    await vhost.dispose();
  });

  it('force-closes every connection of the vhost, and only those', async () => {
    const other = await createVhost('helpers-other');
    const a = await connect(vhost.url);
    const b = await connect(vhost.url);
    const bystander = await connect(other.url);
    try {
      expect(await closeConnections(vhost.name)).toBe(2);
      const [errA, errB] = await withTimeout(Promise.all([a.closed, b.closed]), 5000, 'forced close');
      expect(errA?.message).toMatch(/CONNECTION_FORCED/);
      expect(errB?.message).toMatch(/CONNECTION_FORCED/);

      // The other vhost's connection is untouched and still works.
      const ch = await bystander.conn.createChannel();
      await ch.close();
      expect(await closeConnections(vhost.name)).toBe(0);
    } finally {
      await closeQuietly(bystander.conn);
      await other.dispose();
    }
  });
});

describe('tcp proxy to the broker', () => {
  let vhost: TestVhost;
  let proxy: TcpProxy;
  let viaProxy: string;

  beforeAll(async () => {
    vhost = await createVhost('helpers-proxy');
  });
  afterAll(async () => {
    await vhost.dispose();
  });
  afterEach(async () => {
    await proxy.close();
  });

  async function startProxy(): Promise<void> {
    proxy = await startTcpProxy({ target: brokerAddress(vhost.url) });
    viaProxy = withAddress(vhost.url, '127.0.0.1', proxy.port);
  }

  it('carries AMQP, refuses (ECONNREFUSED) and cuts live connections, then accepts on the same port', async () => {
    await startProxy();
    const port = proxy.port;
    const first = await connect(viaProxy);
    await proxy.waitForConnection(1000);
    expect(proxy.connectionCount).toBe(1);
    const ch = await first.conn.createChannel();
    await ch.assertQueue('', { exclusive: true });

    await proxy.refuse();
    expect(proxy.listening).toBe(false);
    expect(proxy.connectionCount).toBe(0);
    await withTimeout(first.closed, 5000, 'the proxied connection to close');
    await expect(amqp.connect(viaProxy)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await proxy.accept();
    expect(proxy.port).toBe(port);
    const second = await connect(viaProxy);
    await closeQuietly(second.conn);
  });

  it('dropConnections cuts live connections but keeps listening', async () => {
    await startProxy();
    const first = await connect(viaProxy);
    const before = proxy.acceptedCount;
    expect(proxy.dropConnections()).toBe(1);
    expect(proxy.connectionCount).toBe(0);
    await withTimeout(first.closed, 5000, 'the dropped connection to close');

    const waiting = proxy.waitForConnection(5000, before);
    const second = await connect(viaProxy);
    await waiting;
    await closeQuietly(second.conn);
    await waitFor(() => proxy.connectionCount === 0, { what: 'the proxy to see the client leave' });
  });

  it('waitForConnection times out with a clear message', async () => {
    await startProxy();
    await expect(proxy.waitForConnection(50)).rejects.toThrow(/no connection .* within 50 ms/);
    // A raw client satisfies it; one already live does too.
    const socket = await connectRaw(proxy.port);
    await proxy.waitForConnection(1000);
    await proxy.waitForConnection(1000, 0);
    await expect(proxy.waitForConnection(50, proxy.acceptedCount)).rejects.toThrow(/within 50 ms/);
    socket.destroy();
  });

  it('a refused proxy refuses raw TCP at once, not after a hang', async () => {
    await startProxy();
    await proxy.refuse();
    const err = await withTimeout(
      connectRaw(proxy.port).then(
        () => undefined,
        (e: unknown) => e,
      ),
      1000,
      'the refused connect',
    );
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.refuse(); // idempotent
    await proxy.accept();
    await proxy.accept(); // idempotent
    const socket = await connectRaw(proxy.port);
    socket.destroy();
  });
});

describe('waitFor and withTimeout', () => {
  it('waitFor resolves with the first value other than undefined/false', async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? n : undefined), { what: 'n', intervalMs: 1 })).resolves.toBe(3);
  });

  it('waitFor names what it waited for, with the last error as cause', async () => {
    const err = await waitFor(
      () => {
        throw new Error('not yet');
      },
      { what: 'the queue to exist', timeoutMs: 30, intervalMs: 5 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/waiting for the queue to exist; last error: not yet/);
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('withTimeout passes results through and names what timed out', async () => {
    await expect(withTimeout(Promise.resolve(7), 100, 'x')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 100, 'x')).rejects.toThrow('boom');
    const pending = new Promise<never>(() => {});
    await expect(withTimeout(pending, 20, 'the reply')).rejects.toThrow(/20 ms waiting for the reply/);
  });
});
