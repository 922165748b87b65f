/**
 * The control socket and the metrics endpoint as wired into the running
 * agent (each is tested on its own in test/integration/control and
 * test/integration/metrics): `pf9-hostagent ctl` against a live agent, and a
 * scrape of /metrics after real messages.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVhost, type TestVhost } from '../helpers/broker.js';
import { freePort } from '../helpers/http-backends.js';
import { startTestAgent, type TestAgent } from './support/agent-harness.js';
import { TestMaster } from './support/test-master.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pf9-hostagent.js');
const PATH = `${dirname(join(ROOT, 'node_modules/.bin/node'))}:${process.env.PATH ?? ''}`;

let vhost: TestVhost;
let master: TestMaster;
let agent: TestAgent;
let metricsPort: number;
const socket = (): string => join(agent.stateDir, 'ctl.sock');

function scrape(): Promise<string> {
  return new Promise((res, rej) => {
    http.get({ host: '127.0.0.1', port: metricsPort, path: '/metrics' }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => res(body));
    }).on('error', rej);
  });
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/cli/hostagent.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  vhost = await createVhost('ctl-metrics');
  master = await TestMaster.connect(vhost.url);
  metricsPort = await freePort();
  agent = await startTestAgent({ url: vhost.url, sets: [`metrics.listen=127.0.0.1:${metricsPort}`] });
  await agent.bus.waitForConnected(10_000);
});
afterAll(async () => {
  await agent?.dispose();
  await master?.close();
  await vhost?.dispose();
});

describe('control socket of a running agent', () => {
  it('is a 0600 socket; ctl status reports this agent; ctl converge runs to completion', async () => {
    const st = await stat(socket());
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    const status = await execa(BIN, ['ctl', '--socket', socket(), 'status'], { env: { PATH }, reject: false });
    expect(status.exitCode).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ host_id: agent.hostId, broker_connected: true, version: expect.any(String) as unknown });
    const converge = await execa(BIN, ['ctl', '--socket', socket(), 'converge'], { env: { PATH }, reject: false, all: true });
    expect(converge.exitCode).toBe(0);
    expect(converge.all).toMatch(/complete/);
  });

  it('ctl fails clearly when no agent listens on the socket', async () => {
    const r = await execa(BIN, ['ctl', '--socket', join(agent.stateDir, 'nobody.sock'), 'ping'], { env: { PATH }, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('nobody.sock');
  });
});

describe('metrics endpoint of a running agent', () => {
  it('counts received messages by opcode, confirmed publishes and the broker connection', async () => {
    await master.request(agent.hostId, { opcode: 'ping' });
    await master.request(agent.hostId, { opcode: 'ping' });
    await master.request(agent.hostId, 'not json');
    const text = await scrape();
    expect(text).toMatch(/^pf9_hostagent_messages_received_total\{opcode="ping"\} 2$/m);
    expect(text).toMatch(/^pf9_hostagent_messages_received_total\{opcode="invalid"\} 1$/m);
    expect(text).toMatch(/^pf9_hostagent_broker_connected 1$/m);
    expect(Number(/^pf9_hostagent_publish_confirms_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/^pf9_hostagent_process_cpu_user_seconds_total /m);
  });
});
