import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { SystemdDriver, type CommandResult } from '../../../src/services/systemd-driver.js';
import { selectServiceManager } from '../../../src/services/select-driver.js';
import { Supervisor } from '../../../src/services/supervisor.js';

const logger = createLogger({ level: 'silent' });

/** A scripted systemctl: answers by the first argument, records every call. */
function fakeSystemctl(answers: Record<string, Partial<CommandResult>> = {}) {
  const calls: Array<[string, string[]]> = [];
  const run = (file: string, args: readonly string[]): Promise<CommandResult> => {
    calls.push([file, [...args]]);
    return Promise.resolve({ stdout: '', stderr: '', exitCode: 0, ...answers[args[0] ?? ''] });
  };
  return { calls, driver: new SystemdDriver({ logger, run }) };
}

describe('SystemdDriver', () => {
  it('asks whether a reload is needed, then starts the .service unit', async () => {
    const { calls, driver } = fakeSystemctl({ show: { stdout: 'NeedDaemonReload=no\n' } });
    await driver.start('pf9-foo');
    expect(calls).toEqual([
      ['systemctl', ['show', '-p', 'NeedDaemonReload', 'pf9-foo.service']],
      ['systemctl', ['start', '--no-ask-password', 'pf9-foo.service']],
    ]);
  });

  it('runs daemon-reload first when the unit file changed on disk (packages run no scriptlets)', async () => {
    const { calls, driver } = fakeSystemctl({ show: { stdout: 'NeedDaemonReload=yes\n' } });
    await driver.restart('pf9-foo.service');
    expect(calls.map((c) => c[1])).toEqual([
      ['show', '-p', 'NeedDaemonReload', 'pf9-foo.service'],
      ['daemon-reload', '--no-ask-password'],
      ['restart', '--no-ask-password', 'pf9-foo.service'],
    ]);
  });

  it('reports a failed start with systemctl stderr and where to look', async () => {
    const { driver } = fakeSystemctl({
      start: { exitCode: 1, stderr: 'Job for pf9-foo.service failed because the control process exited with error code.' },
    });
    await expect(driver.start('pf9-foo')).rejects.toMatchObject({
      code: 'SERVICE_FAILED',
      message: expect.stringMatching(/systemctl start pf9-foo\.service failed \(exit 1\): Job for .* see journalctl -u pf9-foo\.service/) as unknown,
    });
  });

  it('stops, treating "unit not loaded" (exit 5) as already stopped', async () => {
    const { calls, driver } = fakeSystemctl({ stop: { exitCode: 5, stderr: 'Unit pf9-gone.service not loaded.' } });
    await driver.stop('pf9-gone');
    expect(calls).toEqual([['systemctl', ['stop', '--no-ask-password', 'pf9-gone.service']]]);
    const failing = fakeSystemctl({ stop: { exitCode: 1, stderr: 'Access denied' } });
    await expect(failing.driver.stop('pf9-x')).rejects.toThrow(/Access denied/);
  });

  it('asks for all states in one is-active call and reads its output whatever the exit code', async () => {
    const { calls, driver } = fakeSystemctl({ 'is-active': { stdout: 'active\ninactive\nfailed\nactivating\nreloading\n', exitCode: 3 } });
    const states = await driver.activeStates(['a', 'b.service', 'c', 'd', 'e']);
    expect(calls).toEqual([['systemctl', ['is-active', 'a.service', 'b.service', 'c.service', 'd.service', 'e.service']]]);
    expect([...states]).toEqual([
      ['a', true],
      ['b.service', false],
      ['c', false],
      ['d', false],
      ['e', true],
    ]);
  });

  it('runs nothing for no services, and refuses output it cannot match to the units', async () => {
    const { calls, driver } = fakeSystemctl({ 'is-active': { stdout: 'active\n', exitCode: 1, stderr: 'Failed to connect to bus' } });
    expect((await driver.activeStates([])).size).toBe(0);
    expect(calls).toEqual([]);
    await expect(driver.activeStates(['a', 'b'])).rejects.toThrow(/expected 2 lines, got 1 \(exit 1\): Failed to connect to bus/);
  });

  it('refuses names that systemctl would read as options', async () => {
    const { calls, driver } = fakeSystemctl();
    await expect(driver.start('--force')).rejects.toMatchObject({ code: 'SERVICE_FAILED' });
    await expect(driver.activeStates(['ok', '../x'])).rejects.toThrow(/invalid service name/);
    expect(calls).toEqual([]);
  });
});

describe('selectServiceManager', () => {
  const base = { root: '/', stateDir: '/var/opt/pf9/hostagent/X', logger };
  it.each([
    ['auto, systemd booted, root /', 'auto', '/', true, 'systemd'],
    ['auto, no systemd', 'auto', '/', false, 'supervisor'],
    ['auto, another install root', 'auto', '/tmp/root', true, 'supervisor'],
    ['supervisor asked for', 'supervisor', '/', true, 'supervisor'],
    ['systemd asked for', 'systemd', '/', false, 'systemd'],
  ] as const)('%s -> %s', (_name, driver, root, booted, kind) => {
    const m = selectServiceManager({ ...base, driver, root, systemdBooted: () => booted });
    expect(m.kind).toBe(kind);
    if (kind === 'supervisor') expect(m).toBeInstanceOf(Supervisor);
  });

  it('refuses systemd with another install root', () => {
    expect(() => selectServiceManager({ ...base, driver: 'systemd', root: '/tmp/r', systemdBooted: () => true })).toThrow(
      /services\.driver=systemd cannot run services installed under packages\.root=\/tmp\/r/,
    );
  });
});
