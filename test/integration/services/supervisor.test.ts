/**
 * The built-in supervisor against real processes: unit files and programs
 * in a temporary install root, pid files in a temporary state dir, and
 * /proc as the judge of what runs. Every process group a test starts is
 * killed after it (fixture.destroyRoot), also when the test fails.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { readProcStat } from '../../../src/services/proc.js';
import { Supervisor, type SupervisorOptions } from '../../../src/services/supervisor.js';
import { waitFor } from '../../helpers/wait.js';
import {
  destroyRoot, isZombieOrGone, loopScript, makeRoot, pidsWithMarker, processExists, readStatus, writeProgram, writeUnit, type TestRoot,
} from './fixture.js';

const logger = createLogger({ level: 'silent' });

let roots: TestRoot[] = [];
let supervisors: Supervisor[] = [];
/** Leaders of every group a test saw, so cleanup reaches groups whose leader already died. */
const groups = new Set<number>();

afterEach(async () => {
  // Close first, so no restart timer fires while processes are being killed.
  await Promise.all(supervisors.map((s) => s.close()));
  for (const t of roots) await destroyRoot(t, groups);
  roots = [];
  supervisors = [];
  groups.clear();
});

async function setup(serviceLines: string[] = [], opts: { trapTerm?: boolean } = {}): Promise<TestRoot> {
  const t = await makeRoot();
  roots.push(t);
  const program = await writeProgram(t, 'hello', loopScript(opts));
  await writeUnit(t, 'pf9-hello', [
    `ExecStart=${program} ${t.marker} --root=\${PF9_ROOT} $EXTRA`,
    'Environment=NAME=pf9-hello "GREETING=hi there" "EXTRA=one two"',
    'EnvironmentFile=-/etc/pf9/hello.env',
    ...serviceLines,
  ]);
  return t;
}

function supervisor(t: TestRoot, extra: Partial<SupervisorOptions> = {}): Supervisor {
  const s = new Supervisor({ root: t.root, stateDir: t.stateDir, logger, ...extra });
  supervisors.push(s);
  return s;
}

async function pidFile(t: TestRoot, name = 'pf9-hello'): Promise<{ pid: number; startTime: number; argv: string[] } | undefined> {
  try {
    const r = JSON.parse(await readFile(join(t.stateDir, 'services', `${name}.pid`), 'utf8')) as { pid: number; startTime: number; argv: string[] };
    if (r.pid !== process.pid) groups.add(r.pid);
    return r;
  } catch {
    return undefined;
  }
}

async function running(t: TestRoot): Promise<number> {
  const status = await waitFor(async () => {
    const s = await readStatus(t, 'pf9-hello');
    return s && s.count > 0 && processExists(s.pid) ? s : undefined;
  }, { what: 'the service to write its status' });
  groups.add(status.pid);
  return status.pid;
}

/** A logger whose JSON lines the test can wait for, and a timer that only records what was scheduled. */
function observed(): { logger: ReturnType<typeof createLogger>; events: Array<Record<string, unknown>>; timer: SupervisorOptions['timer']; scheduled: number[] } {
  const events: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().trim().split('\n')) events.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const scheduled: number[] = [];
  return { logger: createLogger({ level: 'info', destination: sink }), events, scheduled, timer: { setTimeout: (_fn, ms) => scheduled.push(ms), clearTimeout: () => undefined } };
}

const active = async (s: Supervisor, name = 'pf9-hello'): Promise<boolean | undefined> => (await s.activeStates([name])).get(name);

