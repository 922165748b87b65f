/**
 * A temporary install root holding apps as a package would lay them out (a
 * unit file and a program under /opt/pf9/<app>), and the bookkeeping to find
 * and kill every process a test started. Each root has a random marker that
 * its programs carry on their command line, so /proc tells exactly which
 * processes are ours, whatever else runs on the machine.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../helpers/wait.js';

export interface TestRoot {
  base: string;
  root: string;
  stateDir: string;
  marker: string;
}

export async function makeRoot(): Promise<TestRoot> {
  const base = await mkdtemp(join(tmpdir(), 'pf9-svc-'));
  const root = join(base, 'root');
  const stateDir = join(base, 'state');
  await mkdir(join(root, 'var/out'), { recursive: true });
  // Readable by a service running as another user (User= test).
  await chmod(base, 0o755);
  await chmod(root, 0o755);
  await chmod(join(root, 'var/out'), 0o777);
  return { base, root, stateDir, marker: `pf9mark${randomBytes(6).toString('hex')}` };
}

export async function writeUnit(t: TestRoot, name: string, serviceLines: string[], dir = 'usr/lib/systemd/system'): Promise<void> {
  await mkdir(join(t.root, dir), { recursive: true });
  const text = ['[Unit]', `Description=${name}`, '', '[Service]', ...serviceLines, '', '[Install]', 'WantedBy=multi-user.target', ''].join('\n');
  await writeFile(join(t.root, dir, `${name}.service`), text);
}

/** Installs `/opt/pf9/<app>/bin/<app>` under the root; returns its path as the unit names it. */
export async function writeProgram(t: TestRoot, app: string, script: string): Promise<string> {
  const rel = `/opt/pf9/${app}/bin/${app}`;
  await mkdir(join(t.root, `opt/pf9/${app}/bin`), { recursive: true });
  await chmod(join(t.root, 'opt/pf9'), 0o755);
  await writeFile(join(t.root, rel), script, { mode: 0o755 });
  return rel;
}

/**
 * A service that keeps running: forks a long sleep (a grandchild, to check
 * that the whole group is stopped), then writes a status line every 50 ms.
 * `trapTerm` makes it (and, inherited, the grandchild) ignore SIGTERM.
 */
export function loopScript(opts: { trapTerm?: boolean } = {}): string {
  return [
    '#!/bin/sh',
    '# $1 is the test marker; it only makes this process findable in /proc.',
    opts.trapTerm ? "trap '' TERM" : '',
    'out="$PF9_ROOT/var/out/$NAME"',
    'sleep 86400 &',
    'echo $! > "$out.child"',
    'n=0',
    'while :; do',
    '  n=$((n+1))',
    '  printf \'%s|%s|%s|%s|%s|%s|%s|%s\\n\' "$$" "$PF9_ROOT" "$GREETING" "$FROM_FILE" "$n" "$(pwd)" "$(id -u)" "$*" > "$out.tmp"',
    '  mv "$out.tmp" "$out"',
    '  echo "tick $n"',
    '  sleep 0.05',
    'done',
    '',
  ].join('\n');
}

export interface Status {
  pid: number;
  pf9Root: string;
  greeting: string;
  fromFile: string;
  count: number;
  cwd: string;
  uid: number;
  args: string;
}

export async function readStatus(t: TestRoot, name: string): Promise<Status | undefined> {
  let text: string;
  try {
    text = await readFile(join(t.root, 'var/out', name), 'utf8');
  } catch {
    return undefined;
  }
  const [pid, pf9Root, greeting, fromFile, count, cwd, uid, args] = text.trim().split('|');
  return { pid: Number(pid), pf9Root: pf9Root!, greeting: greeting!, fromFile: fromFile!, count: Number(count), cwd: cwd!, uid: Number(uid), args: args! };
}

/** Live (non-zombie) processes whose command line has `marker` as one of its words. */
export async function pidsWithMarker(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (!cmdline.includes(marker)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function isZombieOrGone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/**
 * Kills every process group led by a marked process, plus `extraGroups`
 * (groups whose leader already died), waits until none of them is left,
 * then removes the directory. A process group id cannot be reused while the
 * group has members, so killing a group whose leader is gone is safe.
 */
export async function destroyRoot(t: TestRoot, extraGroups: Iterable<number> = []): Promise<void> {
  const groups = new Set([...(await pidsWithMarker(t.marker)), ...extraGroups]);
  for (const pgid of groups) {
    if (processExists(pgid) && !(await pidsWithMarker(t.marker)).includes(pgid)) continue; // reused pid: not ours
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await waitFor(async () => (await pidsWithMarker(t.marker)).length === 0, { what: `processes marked ${t.marker} to exit`, timeoutMs: 5000 });
  await rm(t.base, { recursive: true, force: true });
}
