/**
 * What the backends run and how they read the answers, with a scripted tool
 * runner: the parsers, and the root-`/` paths (apt-get, dnf) that cannot run
 * on a test machine. The real tools are exercised in test/integration/packages.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PackageError } from '../../../src/errors.js';
import { DebBackend, parseDpkgQuery } from '../../../src/packages/deb-backend.js';
import { RpmBackend, parseRpmQuery } from '../../../src/packages/rpm-backend.js';
import { outputTail, type ToolResult, type ToolRunner } from '../../../src/packages/run-tool.js';

function scripted(answers: Partial<ToolResult>[] = []): { runner: ToolRunner; calls: string[][] } {
  const calls: string[][] = [];
  const runner: ToolRunner = (file, args) => {
    calls.push([file, ...args]);
    return Promise.resolve({ exitCode: 0, stdout: '', stderr: '', timedOut: false, ...answers.shift() });
  };
  return { runner, calls };
}

describe('parseDpkgQuery', () => {
  it('keeps installed packages (also with triggers pending), drops the unfinished and removed', () => {
    const out = parseDpkgQuery(
      [
        'pf9-a\t1.0-1\tpf9app\tii ',
        'pf9-b\t2:1.1-3\tfoo, pf9app (= 1.0)\tiW ',
        'pf9-c\t1.0\t\tit ',
        'pf9-unpacked\t1.0\tpf9app\tiU ',
        'pf9-halfconf\t1.0\tpf9app\tiF ',
        'pf9-halfinst\t1.0\tpf9app\tiH ',
        'pf9-conf\t1.0\tpf9app\trc ',
        'pf9-reinst\t1.0\tpf9app\tiiR',
        'other\t3\tpf9app-ish, notpf9app\tii ',
        '',
      ].join('\n'),
    );
    expect([...out.values()]).toEqual([
      { name: 'pf9-a', version: '1.0-1', providesPf9app: true },
      { name: 'pf9-b', version: '2:1.1-3', providesPf9app: true },
      { name: 'pf9-c', version: '1.0', providesPf9app: false },
      { name: 'other', version: '3', providesPf9app: false },
    ]);
  });
});

describe('parseRpmQuery', () => {
  it('reads name, [epoch:]version-release and provides; skips gpg-pubkey', () => {
    const out = parseRpmQuery('pf9-a\t1.0-1\tpf9-a pf9app \nbash\t5.1-2.el9\tbash /bin/sh \ngpg-pubkey\t1-2\tgpg(x) \npf9-e\t3:2.0-1\tpf9app \n');
    expect([...out.values()]).toEqual([
      { name: 'pf9-a', version: '1.0-1', providesPf9app: true },
      { name: 'bash', version: '5.1-2.el9', providesPf9app: false },
      { name: 'pf9-e', version: '3:2.0-1', providesPf9app: true },
    ]);
  });
});

describe('DebBackend commands', () => {
  it('uses --root and --admindir for another root, creating the database skeleton', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pf9-deb-cmd-'));
    try {
      const { runner, calls } = scripted();
      await new DebBackend({ root, runner }).remove(['pf9-a', 'pf9-b']);
      const rootArgs = [`--root=${root}`, `--admindir=${root}/var/lib/dpkg`, ...(process.getuid?.() === 0 ? [] : ['--force-not-root'])];
      expect(calls).toEqual([
        ['dpkg', ...rootArgs, '--force-confdef', '--force-confold', '--configure', '-a'],
        ['dpkg', ...rootArgs, '--purge', 'pf9-a', 'pf9-b'],
      ]);
      for (const entry of ['status', 'available', 'info', 'updates', 'triggers']) expect(existsSync(join(root, 'var/lib/dpkg', entry))).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('on / installs through apt-get with absolute paths and downgrades allowed; removes with dpkg', async () => {
    const { runner, calls } = scripted();
    const b = new DebBackend({ root: '/', useApt: true, runner });
    await b.install(['rel/pf9-a_1.0-1_all.deb', '/abs/pf9-b_1.0-1_all.deb']);
    await b.remove(['pf9-a']);
    expect(calls[0]).toEqual(['dpkg', '--force-confdef', '--force-confold', '--configure', '-a']);
    expect(calls[1]?.[0]).toBe('apt-get');
    expect(calls[1]).toEqual(expect.arrayContaining(['-y', '--allow-downgrades', 'install', `${process.cwd()}/rel/pf9-a_1.0-1_all.deb`, '/abs/pf9-b_1.0-1_all.deb']));
    // The install left everything configured, so the remove needs no second repair.
    expect(calls[2]).toEqual(['dpkg', '--purge', 'pf9-a']);
    expect(calls).toHaveLength(3);
  });

  it('on / with useApt false uses plain dpkg -i; nothing for empty lists', async () => {
    const { runner, calls } = scripted();
    const b = new DebBackend({ root: '/', useApt: false, runner });
    await b.install([]);
    await b.remove([]);
    expect(calls).toEqual([]);
    await b.install(['/x/a.deb']);
    expect(calls[1]).toEqual(['dpkg', '--force-confdef', '--force-confold', '-i', '/x/a.deb']);
  });

  it('refuses apt-get for another root, and option-like package names', async () => {
    expect(() => new DebBackend({ root: '/tmp/r', useApt: true })).toThrow(/apt-get can only install into root \//);
    const { runner } = scripted();
    await expect(new DebBackend({ root: '/', runner }).remove(['-r'])).rejects.toMatchObject({ code: 'PACKAGE_REMOVE_FAILED' });
  });

  it('puts the tool output tail into the error', async () => {
    const { runner } = scripted([{}, { exitCode: 1, stderr: `${'x'.repeat(3000)}\ndpkg: error processing archive /x/a.deb (--install):\n` }]);
    const err = await new DebBackend({ root: '/', useApt: false, runner }).install(['/x/a.deb']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageError);
    expect((err as PackageError).code).toBe('PACKAGE_INSTALL_FAILED');
    expect((err as PackageError).message).toMatch(/^dpkg --force-confdef --force-confold -i \/x\/a\.deb exited 1: \.\.\.x+\ndpkg: error processing archive/);
    expect((err as PackageError).message.length).toBeLessThan(1700);
  });
});

describe('RpmBackend commands', () => {
  it('on / installs through dnf, removes with rpm -e and no --nodeps', async () => {
    const { runner, calls } = scripted();
    const b = new RpmBackend({ root: '/', useDnf: true, runner });
    await b.install(['/x/a.rpm', '/x/b.rpm']);
    await b.remove(['pf9-a']);
    expect(calls).toEqual([
      ['dnf', 'install', '-y', '-q', '/x/a.rpm', '/x/b.rpm'],
      ['rpm', '-e', 'pf9-a'],
    ]);
  });

  it('on / without dnf uses rpm -U with downgrades and no --nodeps', async () => {
    const { runner, calls } = scripted();
    await new RpmBackend({ root: '/', useDnf: false, runner }).install(['/x/a.rpm']);
    expect(calls).toEqual([['rpm', '-U', '--replacepkgs', '--oldpackage', '/x/a.rpm']]);
  });

  it('retries a removal without the names that are not installed', async () => {
    const { runner, calls } = scripted([{ exitCode: 1, stderr: 'error: package pf9-gone is not installed\n' }]);
    await new RpmBackend({ root: '/', runner }).remove(['pf9-a', 'pf9-gone']);
    expect(calls).toEqual([
      ['rpm', '-e', 'pf9-a', 'pf9-gone'],
      ['rpm', '-e', 'pf9-a'],
    ]);
  });

  it('does not retry other removal errors', async () => {
    const stderr = 'error: Failed dependencies:\n\tpf9-a is needed by (installed) pf9-b-1.0-1.noarch\n';
    const { runner, calls } = scripted([{ exitCode: 1, stderr }]);
    const err = await new RpmBackend({ root: '/', runner }).remove(['pf9-a']).catch((e: unknown) => e);
    expect((err as PackageError).code).toBe('PACKAGE_REMOVE_FAILED');
    expect((err as PackageError).message).toContain('pf9-a is needed by (installed) pf9-b');
    expect(calls).toHaveLength(1);
  });

  it('reports a timeout as such', async () => {
    const { runner } = scripted([{ exitCode: -1, timedOut: true }]);
    const err = await new RpmBackend({ root: '/', useDnf: false, runner, transactionTimeoutMs: 5000 }).install(['/x/a.rpm']).catch((e: unknown) => e);
    expect((err as PackageError).message).toBe('rpm -U --replacepkgs --oldpackage /x/a.rpm timed out after 5 s');
  });
});

describe('outputTail', () => {
  it("drops Debian rpm's Alien warning and falls back to stdout", () => {
    const stderr = 'rpm: RPM should not be used directly install RPM packages, use Alien instead!\nrpm: However assuming you know what you are doing...\n';
    expect(outputTail({ stderr: `${stderr}error: x.rpm cannot be installed\n`, stdout: '' })).toBe('error: x.rpm cannot be installed');
    expect(outputTail({ stderr, stdout: 'said on stdout\n' })).toBe('said on stdout');
  });
});
