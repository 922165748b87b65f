/**
 * Both package backends against the real tools (dpkg, rpm), installing
 * packages built at test time into temporary roots. The host's own package
 * databases are checked to stay untouched.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PackageError } from '../../../src/errors.js';
import { DebBackend } from '../../../src/packages/deb-backend.js';
import { RpmBackend } from '../../../src/packages/rpm-backend.js';
import { runWithExeca, type ToolRunner } from '../../../src/packages/run-tool.js';
import type { PackageBackend } from '../../../src/packages/types.js';
import { buildAppPackage } from '../../fixtures/packages/package-builder.js';

const run = promisify(execFile);

/** Records every command the backend runs, then runs it for real. */
function recordingRunner(): { runner: ToolRunner; calls: string[][] } {
  const calls: string[][] = [];
  return { calls, runner: (file, args, opts) => (calls.push([file, ...args]), runWithExeca(file, args, opts)) };
}

async function expectPackageError(p: Promise<unknown>, code: string): Promise<PackageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PackageError);
  expect((err as PackageError).code).toBe(code);
  return err as PackageError;
}

describe.each(['deb', 'rpm'] as const)('%s backend in a temporary root', (format) => {
  let work: string;
  let root: string;
  let backend: PackageBackend;
  let calls: string[][];
  const pkgs: Record<string, string> = {};
  const hostDb = format === 'deb' ? '/var/lib/dpkg/status' : '/var/lib/rpm';
  let hostDbMtime: number | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), `pf9-${format}-`));
    root = join(work, 'root');
    const out = join(work, 'pkgs');
    const build = (name: string, version: string, extra: { broken?: boolean; providesPf9app?: boolean; epoch?: number } = {}) =>
      buildAppPackage({ format, name, version, outDir: out, ...extra });
    [pkgs.hello10, pkgs.hello11, pkgs.other, pkgs.broken, pkgs.plain, pkgs.epoch, pkgs.foreign] = await Promise.all([
      build('pf9-hello', '1.0'),
      build('pf9-hello', '1.1'),
      build('pf9-other', '1.0'),
      build('pf9-hello', '1.2', { broken: true }),
      build('plain-tool', '2.0', { providesPf9app: false }),
      build('pf9-epoch', '3.0', { epoch: 2 }),
      // The other format: what a host gets when the master's URL names the wrong kind of package.
      buildAppPackage({ format: format === 'deb' ? 'rpm' : 'deb', name: 'pf9-hello', version: '1.0', outDir: join(out, 'foreign') }),
    ]);
    const rec = recordingRunner();
    calls = rec.calls;
    backend = format === 'deb' ? new DebBackend({ root, runner: rec.runner }) : new RpmBackend({ root, runner: rec.runner });
    hostDbMtime = existsSync(hostDb) ? statSync(hostDb).mtimeMs : undefined;
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const file = (key: string): string => {
    const f = pkgs[key];
    if (!f) throw new Error(`no package ${key}`);
    return f;
  };

  it('lists nothing in an empty root, creating its database', async () => {
    const installed = await backend.listInstalled();
    expect([...installed.keys()]).toEqual([]);
    expect(existsSync(join(root, format === 'deb' ? 'var/lib/dpkg/status' : 'var/lib/rpm'))).toBe(true);
  });

  it('inspects a package file', async () => {
    expect(await backend.inspect(file('hello11'))).toEqual({ name: 'pf9-hello', version: '1.1-1' });
    expect(await backend.inspect(file('epoch'))).toEqual({ name: 'pf9-epoch', version: '2:3.0-1' });
    const err = await expectPackageError(backend.inspect(file('foreign')), 'PACKAGE_MISMATCH');
    expect(err.message).toContain(`not a readable ${format} package`);
  });

  it('installs two packages in one transaction', async () => {
    calls.length = 0;
    await backend.install([file('hello10'), file('other')]);
    const tool = format === 'deb' ? 'dpkg' : 'rpm';
    const transactions = calls.filter((c) => c[0] === tool && (c.includes('-i') || c.includes('-U')));
    expect(transactions).toHaveLength(1);
    expect(transactions[0]).toEqual(expect.arrayContaining([file('hello10'), file('other')]));

    const installed = await backend.listInstalled();
    expect(installed.get('pf9-hello')).toEqual({ name: 'pf9-hello', version: '1.0-1', providesPf9app: true });
    expect(installed.get('pf9-other')).toEqual({ name: 'pf9-other', version: '1.0-1', providesPf9app: true });
    expect(installed.size).toBe(2);
  });

  it('installs working app files under the root', async () => {
    const app = join(root, 'opt/pf9/pf9-hello');
    expect(existsSync(join(app, 'bin/pf9-hello'))).toBe(true);
    const unit = await readFile(join(root, 'lib/systemd/system/pf9-hello.service'), 'utf8');
    expect(unit).toContain('ExecStart=/opt/pf9/pf9-hello/bin/pf9-hello');
    expect(unit).toContain('Restart=always');
    const env = { ...process.env, PF9_ROOT: root };
    expect((await run(join(app, 'config'), ['--get-config'], { env })).stdout.trim()).toBe('{}');
    await run(join(app, 'config'), ['--set-config', '{"greeting":"hi"}'], { env });
    expect(JSON.parse((await run(join(app, 'config'), ['--get-config'], { env })).stdout)).toEqual({ greeting: 'hi' });
    expect(JSON.parse((await run(join(app, 'config'), ['--get-services'], { env })).stdout)).toEqual(['pf9-hello']);
  });

  it('upgrades, then downgrades (the master version wins)', async () => {
    await backend.install([file('hello11')]);
    expect((await backend.listInstalled()).get('pf9-hello')?.version).toBe('1.1-1');
    expect(await readFile(join(root, 'opt/pf9/pf9-hello/bin/pf9-hello'), 'utf8')).toContain('1.1-1');
    await backend.install([file('hello10')]);
    expect((await backend.listInstalled()).get('pf9-hello')?.version).toBe('1.0-1');
    // Reinstalling the installed version is not an error.
    await backend.install([file('hello10')]);
    expect((await backend.listInstalled()).get('pf9-hello')?.version).toBe('1.0-1');
  });

  it('reports packages without Provides: pf9app, and epochs', async () => {
    await backend.install([file('plain'), file('epoch')]);
    const installed = await backend.listInstalled();
    expect(installed.get('plain-tool')).toEqual({ name: 'plain-tool', version: '2.0-1', providesPf9app: false });
    expect(installed.get('pf9-epoch')?.version).toBe('2:3.0-1');
  });

  it('fails a broken file with PACKAGE_INSTALL_FAILED and the tool output', async () => {
    const err = await expectPackageError(backend.install([file('broken')]), 'PACKAGE_INSTALL_FAILED');
    expect(err.message).toContain(file('broken'));
    expect(err.message).toMatch(format === 'deb' ? /dpkg-deb|error processing archive/ : /not an rpm package|BAD|cannot be installed/);
    expect(err.message).not.toContain('use Alien instead'); // Debian's rpm noise is dropped from the tail
    expect((await backend.listInstalled()).get('pf9-hello')?.version).toBe('1.0-1');
  });

  it('removes in one call, and removing again is harmless', async () => {
    calls.length = 0;
    await backend.remove(['pf9-hello', 'pf9-other', 'plain-tool', 'pf9-epoch']);
    expect(calls.filter((c) => c.includes('--purge') || c.includes('-e'))).toHaveLength(1);
    expect([...(await backend.listInstalled()).keys()]).toEqual([]);
    expect(existsSync(join(root, 'opt/pf9/pf9-other/bin/pf9-other'))).toBe(false);
    await backend.remove(['pf9-hello']);
    await expectPackageError(backend.remove(['--force-all']), 'PACKAGE_REMOVE_FAILED');
  });

  it('left the host package database alone', () => {
    expect(existsSync(hostDb) ? statSync(hostDb).mtimeMs : undefined).toBe(hostDbMtime);
    if (format === 'rpm') expect(existsSync(join(homedir(), '.rpmdb'))).toBe(false);
  });
});

