/**
 * `bbonectl hosts` and `bbonectl ping` against the real RabbitMQ and two
 * real agents (different host_ids) in this process.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVhost, type TestVhost } from '../../helpers/broker.js';
import { randomHostId, startTestAgent, type TestAgent } from '../support/agent-harness.js';
import { requireDist, runCtl } from './run-ctl.js';

let vhost: TestVhost;
let dir: string;
let configFile: string;
const agents: TestAgent[] = [];
const ids = [randomHostId(), randomHostId()].sort();

const ctl = (args: string[]) => runCtl(vhost.url, args, { configFile });

beforeAll(async () => {
  requireDist();
  vhost = await createVhost('bbonectl-hosts');
  dir = await mkdtemp(join(tmpdir(), 'pf9-bbonectl-'));
  configFile = join(dir, 'empty.conf');
  await writeFile(configFile, '');
  for (const hostId of ids) {
    const agent = await startTestAgent({ url: vhost.url, hostId, sets: ['log.level=warn'] });
    agents.push(agent);
    await agent.bus.waitForConnected(10_000);
  }
});
afterAll(async () => {
  for (const a of agents) await a.dispose();
  await vhost?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function noPassword(text: string): void {
  // The vhost URL carries guest:guest; only the masked form may ever be printed.
  expect(text).not.toContain('guest:guest');
}

describe('bbonectl hosts', () => {
  it('prints a table with both hosts', async () => {
    const r = await ctl(['hosts', '--timeout', '1.5']);
    expect(r.exitCode, r.all).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^HOST_ID\s+HOSTNAME\s+OS\s+STATUS\s+APPS\s+LAST SEEN$/);
    for (const id of ids) {
      const row = lines.find((l) => l.startsWith(id));
      expect(row, r.stdout).toBeDefined();
      expect(row).toContain(hostname());
      expect(row).toMatch(/\s(ok|converging)\s/);
      expect(row).toMatch(/\ds ago$/);
    }
    noPassword(r.all);
  });

  it('--json prints one array with both hosts', async () => {
    const r = await ctl(['hosts', '--json', '--timeout', '1.5']);
    expect(r.exitCode, r.all).toBe(0);
    const hosts = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(hosts.map((h) => h.host_id)).toEqual(ids);
    for (const h of hosts) {
      expect(h).toMatchObject({ hostname: hostname(), status: 'ok', apps: {}, heartbeat_period: 60, lost: false });
      expect(Date.parse(h.last_seen as string)).toBeGreaterThan(Date.now() - 10_000);
    }
  });
});

describe('bbonectl ping', () => {
  it('prints round-trip times and exits 0 when every named host answers', async () => {
    const r = await ctl(['ping', ...ids, '--timeout', '5']);
    expect(r.exitCode, r.all).toBe(0);
    for (const id of ids) expect(r.stdout).toMatch(new RegExp(`^${id}  \\d+\\.\\d ms  ok$`, 'm'));
  });

  it('exits 1 naming a host that has no queue, and a host whose queue nobody reads', async () => {
    const neverSeen = randomHostId();
    const silent = randomHostId();
    // set-config (without --wait) declares and binds the host queue, as for a host not connected yet.
    expect((await ctl(['set-config', silent, join(dir, 'empty.json')])).exitCode).toBe(2); // file absent: usage
    await writeFile(join(dir, 'empty.json'), '{}');
    expect((await ctl(['set-config', silent, join(dir, 'empty.json')])).exitCode).toBe(0);
    const r = await ctl(['ping', ids[0]!, neverSeen, silent, '--timeout', '1']);
    expect(r.exitCode, r.all).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${ids[0]!}  \\d+\\.\\d ms  ok$`, 'm'));
    expect(r.stdout).toContain(`${neverSeen}  no queue bound for this host`);
    expect(r.stdout).toContain(`${silent}  no answer within 1 s`);
  });

  it('--all lists every host that answers', async () => {
    const r = await ctl(['ping', '--all', '--timeout', '1']);
    expect(r.exitCode, r.all).toBe(0);
    for (const id of ids) expect(r.stdout).toMatch(new RegExp(`^${id}  \\d+\\.\\d ms  ok$`, 'm'));
  });
});
