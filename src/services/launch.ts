/**
 * From a parsed unit to a running process: environment, credentials,
 * program path and working directory, then a detached spawn.
 *
 * Paths the package installs (the program, WorkingDirectory=,
 * EnvironmentFile=) are looked up under the install root first; when the
 * root holds only the app and not the OS (a test or image-build root), a
 * path it lacks (`/bin/sh`) falls back to the host's. Arguments are passed
 * as written: the app finds its own files through PF9_ROOT.
 *
 * The environment is built from scratch as systemd builds it, never
 * inherited from the agent (whose own may carry broker credentials).
 *
 * User=/Group= need the agent to run as root; otherwise the service runs as
 * the agent's user, with a warning. Supplementary groups are not set (Node's
 * spawn clears them when it switches ids; systemd would call initgroups).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { parseEnvFile } from './env-file.js';
import type { UnitSpec } from './unit-file.js';
import { expandArgv } from './unit-words.js';
import { lookupGroupId, lookupUser } from './user-lookup.js';

/** systemd's PATH for system services (with /sbin and /bin for hosts whose /usr is not merged). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface LaunchPlan {
  file: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  gid?: number;
  warnings: string[];
}

export interface PlanOptions {
  root: string;
  /** Only root can switch users; otherwise User=/Group= are reported and ignored. */
  canSwitchUser: boolean;
}

export async function planLaunch(spec: UnitSpec, opts: PlanOptions): Promise<LaunchPlan> {
  const warnings: string[] = [];
  const env: Record<string, string> = { PATH: DEFAULT_PATH };
  let uid: number | undefined;
  let gid: number | undefined;
  let home: string | undefined;
  const switchUser = (spec.user !== undefined || spec.group !== undefined) && !spec.execStart.keepCredentials;
  if (switchUser && !opts.canSwitchUser) {
    warnings.push(`User=/Group= ignored: the agent does not run as root, the service runs as uid ${process.getuid?.()}`);
  } else if (switchUser) {
    if (spec.user !== undefined) {
      const entry = await lookupUser(spec.user);
      if (entry) {
        ({ uid, gid, home } = entry);
        Object.assign(env, { USER: entry.name, LOGNAME: entry.name, HOME: entry.home, SHELL: entry.shell });
      } else if (/^\d+$/.test(spec.user)) {
        uid = gid = Number(spec.user); // systemd accepts a numeric uid without a passwd entry
      } else {
        throw new AppError('SERVICE_FAILED', `User=${spec.user}: no such user`);
      }
    }
    if (spec.group !== undefined) {
      gid = (await lookupGroupId(spec.group)) ?? (/^\d+$/.test(spec.group) ? Number(spec.group) : undefined);
      if (gid === undefined) throw new AppError('SERVICE_FAILED', `Group=${spec.group}: no such group`);
    }
  }
  Object.assign(env, spec.environment);
  for (const ef of spec.environmentFiles) {
    const file = await underRoot(opts.root, ef.path);
    let text: string;
    try {
      text = await readFile(file ?? join(opts.root, ef.path), 'utf8');
    } catch (err) {
      if (ef.optional) continue;
      throw new AppError('SERVICE_FAILED', `EnvironmentFile=${ef.path}: ${(err as Error).message}`, { cause: err });
    }
    const parsed = parseEnvFile(text);
    warnings.push(...parsed.warnings.map((w) => `EnvironmentFile=${ef.path} ${w}`));
    Object.assign(env, parsed.env);
  }
  env.PF9_ROOT = opts.root;

  const cmd = spec.execStart;
  const argv = cmd.noSubstitution ? [...cmd.argv] : expandArgv(cmd.argv, env);
  const file = await resolveProgram(opts.root, cmd.path);
  const cwd = await workingDirectory(spec, opts.root, home ?? (uid === undefined ? process.env.HOME : undefined));
  return { file, argv, env, cwd, uid, gid, warnings };
}

/** `path` under root if it exists there, else on the host if it exists there, else undefined. */
async function underRoot(root: string, path: string): Promise<string | undefined> {
  for (const candidate of root === '/' ? [path] : [join(root, path), path]) {
    try {
      await stat(candidate);
      return candidate;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

async function resolveProgram(root: string, path: string): Promise<string> {
  const candidates = path.startsWith('/') ? [path] : DEFAULT_PATH.split(':').map((dir) => join(dir, path));
  for (const candidate of candidates) {
    const found = await underRoot(root, candidate);
    if (found) return found;
  }
  const where = root === '/' ? '' : ` under ${root} nor on the host`;
  throw new AppError('SERVICE_FAILED', `ExecStart= program ${path} not found${where}`);
}

async function workingDirectory(spec: UnitSpec, root: string, home: string | undefined): Promise<string> {
  const wd = spec.workingDirectory;
  if (!wd) return root; // systemd's default is "/", here the install root's
  if (wd.path === '~') {
    if (home) return home;
    if (wd.optional) return root;
    throw new AppError('SERVICE_FAILED', 'WorkingDirectory=~ but the user has no home directory');
  }
  const found = await underRoot(root, wd.path);
  if (found) return found;
  if (wd.optional) return root;
  throw new AppError('SERVICE_FAILED', `WorkingDirectory=${wd.path} does not exist`);
}

/**
 * Starts the process in its own session and process group (so stop() can
 * signal all it forked), stdout and stderr appended to `logFile`, not
 * holding the agent's event loop open: the agent may exit or be upgraded
 * while services keep running. Resolves once exec succeeded (Type=exec).
 */
export interface Spawned {
  child: ChildProcess;
  /** Settles when the process exited; captured at spawn, so a process that dies at once is not missed. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnDetached(plan: LaunchPlan, logFile: string): Promise<Spawned> {
  const log = await open(logFile, 'a', 0o640);
  try {
    const child = spawn(plan.file, plan.argv.slice(1), {
      argv0: plan.argv[0] ?? plan.file,
      env: plan.env,
      cwd: plan.cwd,
      uid: plan.uid,
      gid: plan.gid,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    return { child, exited };
  } catch (err) {
    throw new AppError('SERVICE_FAILED', `cannot run ${plan.file}: ${(err as Error).message}`, { cause: err });
  } finally {
    await log.close();
  }
}
