/**
 * The agent's main job end to end, for both package formats: a master on
 * the real RabbitMQ sends set_config; the agent downloads real packages
 * (built here with dpkg-deb / rpmbuild, served on 127.0.0.1), installs them
 * with real dpkg / rpm into a temporary root, runs their services with the
 * built-in supervisor, applies their configs through their hooks, and
 * reports converging, then ok or errors.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DebBackend, RpmBackend } from '../../../src/packages/index.js';
import type { PackageBackend } from '../../../src/packages/types.js';
import { desiredHash } from '../../../src/protocol/canonical-json.js';
import type { DesiredApps } from '../../../src/protocol/bbone/types.js';
import { buildAppPackage, packageVersion, startPackageServer, type PackageServer } from '../../fixtures/packages/package-builder.js';
import { createVhost, type TestVhost } from '../../helpers/broker.js';
import { waitFor } from '../../helpers/wait.js';
import { startTestAgent, type TestAgent } from '../support/agent-harness.js';
import { killMatching, pidsMatching } from '../support/host-processes.js';
import { statusOf, TestMaster, type Received } from '../support/test-master.js';

type Format = 'deb' | 'rpm';

describe.each<Format>(['deb', 'rpm'])('reconcile with %s packages', (format) => {
  let vhost: TestVhost;
  let master: TestMaster;
  let server: PackageServer;
  let work: string;
  let agent: TestAgent;
  let backend: PackageBackend;
  const files: Record<string, string> = {};
  const v10 = packageVersion({ version: '1.0' });
  const v11 = packageVersion({ version: '1.1' });

  const url = (key: string): string => `${server.url}/${files[key]?.split('/').pop() ?? 'missing'}`;
  const root = (): string => join(agent.stateDir, 'root');
  const bin = (app: string): string => join(root(), 'opt/pf9', app, 'bin', app);
  const statusData = (r: Received): Record<string, unknown> => r.body.data as Record<string, unknown>;

  /** Sends set_config, checks the immediate reply, and waits for the status that ends the converge. */
  async function converge(apps: DesiredApps, want: 'ok' | 'errors' = 'ok'): Promise<Record<string, unknown>> {
    const hash = desiredHash(apps);
    const settled = master.next(
      (r) => statusOf(agent.hostId)(r) && statusData(r).desired_hash === hash && statusData(r).status === want,
      60_000,
      `status ${want} for ${Object.keys(apps).join(',')}`,
    );
    const reply = await master.request(agent.hostId, { opcode: 'set_config', data: apps });
    // The reply comes once the desired state is saved, while the work is still ahead.
    expect(statusData(reply)).toMatchObject({ desired_hash: hash, status: 'converging' });
    return statusData(await settled);
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), `pf9-e2e-${format}-`));
    const out = join(work, 'repo');
    const build = (name: string, version: string, extra: object = {}): Promise<string> =>
      buildAppPackage({ format, name, version, outDir: out, ...extra });
    files.hello10 = await build('pf9-hello', '1.0');
    files.hello11 = await build('pf9-hello', '1.1');
    files.world10 = await build('pf9-world', '1.0');
    files.bad10 = await build('pf9-bad', '1.0', { broken: true });
    files.sum10 = await build('pf9-sum', '1.0');
    server = await startPackageServer(out);
    vhost = await createVhost(`e2e-${format}`);
    master = await TestMaster.connect(vhost.url);
    agent = await startTestAgent({
      url: vhost.url,
      sets: [`packages.backend=${format}`, 'hostagent.heartbeat_period=1', 'hostagent.max_converge_attempts=2'],
    });
    await agent.bus.waitForConnected(10_000);
    backend = format === 'deb' ? new DebBackend({ root: root() }) : new RpmBackend({ root: root() });
  }, 120_000);

  afterAll(async () => {
    const r = agent ? root() : undefined;
    await agent?.dispose();
    if (r) await killMatching(r);
    await master?.close();
    await vhost?.dispose();
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('installs two apps in one converge: packages, processes, configs, status ok', async () => {
    const apps: DesiredApps = {
      'pf9-hello': { version: v10, url: url('hello10'), running: true, config: { greeting: 'hi', port: 8080 } },
      'pf9-world': { version: v10, url: url('world10'), running: true, config: {} },
    };
    const status = await converge(apps);
    expect(status.apps).toMatchObject({
      'pf9-hello': { version: v10, running: true, config: { greeting: 'hi', port: 8080 } },
      'pf9-world': { version: v10, running: true },
    });
    const installed = await backend.listInstalled();
    expect(installed.get('pf9-hello')).toMatchObject({ version: v10, providesPf9app: true });
    expect(installed.get('pf9-world')?.version).toBe(v10);
    expect(await pidsMatching(bin('pf9-hello'))).toHaveLength(1);
    expect(await pidsMatching(bin('pf9-world'))).toHaveLength(1);
    const applied = JSON.parse(await readFile(join(root(), 'opt/pf9/pf9-hello/etc/config.json'), 'utf8')) as unknown;
    expect(applied).toEqual({ greeting: 'hi', port: 8080 });
    // One transaction for both installs.
    const tx = agent.logs.filter((l) => l.event === 'packages.transaction' || l.event === 'packages.install');
    expect(tx.length).toBeLessThanOrEqual(1);
  });

  it('changing only the config runs set-config, with no download and no reinstall', async () => {
    const requestsBefore = server.requests.length;
    const [pidBefore] = await pidsMatching(bin('pf9-hello'));
    const status = await converge({
      'pf9-hello': { version: v10, url: url('hello10'), running: true, config: { greeting: 'hello', port: 8080 } },
      'pf9-world': { version: v10, url: url('world10'), running: true, config: {} },
    });
    expect(status.apps).toMatchObject({ 'pf9-hello': { config: { greeting: 'hello' } } });
    expect(server.requests.length).toBe(requestsBefore);
    expect(await pidsMatching(bin('pf9-hello'))).toEqual([pidBefore]);
  });

  it('a new version is an upgrade, and the service restarts into it', async () => {
    const [pidBefore] = await pidsMatching(bin('pf9-hello'));
    const status = await converge({
      'pf9-hello': { version: v11, url: url('hello11'), running: true, config: { greeting: 'hello', port: 8080 } },
      'pf9-world': { version: v10, url: url('world10'), running: true, config: {} },
    });
    expect(status.apps).toMatchObject({ 'pf9-hello': { version: v11, running: true } });
    expect((await backend.listInstalled()).get('pf9-hello')?.version).toBe(v11);
    const pids = await pidsMatching(bin('pf9-hello'));
    expect(pids).toHaveLength(1);
    expect(pids[0]).not.toBe(pidBefore);
    expect((await readFile(join(root(), 'opt/pf9/pf9-hello/run/pf9-hello.version'), 'utf8')).trim()).toBe(v11);
  });

  it('running false stops the service; removing an app uninstalls it and unbinds its topic', async () => {
    const status = await converge({ 'pf9-hello': { version: v11, url: url('hello11'), running: false, config: { greeting: 'hello', port: 8080 } } });
    expect(status.apps).toEqual({ 'pf9-hello': { version: v11, running: false, config: { greeting: 'hello', port: 8080 } } });
    await waitFor(async () => (await pidsMatching(bin('pf9-hello'))).length === 0, { what: 'pf9-hello to stop', timeoutMs: 10_000 });
    expect(await pidsMatching(bin('pf9-world'))).toEqual([]);
    expect((await backend.listInstalled()).has('pf9-world')).toBe(false);
    expect(existsSync(bin('pf9-world'))).toBe(false);
    // The topic of an installed app reaches the agent; that of a removed one no longer does.
    expect((await master.request('pf9-hello', { opcode: 'ping' })).body.opcode).toBe('status');
    await expect(master.request('pf9-world', { opcode: 'ping' }, 700)).rejects.toThrow(/timed out/);
  });

  it('reports each broken app with a clear error, keeps the others and the desired state', async () => {
    const good = await readFile(files.sum10 ?? '');
    const wrongSum = createHash('sha256').update(good).update('x').digest('hex');
    const apps: DesiredApps = {
      'pf9-hello': { version: v11, url: url('hello11'), running: true, config: { greeting: 'still here' } },
      'pf9-bad': { version: v10, url: url('bad10'), running: true },
      'pf9-sum': { version: v10, url: url('sum10'), running: true, sha256: wrongSum },
      'pf9-gone': { version: v10, url: `${server.url}/no-such-file.${format}`, running: true },
      'pf9-far': { version: v10, url: `ftp://127.0.0.1/pf9-far.${format}`, running: true },
      'pf9-world': { version: v10, url: url('world10'), running: true, config: { fail_hook: true } },
    };
    const status = await converge(apps, 'errors');
    const appsOut = status.apps as Record<string, { error?: { code: string; message: string }; running?: boolean; version?: string }>;
    // rpm refuses a truncated file as soon as it reads its header; dpkg-deb reads only the control part, so dpkg -i fails it.
    expect(appsOut['pf9-bad']?.error?.code).toBe(format === 'rpm' ? 'PACKAGE_MISMATCH' : 'PACKAGE_INSTALL_FAILED');
    expect(appsOut['pf9-sum']?.error).toMatchObject({ code: 'PACKAGE_CHECKSUM_MISMATCH' });
    expect(appsOut['pf9-sum']?.error?.message).toContain(wrongSum);
    expect(appsOut['pf9-gone']?.error).toMatchObject({ code: 'PACKAGE_DOWNLOAD_FAILED', message: expect.stringContaining('404') as unknown });
    expect(appsOut['pf9-far']?.error?.code).toBe('PACKAGE_URL_NOT_ALLOWED');
    expect(appsOut['pf9-world']?.error).toMatchObject({ code: 'HOOK_FAILED', message: expect.stringContaining('fail_hook is set') as unknown });
    // The good app converged all the same.
    expect(appsOut['pf9-hello']).toMatchObject({ version: v11, running: true, config: { greeting: 'still here' } });
    expect(appsOut['pf9-hello']?.error).toBeUndefined();
    expect(await pidsMatching(bin('pf9-hello'))).toHaveLength(1);
    // The desired state is kept as sent.
    expect(status.desired_hash).toBe(desiredHash(apps));
    const saved = JSON.parse(await readFile(join(agent.stateDir, agent.hostId, 'desired_apps.json'), 'utf8')) as unknown;
    expect(saved).toEqual(apps);
    // After max_converge_attempts (2 here) the failures are reported as given up.
    await master.next(
      (r) => statusOf(agent.hostId)(r) && JSON.stringify(statusData(r).apps).includes('gave up after 2 attempts'),
      20_000,
      'a status saying the agent gave up',
    );
  });
});
