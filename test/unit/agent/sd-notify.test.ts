import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SystemdNotifier, type RunProgram } from '../../../src/agent/sd-notify.js';
import { createLogger } from '../../../src/logger.js';

const log = createLogger({ level: 'silent' });

describe('SystemdNotifier', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('is absent when not run by systemd (no NOTIFY_SOCKET)', () => {
    expect(SystemdNotifier.fromEnv({}, log)).toBeUndefined();
  });

  it('sends READY with a status through systemd-notify, then WATCHDOG=1 at half the interval', async () => {
    const calls: Array<{ file: string; args: string[]; env: Record<string, string> }> = [];
    const run: RunProgram = (file, args, env) => {
      calls.push({ file, args, env });
      return Promise.resolve();
    };
    const n = SystemdNotifier.fromEnv({ NOTIFY_SOCKET: '/run/sd.sock', WATCHDOG_USEC: '20000000' }, log, run);
    await n?.ready('started');
    expect(calls).toEqual([{ file: 'systemd-notify', args: ['READY=1', 'STATUS=started'], env: { NOTIFY_SOCKET: '/run/sd.sock' } }]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls.slice(1).map((c) => c.args)).toEqual([['WATCHDOG=1'], ['WATCHDOG=1'], ['WATCHDOG=1']]);
    await n?.stopping();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls.at(-1)?.args).toEqual(['STOPPING=1']);
    expect(calls).toHaveLength(5);
  });

  it('does not ping a watchdog meant for another process, and survives a failing systemd-notify', async () => {
    let count = 0;
    const run: RunProgram = () => {
      count++;
      return Promise.reject(new Error('No such file or directory'));
    };
    const n = SystemdNotifier.fromEnv({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '1' }, log, run);
    await expect(n?.ready('up')).resolves.toBeUndefined();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(count).toBe(1);
  });
});
