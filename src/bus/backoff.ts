/**
 * Reconnect delays. A fleet of thousands of agents that lost the same broker
 * must not come back in one wave, so every delay is exponential from a base,
 * capped, and then shrunk by a random fraction (up to `jitter`). Shrinking
 * rather than stretching keeps the cap a real upper bound, which operators can
 * reason about ("a host is back at most N s after the broker").
 */
export interface BackoffPolicy {
  /** Delay before the first retry, ms. */
  baseMs: number;
  /** No delay is ever longer than this, ms. */
  maxMs: number;
  /** Growth per attempt; 2 doubles. */
  factor: number;
  /** 0..1: the delay is reduced by up to this fraction at random. */
  jitter: number;
}

/** Delay before retry number `attempt` (1 = first retry). `random` returns [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  // Cap the exponent before multiplying so a long outage cannot overflow to Infinity.
  const growth = Math.pow(policy.factor, Math.min(n - 1, 64));
  const raw = Math.min(policy.maxMs, policy.baseMs * growth);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(raw * (1 - jitter * random()));
}
