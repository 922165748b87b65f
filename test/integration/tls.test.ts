/**
 * amqps with a CA and a client certificate. No TLS listener is configured
 * on this machine's RabbitMQ (and changing its config is off limits), so a
 * real TLS endpoint made with node:tls and openssl-made certificates sits
 * in front of it: it demands and verifies the client certificate, then
 * relays the AMQP bytes to the real broker.
 */
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerAddress, createVhost, type TestVhost } from '../helpers/broker.js';
import { waitFor } from '../helpers/wait.js';
import { startTestAgent } from './support/agent-harness.js';
import { TestMaster } from './support/test-master.js';

let vhost: TestVhost;
let master: TestMaster;
let dir: string;
let server: tls.Server;
let port: number;
const peers: string[] = [];

async function openssl(args: string[]): Promise<void> {
  await execa('openssl', args, { cwd: dir });
}

async function makeCerts(): Promise<void> {
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=pf9-test-ca']);
  for (const [name, subj, ext] of [
    ['server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ['client', '/CN=pf9-hostagent-test', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
    await writeFile(join(dir, `${name}.ext`), `${ext}\n`);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  // A second, unrelated CA: a client trusting it must refuse our server.
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=other-ca']);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pf9-tls-'));
  await makeCerts();
  vhost = await createVhost('tls');
  master = await TestMaster.connect(vhost.url);
  const target = brokerAddress(vhost.url);
  server = tls.createServer(
    {
      key: await readFile(join(dir, 'server.key')),
      cert: await readFile(join(dir, 'server.pem')),
      ca: [await readFile(join(dir, 'ca.pem'))],
      requestCert: true,
      rejectUnauthorized: true,
    },
    (client) => {
      peers.push(String(client.getPeerCertificate().subject?.CN));
      const upstream = net.connect(target);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await master.close();
  await vhost.dispose();
  await rm(dir, { recursive: true, force: true });
});

function amqpsUrl(): string {
  return `amqps://guest:guest@localhost:${port}/${encodeURIComponent(vhost.name)}`;
}

describe('amqps', () => {
  it('connects with the CA and a client certificate, and serves pings', async () => {
    const a = await startTestAgent({
      url: amqpsUrl(),
      sets: [`amqp.tls.ca=${join(dir, 'ca.pem')}`, `amqp.tls.cert=${join(dir, 'client.pem')}`, `amqp.tls.key=${join(dir, 'client.key')}`],
    });
    try {
      await a.bus.waitForConnected(10_000);
      expect(peers).toContain('pf9-hostagent-test');
      const reply = await master.request(a.hostId, { opcode: 'ping' });
      expect(reply.body).toMatchObject({ opcode: 'status', data: { host_id: a.hostId } });
    } finally {
      await a.dispose();
    }
  });

  it('turns TLS on for an amqp:// url when amqp.tls.enabled is set', async () => {
    const a = await startTestAgent({
      url: amqpsUrl().replace('amqps:', 'amqp:'),
      sets: ['amqp.tls.enabled=true', `amqp.tls.ca=${join(dir, 'ca.pem')}`, `amqp.tls.cert=${join(dir, 'client.pem')}`, `amqp.tls.key=${join(dir, 'client.key')}`],
    });
    try {
      await a.bus.waitForConnected(10_000);
    } finally {
      await a.dispose();
    }
  });

  it('refuses a server its CA did not sign, and keeps retrying with the reason logged', async () => {
    const a = await startTestAgent({
      url: amqpsUrl(),
      sets: [`amqp.tls.ca=${join(dir, 'other.pem')}`, `amqp.tls.cert=${join(dir, 'client.pem')}`, `amqp.tls.key=${join(dir, 'client.key')}`],
    });
    try {
      await waitFor(() => a.logs.some((l) => l.event === 'bus.retry' && /certificate/i.test(String(l.reason))), {
        what: 'a certificate error in the retry log',
        timeoutMs: 10_000,
      });
      expect(a.bus.isConnected()).toBe(false);
    } finally {
      await a.dispose();
    }
  });

  it('is refused by a server that demands a client certificate when none is configured', async () => {
    const a = await startTestAgent({ url: amqpsUrl(), sets: [`amqp.tls.ca=${join(dir, 'ca.pem')}`] });
    try {
      await waitFor(() => a.logs.filter((l) => l.event === 'bus.retry').length >= 2, { what: 'two failed attempts', timeoutMs: 10_000 });
      expect(a.bus.isConnected()).toBe(false);
    } finally {
      await a.dispose();
    }
  });
});