describe('Supervisor', () => {
  it('starts the unit under the root with its environment, PF9_ROOT, working directory and a pid file', async () => {
    const t = await setup(['WorkingDirectory=/opt/pf9/hello', 'Restart=always']);
    await mkdir(join(t.root, 'etc/pf9'), { recursive: true });
    await writeFile(join(t.root, 'etc/pf9/hello.env'), 'FROM_FILE="from the file"\n');
    const s = supervisor(t);
    await s.start('pf9-hello');
    const pid = await running(t);
    const status = await readStatus(t, 'pf9-hello');
    expect(status).toMatchObject({
      pf9Root: t.root, greeting: 'hi there', fromFile: 'from the file', cwd: join(t.root, 'opt/pf9/hello'),
      args: `${t.marker} --root=${t.root} one two`,
    });
    const record = await pidFile(t);
    expect(record).toMatchObject({ pid, startTime: (await readProcStat(pid))?.startTime });
    expect(record?.argv).toEqual(['/opt/pf9/hello/bin/hello', t.marker, `--root=${t.root}`, 'one', 'two']);
    expect((await readProcStat(pid))?.pgrp).toBe(pid); // leads its own process group
    expect(await s.activeStates(['pf9-hello', 'pf9-other'])).toEqual(new Map([['pf9-hello', true], ['pf9-other', false]]));
    await waitFor(async () => (await readFile(join(t.stateDir, 'services/pf9-hello.log'), 'utf8')).includes('tick 2'), { what: 'stdout in the log file' });
  });

  it('does not start a second process when started again, even concurrently', async () => {
    const t = await setup();
    const s = supervisor(t);
    await Promise.all([s.start('pf9-hello'), s.start('pf9-hello')]);
    const pid = await running(t);
    await s.start('pf9-hello');
    expect(await pidsWithMarker(t.marker)).toEqual([pid]);
    expect((await pidFile(t))?.pid).toBe(pid);
  });

  it('restarts a killed process (Restart=always), records the new pid, and cleans up the old group', async () => {
    const t = await setup(['Restart=always', 'RestartSec=50ms']);
    const s = supervisor(t);
    await s.start('pf9-hello');
    const first = await running(t);
    const grandchild = Number(await readFile(join(t.root, 'var/out/pf9-hello.child'), 'utf8'));
    process.kill(first, 'SIGKILL');
    const second = await waitFor(async () => {
      const r = await pidFile(t);
      return r && r.pid !== first && processExists(r.pid) ? r.pid : undefined;
    }, { what: 'a restarted process in the pid file' });
    groups.add(second);
    expect(await running(t)).toBe(second);
    expect(await active(s)).toBe(true);
    expect(await pidsWithMarker(t.marker)).toEqual([second]);
    // The old run's forked sleep got SIGTERM when its leader died, as systemd would stop the rest of the unit.
    await waitFor(() => isZombieOrGone(grandchild), { what: 'the old grandchild to be stopped' });
  });

  it('leaves a dead process down with Restart=no and reports it inactive', async () => {
    const t = await setup(['Restart=no']);
    const o = observed();
    const s = supervisor(t, { logger: o.logger, timer: o.timer });
    await s.start('pf9-hello');
    const pid = await running(t);
    process.kill(pid, 'SIGKILL');
    // The exit is logged once the supervisor has decided; a restart would have been scheduled before that line.
    const exited = await waitFor(() => o.events.find((e) => e.event === 'service.exited'), { what: 'the exit to be handled' });
    expect(exited).toMatchObject({ pid, signal: 'SIGKILL', kind: 'signal' });
    expect(exited.restartInMs).toBeUndefined();
    expect(o.scheduled).toEqual([]);
    expect(await active(s)).toBe(false);
    expect(await pidFile(t)).toBeUndefined();
  });

  it('does not restart on a clean exit with Restart=on-failure', async () => {
    const t = await setup(['Restart=on-failure', 'RestartSec=10ms']);
    const o = observed();
    const s = supervisor(t, { logger: o.logger, timer: o.timer });
    await s.start('pf9-hello');
    const pid = await running(t);
    process.kill(pid, 'SIGTERM'); // SIGTERM counts as a clean exit
    const exited = await waitFor(() => o.events.find((e) => e.event === 'service.exited'), { what: 'the exit to be handled' });
    expect(exited).toMatchObject({ pid, signal: 'SIGTERM', kind: 'success' });
    expect(o.scheduled).toEqual([]);
    expect(await active(s)).toBe(false);
  });

  it('stop ends the whole process group (grandchildren too) and removes the pid file; a second stop is a no-op', async () => {
    const t = await setup(['Restart=always']);
    const s = supervisor(t);
    await s.start('pf9-hello');
    const pid = await running(t);
    const grandchild = Number(await readFile(join(t.root, 'var/out/pf9-hello.child'), 'utf8'));
    expect(processExists(grandchild)).toBe(true);
    await s.stop('pf9-hello');
    expect(await isZombieOrGone(pid)).toBe(true);
    expect(await isZombieOrGone(grandchild)).toBe(true);
    expect(await pidFile(t)).toBeUndefined();
    expect(await active(s)).toBe(false);
    await s.stop('pf9-hello');
    expect(await pidsWithMarker(t.marker)).toEqual([]);
  });

  it('sends SIGKILL to a group that ignores SIGTERM after the stop timeout', async () => {
    const t = await setup(['Restart=always'], { trapTerm: true });
    const s = supervisor(t, { stopTimeoutMs: 300 });
    await s.start('pf9-hello');
    const pid = await running(t);
    const grandchild = Number(await readFile(join(t.root, 'var/out/pf9-hello.child'), 'utf8'));
    const started = Date.now();
    await s.stop('pf9-hello');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(await isZombieOrGone(pid)).toBe(true);
    expect(await isZombieOrGone(grandchild)).toBe(true);
  });

  it('a new supervisor (agent restarted) re-adopts the running service instead of starting another, and keeps it running on close', async () => {
    const t = await setup(['Restart=always']);
    const first = supervisor(t);
    await first.start('pf9-hello');
    const pid = await running(t);
    await first.close();
    expect(processExists(pid)).toBe(true); // close never kills services

    const second = supervisor(t);
    await second.init();
    expect(await active(second)).toBe(true);
    await second.start('pf9-hello');
    expect(await pidsWithMarker(t.marker)).toEqual([pid]);
    expect((await pidFile(t))?.pid).toBe(pid);

    // Not its child: the new supervisor sees the death only by looking, and the next start() replaces it.
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => (await active(second)) === false, { what: 'the adopted process to be reported down' });
    await second.start('pf9-hello');
    const replacement = (await pidFile(t))?.pid;
    expect(replacement).not.toBe(pid);
    expect(await pidsWithMarker(t.marker)).toEqual([replacement]);
    await second.stop('pf9-hello');
    expect(await pidsWithMarker(t.marker)).toEqual([]);
  });

  it('treats a pid file naming a reused pid (other start time) or holding garbage as stale, and leaves that process alone', async () => {
    const t = await setup();
    const dir = join(t.stateDir, 'services');
    await mkdir(dir, { recursive: true });
    const self = await readProcStat(process.pid); // a live process that is certainly not the service
    await writeFile(join(dir, 'pf9-hello.pid'), JSON.stringify({ pid: process.pid, startTime: (self?.startTime ?? 0) - 1, argv: [] }));
    await writeFile(join(dir, 'pf9-broken.pid'), '{"pid": "nope"');
    const s = supervisor(t);
    expect(await active(s)).toBe(false);
    await s.init();
    expect(await pidFile(t)).toBeUndefined();
    expect(await pidFile(t, 'pf9-broken')).toBeUndefined();
    await s.start('pf9-hello');
    const pid = await running(t);
    expect(pid).not.toBe(process.pid);
    expect(await active(s)).toBe(true);
  });

  it('backs off a crash loop: RestartSec, then doubling delays', async () => {
    const t = await makeRoot();
    roots.push(t);
    const program = await writeProgram(t, 'crash', `#!/bin/sh\n# $1: marker\necho run >> "$PF9_ROOT/var/out/runs"\nexit 3\n`);
    await writeUnit(t, 'pf9-crash', [`ExecStart=${program} ${t.marker}`, 'Restart=on-failure', 'RestartSec=50ms']);
    const pending: Array<{ fn: () => void; ms: number }> = [];
    const s = supervisor(t, { timer: { setTimeout: (fn, ms) => pending.push({ fn, ms }), clearTimeout: () => undefined } });
    await s.start('pf9-crash');
    for (let n = 1; n <= 4; n++) {
      await waitFor(() => pending.length === n, { what: `restart ${n} to be scheduled` });
      pending[n - 1]!.fn();
    }
    await waitFor(() => pending.length === 5, { what: 'restart 5 to be scheduled' });
    expect(pending.map((p) => p.ms)).toEqual([50, 100, 200, 400, 800]);
    expect((await readFile(join(t.root, 'var/out/runs'), 'utf8')).trim().split('\n')).toHaveLength(5);
    await s.stop('pf9-crash');
    pending[4]!.fn(); // a timer that fires after stop starts nothing
    await s.close();
    expect(await active(s, 'pf9-crash')).toBe(false);
    expect(await pidsWithMarker(t.marker)).toEqual([]);
  });

  it.runIf(process.getuid?.() === 0)('runs as User= with that user\'s ids and HOME', async () => {
    const t = await setup(['User=nobody']);
    const s = supervisor(t);
    await s.start('pf9-hello');
    await running(t);
    expect((await readStatus(t, 'pf9-hello'))?.uid).toBe(65534);
  });

  it('refuses clearly: no unit file, a missing program, Type=forking, a bad name', async () => {
    const t = await setup();
    await writeUnit(t, 'pf9-missing', ['ExecStart=/opt/pf9/missing/bin/missing']);
    await writeUnit(t, 'pf9-forking', ['Type=forking', 'ExecStart=/opt/pf9/hello/bin/hello']);
    const s = supervisor(t);
    await expect(s.start('pf9-nounit')).rejects.toMatchObject({ code: 'SERVICE_FAILED', message: expect.stringContaining('no unit file pf9-nounit.service') as unknown });
    await expect(s.start('pf9-missing')).rejects.toThrow(/ExecStart= program \/opt\/pf9\/missing\/bin\/missing not found under/);
    await expect(s.start('pf9-forking')).rejects.toThrow(/Type=forking is not supported/);
    await expect(s.start('../etc/passwd')).rejects.toThrow(/invalid service name/);
    expect(await pidFile(t, 'pf9-missing')).toBeUndefined();
    expect(await pidsWithMarker(t.marker)).toEqual([]);
  });
});
