/**
 * `bbonectl set-config` and `bbonectl lb` against the real RabbitMQ and real
 * agents in this process: exit codes for ok, errors and invalid input; the
 * re-send when the first set_config was lost; Libra replies.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVhost, type TestVhost } from '../../helpers/broker.js';
import { waitFor } from '../../helpers/wait.js';
import { randomHostId, startTestAgent, type TestAgent } from '../support/agent-harness.js';
import { requireDist, runCtl } from './run-ctl.js';

let vhost: TestVhost;
let dir: string;
let configFile: string;
let agent: TestAgent;
const agents: TestAgent[] = [];
const hostId = randomHostId();

const ctl = (args: string[], input?: string) => runCtl(vhost.url, args, { configFile, ...(input !== undefined ? { input } : {}) });

async function file(name: string, body: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof body === 'string' ? body : JSON.stringify(body));
  return path;
}

beforeAll(async () => {
  requireDist();
  vhost = await createVhost('bbonectl-set');
  dir = await mkdtemp(join(tmpdir(), 'pf9-bbonectl-'));
  configFile = await file('empty.conf', '');
  agent = await startTestAgent({ url: vhost.url, hostId, sets: ['log.level=warn'] });
  agents.push(agent);
  await agent.bus.waitForConnected(10_000);
});
afterAll(async () => {
  for (const a of agents) await a.dispose();
  await vhost?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('bbonectl set-config', () => {
  it('--wait exits 0 once the host is ok with what was sent (empty set, then pf9-lb stopped)', async () => {
    const empty = await ctl(['set-config', hostId, await file('none.json', {}), '--wait', '--timeout', '20']);
    expect(empty.exitCode, empty.all).toBe(0);
    expect(empty.stdout).toContain(`${hostId}: ok`);
    // A whole message is accepted too, and read from stdin.
    const lbOff = { opcode: 'set_config', data: { 'pf9-lb': { version: '1.0', running: false, config: { engine: 'haproxy' } } } };
    const r = await ctl(['set-config', hostId, '-', '--wait', '--timeout', '20'], JSON.stringify(lbOff));
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain(`${hostId}: ok`);
  });

  it('--wait exits 1 and shows the app error when the host reports errors', async () => {
    const broken = { 'pf9-nowhere': { version: '1.0', url: 'http://127.0.0.1:1/x.deb', running: true } };
    const r = await ctl(['set-config', hostId, await file('broken.json', broken), '--wait', '--timeout', '20']);
    expect(r.exitCode, r.all).toBe(1);
    expect(r.stdout).toContain(`${hostId}: errors`);
    expect(r.stdout).toMatch(/pf9-nowhere: PACKAGE_DOWNLOAD_FAILED/);
  });

  it('exits 2 naming the field of an invalid file, before any broker traffic', async () => {
    const bad = { 'pf9-foo': { version: '1.0', running: 'yes' } };
    const r = await runCtl('amqp://guest:guest@127.0.0.1:1/', ['set-config', hostId, await file('bad.json', bad)], { configFile });
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain('data.pf9-foo.running');
    const notJson = await ctl(['set-config', hostId, await file('bad.txt', '{nope')]);
    expect(notJson.exitCode).toBe(2);
    expect(notJson.stderr).toContain('not valid JSON');
  });

  it('--wait sends again when the host shows another desired_hash (the first message was lost)', async () => {
    const late = randomHostId();
    const child = ctl(['set-config', late, await file('late.json', {}), '--wait', '--timeout', '30']);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor(() => out.includes('sent set_config'), { what: 'bbonectl to publish', timeoutMs: 15_000 });
    // Lose the message: the queue bbonectl declared goes, with the set_config in it.
    const conn = await amqp.connect(vhost.url);
    try {
      const ch = await conn.createChannel();
      await ch.deleteQueue(`bbslave-q-${late}`);
    } finally {
      await conn.close();
    }
    const lateAgent = await startTestAgent({ url: vhost.url, hostId: late, sets: ['log.level=warn'] });
    agents.push(lateAgent);
    const r = await child;
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain(`${late}: holds desired_hash none`);
    expect(r.stdout).toContain('sending again');
    expect(r.stdout).toContain(`${late}: ok`);
  });
});

describe('bbonectl lb', () => {
  it('DISCOVER prints the PASS reply and exits 0', async () => {
    const r = await ctl(['lb', hostId, 'discover']);
    expect(r.exitCode, r.all).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ hpcs_action: 'DISCOVER', hpcs_response: 'PASS', version: '1.0' });
  });

  it('UPDATE with pf9-lb not running prints the FAIL reply and exits 1', async () => {
    const update = { loadBalancers: [{ id: 'web', name: 'web', protocol: 'HTTP', port: 18080, nodes: [{ id: 'n1', address: '127.0.0.1', port: 18081 }] }] };
    const r = await ctl(['lb', hostId, 'UPDATE', '-'], JSON.stringify(update));
    expect(r.exitCode, r.all).toBe(1);
    const reply = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(reply).toMatchObject({ hpcs_action: 'UPDATE', hpcs_response: 'FAIL' });
    expect(String(reply.hpcs_error)).toContain('not installed or not running');
  });
});
