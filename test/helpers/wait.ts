/**
 * Polling and deadlines for integration tests against real components,
 * where there is no clock to fake: a broker closes a connection when it
 * does, so tests wait for the effect with a bound and a message that says
 * what did not happen.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  /** Default 5000. */
  timeoutMs?: number;
  /** Default 25. */
  intervalMs?: number;
  /** What is awaited, for the timeout message: "the connection to close". */
  what: string;
}

/**
 * Calls `fn` until it returns something other than `undefined` or `false`
 * and resolves with that. A throw from `fn` counts as "not yet" (so
 * `expect(...)` may be used inside); the last one becomes the `cause` of
 * the timeout error.
 */
export async function waitFor<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  opts: WaitForOptions,
): Promise<T> {
  const { timeoutMs = 5000, intervalMs = 25, what } = opts;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`, { cause: lastError });
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** Settles as `promise` does, or rejects naming `what` after `ms`. The timer never outlives the race. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