describe('deb repair after an interrupted run', () => {
  it('configures a package dpkg left unpacked, and install() repairs first', async () => {
    const work = await mkdtemp(join(tmpdir(), 'pf9-deb-repair-'));
    try {
      const root = join(work, 'root');
      const hello = await buildAppPackage({ format: 'deb', name: 'pf9-hello', version: '1.0', outDir: work });
      const other = await buildAppPackage({ format: 'deb', name: 'pf9-other', version: '1.0', outDir: work });
      const backend = new DebBackend({ root });
      await backend.listInstalled(); // creates the database
      const dpkgQuery = async (): Promise<string> =>
        (await run('dpkg-query', [`--admindir=${root}/var/lib/dpkg`, '-W', '-f', '${Package} ${db:Status-Abbrev}\n'])).stdout.trim();

      // What a kill between unpack and configure leaves behind.
      await run('dpkg', [`--root=${root}`, '--unpack', hello]);
      expect(await dpkgQuery()).toBe('pf9-hello iU');
      expect((await backend.listInstalled()).has('pf9-hello')).toBe(false); // not taken for a finished install
      await backend.repair();
      expect(await dpkgQuery()).toBe('pf9-hello ii');
      expect((await backend.listInstalled()).get('pf9-hello')?.version).toBe('1.0-1');

      await run('dpkg', [`--root=${root}`, '--unpack', other]);
      // The reconciler always queries before a transaction; the query is how the backend learns a repair is due.
      expect((await backend.listInstalled()).has('pf9-other')).toBe(false);
      await backend.install([hello]);
      expect((await dpkgQuery()).split('\n').map((l) => l.trim()).sort()).toEqual(['pf9-hello ii', 'pf9-other ii']);

      // A new backend (an agent restarted after a kill mid-dpkg) repairs before its first transaction, unasked.
      await run('dpkg', [`--root=${root}`, '--purge', 'pf9-other']);
      await run('dpkg', [`--root=${root}`, '--unpack', other]);
      await new DebBackend({ root }).install([hello]);
      expect((await dpkgQuery()).split('\n').map((l) => l.trim()).sort()).toEqual(['pf9-hello ii', 'pf9-other ii']);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
