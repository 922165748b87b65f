/**
 * The agent as a real process, killed with SIGKILL in the middle of a
 * converge, and restarted: it converges to the same end state, re-adopting
 * the services it had started instead of starting duplicates. Then a
 * "reboot" (agent stopped, app processes gone) with no broker at all: the
 * apps come back from the persisted desired state alone.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredHash } from '../../../src/protocol/canonical-json.js';
import type { DesiredApps } from '../../../src/protocol/bbone/types.js';
import { buildAppPackage, packageVersion, startPackageServer, type PackageServer } from '../../fixtures/packages/package-builder.js';
import { createVhost, type TestVhost } from '../../helpers/broker.js';
import { waitFor } from '../../helpers/wait.js';
import { randomHostId } from '../support/agent-harness.js';
import { killMatching, pidsMatching } from '../support/host-processes.js';
import { statusOf, TestMaster } from '../support/test-master.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'bin/pf9-hostagent.js');
const NODE_DIR = dirname(join(ROOT, 'node_modules/.bin/node'));

let vhost: TestVhost;
let master: TestMaster;
let server: PackageServer;
let work: string;
const hostId = randomHostId();
const files: Record<string, string> = {};
const v10 = packageVersion({ version: '1.0' });
const v11 = packageVersion({ version: '1.1' });
const running: ResultPromise[] = [];

const root = (): string => join(work, 'root');
const bin = (app: string): string => join(root(), 'opt/pf9', app, 'bin', app);
const url = (key: string): string => `${server.url}/${files[key]?.split('/').pop() ?? ''}`;

async function writeConf(amqpUrl: string): Promise<string> {
  const conf = join(work, 'hostagent.conf');
  await writeFile(
    conf,
    [
      '[amqp]',
      `url = ${amqpUrl}`,
      '[hostagent]',
      `host_id = ${hostId}`,
      `state_dir = ${join(work, 'state')}`,
      'heartbeat_period = 1',
      'connection_retry_period = 0.2',
      'connection_retry_max = 1',
      '[packages]',
      `root = ${root()}`,
      `cache_dir = ${join(work, 'cache')}`,
      'backend = deb',
      '[services]',
      'driver = supervisor',
      '[control]',
      `socket = ${join(work, 'ctl.sock')}`,
      '',
    ].join('\n'),
  );
  return conf;
}

function spawnAgent(conf: string): ResultPromise {
  const child = execa(BIN, ['--config', conf], {
    env: { PATH: `${NODE_DIR}:${process.env.PATH ?? ''}` },
    extendEnv: false,
    reject: false,
    all: true,
  });
  running.push(child);
  return child;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pf9-crash-'));
  const out = join(work, 'repo');
  files.hello10 = await buildAppPackage({ format: 'deb', name: 'pf9-hello', version: '1.0', outDir: out });
  files.world10 = await buildAppPackage({ format: 'deb', name: 'pf9-world', version: '1.0', outDir: out });
  files.world11 = await buildAppPackage({ format: 'deb', name: 'pf9-world', version: '1.1', outDir: out });
  server = await startPackageServer(out);
  vhost = await createVhost('crash');
  master = await TestMaster.connect(vhost.url);
}, 60_000);

afterAll(async () => {
  for (const c of running) c.kill('SIGKILL');
  await Promise.allSettled(running);
  if (work) await killMatching(root());
  await master?.close();
  await vhost?.dispose();
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

describe('crash and reboot', () => {
  it('SIGKILL mid-converge, restart: same end state, no duplicate processes', { timeout: 90_000 }, async () => {
    const conf = await writeConf(vhost.url);
    const first = spawnAgent(conf);
    await master.next(statusOf(hostId), 20_000, 'the agent to come up');

    const base: DesiredApps = {
      'pf9-hello': { version: v10, url: url('hello10'), running: true, config: { n: 1 } },
      'pf9-world': { version: v10, url: url('world10'), running: true, config: { n: 1 } },
    };
    const ok = master.next((r) => statusOf(hostId)(r) && (r.body.data as { status: string }).status === 'ok' && (r.body.data as { desired_hash: string }).desired_hash === desiredHash(base), 30_000, 'first converge');
    master.send(hostId, { opcode: 'set_config', data: base });
    await ok;
    const [helloPid] = await pidsMatching(bin('pf9-hello'));
    expect(helloPid).toBeDefined();

    // Upgrade pf9-world with a config hook that takes 3 s: the agent is killed while it runs.
    const next: DesiredApps = { ...base, 'pf9-world': { version: v11, url: url('world11'), running: true, config: { n: 2, hook_sleep: 3 } } };
    master.send(hostId, { opcode: 'set_config', data: next });
    await waitFor(async () => (await pidsMatching(join(root(), 'opt/pf9/pf9-world/config'))).length > 0, {
      what: 'the config hook of pf9-world to run',
      timeoutMs: 20_000,
    });
    first.kill('SIGKILL');
    await first;

    const done = master.next(
      (r) => statusOf(hostId)(r) && (r.body.data as { status: string }).status === 'ok' && (r.body.data as { desired_hash: string }).desired_hash === desiredHash(next),
      40_000,
      'the restarted agent to converge',
    );
    const second = spawnAgent(conf);
    const status = (await done).body.data as { apps: Record<string, { version: string; running: boolean }> };
    expect(status.apps['pf9-world']).toMatchObject({ version: v11, running: true });
    expect(status.apps['pf9-hello']).toMatchObject({ version: v10, running: true });
    // pf9-hello was adopted, not started again; one process per app.
    expect(await pidsMatching(bin('pf9-hello'))).toEqual([helloPid]);
    expect(await pidsMatching(bin('pf9-world'))).toHaveLength(1);
    second.kill('SIGTERM');
    expect((await second).exitCode).toBe(0);
  });

  it('after a reboot with no broker, the apps come back from the persisted desired state', { timeout: 60_000 }, async () => {
    // A "reboot": the agent is stopped and the app processes are gone.
    await killMatching(root());
    await waitFor(async () => (await pidsMatching(bin('pf9-hello'))).length === 0, { what: 'the apps to be gone', timeoutMs: 5000 });
    const conf = await writeConf('amqp://guest:guest@127.0.0.1:1/');
    const agent = spawnAgent(conf);
    await waitFor(async () => (await pidsMatching(bin('pf9-hello'))).length === 1 && (await pidsMatching(bin('pf9-world'))).length === 1, {
      what: 'both apps to run again with no broker',
      timeoutMs: 30_000,
    });
    agent.kill('SIGTERM');
    const r = await agent;
    expect(r.exitCode).toBe(0);
    expect(String(r.all)).toContain('bus.retry');
    expect(String(r.all)).not.toContain('"event":"bus.connected"');
  });
});
