import { describe, expect, it } from 'vitest';
import { backoffDelay, type BackoffPolicy } from '../../../src/bus/backoff.js';

const policy: BackoffPolicy = { baseMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };

describe('backoffDelay', () => {
  it('doubles from the base and stops at the cap (no jitter drawn)', () => {
    const schedule = [1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, policy, () => 0));
    expect(schedule).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('jitter only shortens, by at most the jitter fraction', () => {
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(3200);
    expect(backoffDelay(10, policy, () => 0.5)).toBe(27_000);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(20, policy, Math.random);
      expect(d).toBeLessThanOrEqual(30_000);
      expect(d).toBeGreaterThanOrEqual(24_000);
    }
  });

  it('treats attempt 0 or fractions as the first retry and survives huge attempt counts', () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(1000);
    expect(backoffDelay(1.7, policy, () => 0)).toBe(1000);
    expect(backoffDelay(1e9, policy, () => 0)).toBe(30_000);
  });
});
