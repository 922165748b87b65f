/**
 * The HAProxy master process: where its files live, how it is started so
 * that it outlives the agent, found again by a restarted agent, checked and
 * stopped.
 *
 * It runs in master-worker mode in the foreground (`-W`, not `-D`: daemon
 * mode closes stdout, where the logs go), spawned detached so it leads its
 * own process group and session: the agent exiting (or being killed) does
 * not take it along. A restarted agent finds it through the pid file, checks
 * the pid is still that master (its command line names our master socket:
 * pids are reused) and talks to it over the master socket.
 *
 * The environment is built from scratch: HAProxy is built with USE_SYSTEMD
 * and would answer a NOTIFY_SOCKET inherited from an agent run as a
 * Type=notify unit, telling systemd things about the wrong process.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LbError } from '../../errors.js';
import { terminateGroup } from '../../services/process-group.js';
import { isDead, readProcStat } from '../../services/proc.js';

export interface HaproxyPaths {
  runDir: string;
  config: string;
  /** Rendered and checked here before it replaces `config`. */
  candidate: string;
  masterSocket: string;
  adminSocket: string;
  pidFile: string;
  stateFile: string;
  tlsDir: string;
  logDir: string;
  /** HAProxy's stdout: its log lines. */
  logOut: string;
  /** HAProxy's stderr: its own notices and alerts (startup, reloads, servers going down). */
  logErr: string;
}

export function haproxyPaths(runDir: string): HaproxyPaths {
  const logDir = join(runDir, 'logs');
  return {
    runDir,
    config: join(runDir, 'haproxy.cfg'),
    candidate: join(runDir, 'haproxy.cfg.new'),
    masterSocket: join(runDir, 'master.sock'),
    adminSocket: join(runDir, 'admin.sock'),
    pidFile: join(runDir, 'haproxy.pid'),
    stateFile: join(runDir, 'server-state'),
    tlsDir: join(runDir, 'tls'),
    logDir,
    logOut: join(logDir, 'haproxy.out'),
    logErr: join(logDir, 'haproxy.err'),
  };
}

export const HAPROXY_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

export interface MasterProcess {
  pid: number;
  /** /proc start time: tells this master from a later process given the same pid. */
  startTime: number;
  /** Set when this agent spawned it: resolves with its exit code when it exits. */
  exited?: Promise<number | null>;
}

/** `haproxy -c`: ok, or HAProxy's own alert lines (without its `[ALERT] (pid) : ` prefixes). */
export async function checkConfig(bin: string, file: string, timeoutMs = 30_000): Promise<{ ok: boolean; message: string }> {
  const { execa } = await import('execa');
  const r = await execa(bin, ['-c', '-f', file], {
    reject: false,
    stdin: 'ignore',
    env: HAPROXY_ENV,
    extendEnv: false,
    timeout: timeoutMs,
    all: true,
  });
  if (r.exitCode === 0) return { ok: true, message: '' };
  // No exit code: HAProxy did not run at all (missing binary, timeout); that says nothing about the config.
  if (r.exitCode === undefined) throw new LbError('LB_APPLY_FAILED', `cannot run ${bin} -c: ${r.shortMessage ?? 'unknown error'}`);
  return { ok: false, message: alertLines(r.all ?? '') || r.shortMessage || `haproxy -c exited ${r.exitCode}` };
}

/** The `[ALERT]` lines of HAProxy output, prefixes removed; what a person needs to fix a config. */
export function alertLines(output: string): string {
  return output
    .split('\n')
    .filter((l) => l.startsWith('[ALERT]'))
    .map((l) => l.replace(/^\[ALERT\]\s+\(\d+\)\s*:\s*/, '').replace(/^config\s*:\s*/, ''))
    .filter((l) => !/^(Error\(s\) found in configuration file|Fatal errors found in configuration)/.test(l))
    .join('\n');
}

export async function fileSize(path: string): Promise<number> {
  return stat(path).then((s) => s.size, () => 0);
}

/** What HAProxy wrote to `file` after byte `from`. */
export async function readFrom(path: string, from: number): Promise<string> {
  const text = await readFile(path).catch(() => Buffer.alloc(0));
  return text.subarray(Math.min(from, text.length)).toString('utf8');
}

/** Spawns the master; resolves once it is spawned (readiness is the caller's to wait for). */
export async function spawnMaster(bin: string, paths: HaproxyPaths): Promise<MasterProcess> {
  const out = await open(paths.logOut, 'a', 0o600);
  const err = await open(paths.logErr, 'a', 0o600);
  try {
    const args = ['-W', '-S', `${paths.masterSocket},mode,600`, '-p', paths.pidFile, '-f', paths.config];
    const child = spawn(bin, args, { detached: true, stdio: ['ignore', out.fd, err.fd], env: HAPROXY_ENV, cwd: paths.runDir });
    const exited = new Promise<number | null>((resolve) => {
      child.on('exit', (code) => resolve(code));
      child.on('error', () => resolve(null));
    });
    if (child.pid === undefined) {
      await exited;
      throw new LbError('LB_APPLY_FAILED', `cannot start ${bin}`);
    }
    child.unref();
    const s = await readProcStat(child.pid);
    return { pid: child.pid, startTime: s?.startTime ?? 0, exited };
  } finally {
    await out.close();
    await err.close();
  }
}

/** The master a previous run left, if the pid file still names a live HAProxy master of this run dir. */
export async function findMaster(paths: HaproxyPaths): Promise<MasterProcess | undefined> {
  const pid = Number((await readFile(paths.pidFile, 'utf8').catch(() => '')).trim().split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  return masterIfAlive(paths, pid);
}

async function masterIfAlive(paths: HaproxyPaths, pid: number): Promise<MasterProcess | undefined> {
  const s = await readProcStat(pid);
  if (!s || isDead(s)) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.split('\0').some((a) => a === paths.masterSocket || a.startsWith(`${paths.masterSocket},`))) return undefined;
  return { pid, startTime: s.startTime };
}

export async function isMasterAlive(paths: HaproxyPaths, m: MasterProcess): Promise<boolean> {
  const again = await masterIfAlive(paths, m.pid);
  return again !== undefined && again.startTime === m.startTime;
}

/** SIGTERM to the master's group (master and workers), SIGKILL after `timeoutMs`. */
export async function stopMaster(m: MasterProcess, timeoutMs: number, onKill: () => void): Promise<void> {
  await terminateGroup('haproxy', m.pid, m.startTime, timeoutMs, onKill);
}

/**
 * Throws when a port the new config must bind is taken by another process.
 * Why before reloading: when the new master cannot bind, HAProxy 2.6 pauses
 * the old worker's listeners and retries for about 2 s before giving up, so
 * running load balancers refuse connections meanwhile (measured here: 96 of
 * 99 requests refused during a 2.1 s failed reload). Only ports HAProxy does
 * not hold already can be probed; a port taken between probe and reload
 * still fails the reload, as reload.ts reports.
 */
export async function checkPortsFree(address: string, ports: Iterable<number>): Promise<void> {
  for (const port of ports) {
    const server = net.createServer();
    server.listen({ host: address, port, exclusive: true });
    try {
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new LbError('LB_APPLY_FAILED', `cannot listen on ${address} port ${port}: ${code === 'EADDRINUSE' ? 'in use by another process' : (err as Error).message}`);
    } finally {
      server.close();
    }
  }
}
