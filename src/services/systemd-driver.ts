/**
 * Services through systemd, on hosts where it is PID 1 and the install root
 * is `/`. Every call is one `systemctl` run with an argument array; the state
 * of all services is one `systemctl is-active a b c`, which prints one line
 * per unit in order (and exits 3 when any is inactive, so the output is read
 * whatever the exit code).
 *
 * Packages installed by the agent run no maintainer scripts, so nothing ran
 * `systemctl daemon-reload` after a unit file changed: before a start the
 * driver asks systemd (NeedDaemonReload) and reloads when needed. A unit
 * never loaded before needs no reload; systemd reads it on first start.
 */
import { AppError, textTail } from '../errors.js';
import type { Logger } from '../logger.js';
import { assertServiceName } from './service-name.js';
import type { ServiceManager } from './types.js';

export interface CommandResult {
  stdout: string;
  stderr?: string;
  exitCode: number;
}

export type RunCommand = (file: string, args: readonly string[]) => Promise<CommandResult>;

export interface SystemdDriverOptions {
  logger: Logger;
  /** Runs a program; default execa (loaded on first use), never a shell. */
  run?: RunCommand;
  /** Per systemctl call, ms; default 120 s (a start waits for the unit's own start timeout). */
  timeoutMs?: number;
}

/** systemctl's exit status for "unit not loaded / not installed" (LSB 5). */
const EXIT_NOT_INSTALLED = 5;
/** is-active states that mean "running"; `reloading` and `refreshing` are an active unit doing a reload. */
const ACTIVE = new Set(['active', 'reloading', 'refreshing']);

function execaRunner(timeoutMs: number): RunCommand {
  return async (file, args) => {
    const { execa } = await import('execa');
    const r = await execa(file, [...args], { reject: false, timeout: timeoutMs, stdin: 'ignore' });
    const exitCode = typeof r.exitCode === 'number' ? r.exitCode : -1;
    return { stdout: r.stdout, stderr: r.timedOut ? `timed out after ${timeoutMs} ms` : r.stderr || r.message, exitCode };
  };
}

/** `name` as a unit name: `.service` appended unless present. */
export function unitName(service: string): string {
  assertServiceName(service);
  return service.endsWith('.service') ? service : `${service}.service`;
}

export class SystemdDriver implements ServiceManager {
  readonly kind = 'systemd' as const;
  private readonly run: RunCommand;
  private readonly log: Logger;

  constructor(opts: SystemdDriverOptions) {
    this.log = opts.logger;
    this.run = opts.run ?? execaRunner(opts.timeoutMs ?? 120_000);
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  async start(service: string): Promise<void> {
    const unit = unitName(service);
    await this.reloadIfNeeded(unit);
    await this.systemctl(['start', '--no-ask-password', unit], `start ${unit}`);
  }

  async stop(service: string): Promise<void> {
    const unit = unitName(service);
    // Stopping a unit systemd does not know (package already gone) is already done.
    await this.systemctl(['stop', '--no-ask-password', unit], `stop ${unit}`, [EXIT_NOT_INSTALLED]);
  }

  async restart(service: string): Promise<void> {
    const unit = unitName(service);
    await this.reloadIfNeeded(unit);
    await this.systemctl(['restart', '--no-ask-password', unit], `restart ${unit}`);
  }

  async activeStates(services: readonly string[]): Promise<Map<string, boolean>> {
    const states = new Map<string, boolean>();
    if (services.length === 0) return states;
    const units = services.map(unitName);
    const r = await this.run('systemctl', ['is-active', ...units]);
    const lines = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length !== units.length) {
      throw new AppError('SERVICE_FAILED', `systemctl is-active: expected ${units.length} lines, got ${lines.length} (exit ${r.exitCode}): ${tail(r.stderr ?? r.stdout)}`);
    }
    services.forEach((name, i) => states.set(name, ACTIVE.has(lines[i]!)));
    return states;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async reloadIfNeeded(unit: string): Promise<void> {
    // `-p X` without `--value`: systemd before 230 (CentOS 7) lacks --value; the output is `X=yes|no`.
    const r = await this.run('systemctl', ['show', '-p', 'NeedDaemonReload', unit]);
    if (r.exitCode === 0 && /^NeedDaemonReload=yes$/m.test(r.stdout)) {
      this.log.info({ event: 'systemd.daemon_reload', unit }, 'unit file changed on disk, reloading systemd');
      await this.systemctl(['daemon-reload', '--no-ask-password'], 'daemon-reload');
    }
  }

  private async systemctl(args: string[], what: string, alsoOk: number[] = []): Promise<void> {
    const r = await this.run('systemctl', args);
    if (r.exitCode === 0 || alsoOk.includes(r.exitCode)) return;
    const unit = args.at(-1) ?? '';
    throw new AppError('SERVICE_FAILED', `systemctl ${what} failed (exit ${r.exitCode}): ${tail(r.stderr ?? '')}; see journalctl -u ${unit}`);
  }
}

const tail = (text: string): string => textTail(text, 500);
