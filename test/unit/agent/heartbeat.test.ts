import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from '../../../src/agent/heartbeat.js';
import { realTimer } from '../../../src/agent/ports.js';

describe('Heartbeat', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('beats every period, stretched or shrunk by at most the jitter', async () => {
    const beats: number[] = [];
    const draws = [0, 1, 0.5];
    let i = 0;
    const hb = new Heartbeat({
      periodMs: 60_000,
      timer: realTimer,
      random: () => draws[i++ % draws.length] ?? 0.5,
      beat: () => {
        beats.push(Date.now());
        return Promise.resolve();
      },
      onError: () => undefined,
    });
    const start = Date.now();
    hb.start();
    await vi.advanceTimersByTimeAsync(57_000 + 63_000 + 60_000);
    expect(beats.map((t) => t - start)).toEqual([57_000, 120_000, 180_000]);
    hb.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(beats).toHaveLength(3);
  });

  it('keeps beating after a failed beat and reports the failure', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const hb = new Heartbeat({
      periodMs: 1000,
      jitter: 0,
      timer: realTimer,
      beat: () => (++n === 1 ? Promise.reject(new Error('broker gone')) : Promise.resolve()),
      onError: (e) => errors.push(e),
    });
    hb.start();
    await vi.advanceTimersByTimeAsync(3000);
    hb.stop();
    expect(n).toBe(3);
    expect(errors).toHaveLength(1);
  });

  it('never overlaps a slow beat with the next', async () => {
    let active = 0;
    let maxActive = 0;
    const hb = new Heartbeat({
      periodMs: 100,
      jitter: 0,
      timer: realTimer,
      beat: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 250));
        active--;
      },
      onError: () => undefined,
    });
    hb.start();
    await vi.advanceTimersByTimeAsync(2000);
    hb.stop();
    expect(maxActive).toBe(1);
  });
});
