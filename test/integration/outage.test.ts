/**
 * A broker that is down when the agent starts, or goes away while it runs,
 * is waited for: simulated with a TCP proxy in front of the real broker
 * whose port we refuse and reopen.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerAddress, createVhost, withAddress, type TestVhost } from '../helpers/broker.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor, withTimeout } from '../helpers/wait.js';
import { startTestAgent } from './support/agent-harness.js';
import { TestMaster } from './support/test-master.js';

let vhost: TestVhost;
let proxy: TcpProxy;
let master: TestMaster;

beforeAll(async () => {
  vhost = await createVhost('outage');
  proxy = await startTcpProxy({ target: brokerAddress(vhost.url) });
  master = await TestMaster.connect(vhost.url);
});
afterAll(async () => {
  await master.close();
  await proxy.close();
  await vhost.dispose();
});

describe('broker outages', () => {
  it('starts while the broker port refuses, keeps retrying, and connects once it answers', async () => {
    await proxy.refuse();
    const a = await startTestAgent({ url: withAddress(vhost.url, '127.0.0.1', proxy.port) });
    try {
      await waitFor(() => a.logs.filter((l) => l.event === 'bus.retry').length >= 3, { what: 'three retries', timeoutMs: 10_000 });
      expect(a.bus.isConnected()).toBe(false);
      const retry = a.logs.find((l) => l.event === 'bus.retry');
      expect(String(retry?.reason)).toMatch(/ECONNREFUSED/);
      // The retry delays grow (capped at connection_retry_max = 0.5 s in the harness).
      await proxy.accept();
      await a.bus.waitForConnected(10_000);
      const reply = await master.request(a.hostId, { opcode: 'ping' });
      expect(reply.body).toMatchObject({ opcode: 'status', data: { host_id: a.hostId } });
    } finally {
      await a.dispose();
    }
  });

  it('survives the connection being cut mid-run and re-declares its topology', async () => {
    await proxy.accept();
    const a = await startTestAgent({ url: withAddress(vhost.url, '127.0.0.1', proxy.port) });
    try {
      await a.bus.waitForConnected(10_000);
      await proxy.refuse();
      await waitFor(() => !a.bus.isConnected(), { what: 'the agent to notice the cut', timeoutMs: 10_000 });
      // While it is away its queue vanishes: only a fresh declare and bind on reconnect brings pings back.
      const conn = await amqp.connect(vhost.url);
      const ch = await conn.createChannel();
      await ch.deleteQueue(a.queue);
      await conn.close();
      const before = proxy.acceptedCount;
      await proxy.accept();
      await proxy.waitForConnection(10_000, before);
      await a.bus.waitForConnected(10_000);
      const reply = await master.request(a.hostId, { opcode: 'ping' });
      expect(reply.body.opcode).toBe('status');
    } finally {
      await a.dispose();
    }
  });

  it('stops promptly when told to stop while a connection attempt is still in progress', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let opened: amqp.ChannelModel | undefined;
    const a = await startTestAgent({
      url: vhost.url,
      seams: {
        connect: async (url, opts) => {
          await gate;
          opened = await amqp.connect(url, opts);
          return opened;
        },
      },
    });
    const stopped = a.dispose();
    release();
    await withTimeout(stopped, 5000, 'the agent to stop');
    expect(opened).toBeDefined();
    // The connection that completed after stop() was closed, not leaked.
    await expect(opened?.createChannel()).rejects.toThrow();
  });
});
