/**
 * The app contract (DESIGN.md): a package may ship `/opt/pf9/<app>/config`,
 * an executable that answers `--get-config` (prints JSON), `--set-config
 * '<json>'` and `--get-services` (a JSON list; absent means one service named
 * like the app). Paths resolve under the install root, and the hook gets
 * PF9_ROOT so it can find its own files there. Every call has a timeout; a
 * failure is an AppError carrying the exit status and the stderr tail, which
 * is what the master sees in the app's error.
 */
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, textTail } from '../errors.js';
import { isPlainObject } from '../protocol/bbone/parse-inbound.js';

export interface AppHooks {
  /** The app's current config, or undefined when it ships no hook. */
  getConfig(app: string): Promise<Record<string, unknown> | undefined>;
  /** Applies a config; a no-op (resolved) when the app ships no hook. */
  setConfig(app: string, config: Record<string, unknown>): Promise<void>;
  /** The app's services: the hook's list, else `[app]`. */
  getServices(app: string): Promise<string[]>;
}

export interface HookResult {
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
  timedOut: boolean;
}

export type HookRunner = (file: string, args: string[], opts: { env: Record<string, string>; timeoutMs: number }) => Promise<HookResult>;

/**
 * The hook runs in a process group of its own, and a timeout kills the whole
 * group: killing only the hook (a shell script, say) would leave its
 * children holding stdout open, and the call would last as long as they do.
 */
const runWithExeca: HookRunner = async (file, args, opts) => {
  const { execa } = await import('execa');
  const sub = execa(file, args, { env: opts.env, reject: false, stdin: 'ignore', detached: true, maxBuffer: 4 * 1024 * 1024 });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      if (sub.pid !== undefined) process.kill(-sub.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, opts.timeoutMs);
  try {
    const r = await sub;
    return { stdout: r.stdout, stderr: r.stderr, exitCode: timedOut ? undefined : r.exitCode, timedOut };
  } finally {
    clearTimeout(timer);
  }
};

const SERVICE_NAME = /^[A-Za-z0-9@_.:-]{1,128}$/;


export class ExecAppHooks implements AppHooks {
  constructor(
    private readonly opts: { root: string; timeoutMs: number; run?: HookRunner },
  ) {}

  hookPath(app: string): string {
    return join(this.opts.root, 'opt', 'pf9', app, 'config');
  }

  async getConfig(app: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.call(app, ['--get-config']);
    if (out === undefined) return undefined;
    const parsed = parseJson(app, '--get-config', out);
    if (!isPlainObject(parsed)) throw new AppError('HOOK_FAILED', `${app}: config --get-config printed JSON that is not an object`);
    return parsed;
  }

  async setConfig(app: string, config: Record<string, unknown>): Promise<void> {
    await this.call(app, ['--set-config', JSON.stringify(config)]);
  }

  async getServices(app: string): Promise<string[]> {
    const out = await this.call(app, ['--get-services']);
    if (out === undefined || out.trim() === '') return [app];
    const parsed = parseJson(app, '--get-services', out);
    if (!Array.isArray(parsed) || !parsed.every((s): s is string => typeof s === 'string' && SERVICE_NAME.test(s))) {
      throw new AppError('HOOK_FAILED', `${app}: config --get-services must print a JSON list of service names`);
    }
    return parsed;
  }

  /** stdout of the hook, or undefined when the app has no hook. */
  private async call(app: string, args: string[]): Promise<string | undefined> {
    const file = this.hookPath(app);
    try {
      await access(file, constants.X_OK);
    } catch {
      return undefined;
    }
    const run = this.opts.run ?? runWithExeca;
    const r = await run(file, args, { env: { PF9_ROOT: this.opts.root === '/' ? '' : this.opts.root }, timeoutMs: this.opts.timeoutMs });
    // Never put args in the message: --set-config carries the config, which may hold secrets.
    if (r.timedOut) throw new AppError('HOOK_FAILED', `${app}: config ${args[0]} timed out after ${this.opts.timeoutMs} ms`);
    if (r.exitCode !== 0) {
      throw new AppError('HOOK_FAILED', `${app}: config ${args[0]} exited with ${r.exitCode ?? 'a signal'}: ${textTail(r.stderr, 800) || '(no stderr)'}`);
    }
    return r.stdout;
  }
}

function parseJson(app: string, what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('HOOK_FAILED', `${app}: config ${what} did not print valid JSON`);
  }
}
