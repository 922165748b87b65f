/**
 * systemd readiness and watchdog. Node has no unix datagram sockets, so the
 * messages go through the `systemd-notify` program; the unit sets
 * `NotifyAccess=all` because the sender is our child, not the main PID.
 * systemd-notify (>= 246) waits for systemd to process the message
 * (BARRIER=1) before exiting, which avoids the old race where systemd could
 * no longer attribute a message from an already-exited child to our unit.
 */
import type { Logger } from '../logger.js';

export type RunProgram = (file: string, args: string[], env: Record<string, string>) => Promise<void>;

const runWithExeca: RunProgram = async (file, args, env) => {
  // execa costs ~10 MB of memory once loaded; only hosts under systemd pay for it.
  const { execa } = await import('execa');
  await execa(file, args, { env, timeout: 10_000 });
};

export class SystemdNotifier {
  private watchdogTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly socket: string,
    private readonly watchdogUsec: number,
    private readonly log: Logger,
    private readonly run: RunProgram,
  ) {}

  /** A notifier when NOTIFY_SOCKET is set (we run under systemd Type=notify), else undefined. */
  static fromEnv(env: NodeJS.ProcessEnv, log: Logger, run: RunProgram = runWithExeca): SystemdNotifier | undefined {
    const socket = env.NOTIFY_SOCKET;
    if (!socket) return undefined;
    const watchdogPid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : process.pid;
    const usec = watchdogPid === process.pid ? Number(env.WATCHDOG_USEC ?? 0) : 0;
    return new SystemdNotifier(socket, Number.isFinite(usec) ? usec : 0, log, run);
  }

  async notify(...assignments: string[]): Promise<void> {
    try {
      await this.run('systemd-notify', assignments, { NOTIFY_SOCKET: this.socket });
    } catch (err) {
      // A lost notification must not take the agent down; systemd's own timeouts will say what happened.
      this.log.warn({ event: 'systemd.notify_failed', message: assignments.join(' '), err: (err as Error).message }, 'systemd-notify failed');
    }
  }

  async ready(status: string): Promise<void> {
    await this.notify('READY=1', `STATUS=${status}`);
    this.startWatchdog();
  }

  async status(text: string): Promise<void> {
    await this.notify(`STATUS=${text}`);
  }

  async stopping(): Promise<void> {
    this.stopWatchdog();
    await this.notify('STOPPING=1');
  }

  /** Pings at half the watchdog interval, as sd_watchdog_enabled(3) recommends. */
  private startWatchdog(): void {
    if (this.watchdogUsec <= 0 || this.watchdogTimer) return;
    const everyMs = Math.max(1000, Math.floor(this.watchdogUsec / 2000));
    this.watchdogTimer = setInterval(() => void this.notify('WATCHDOG=1'), everyMs);
    this.watchdogTimer.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
  }
}
