/**
 * An in-memory LbEngine for the worker's tests: records what it was asked
 * to run, fails when told to, and answers readouts from fields the test
 * sets. The real engines are tested against HAProxy (and sozu's simulator).
 */
import { LbError } from '../../../src/errors.js';
import type { LbEngine } from '../../../src/lb/engine.js';
import type { LbCounters, LbNodeStats, LbState } from '../../../src/lb/model.js';

export class FakeEngine implements LbEngine {
  readonly kind: 'haproxy' | 'sozu';
  /** What the proxy runs now (undefined: never started or destroyed). */
  running: LbState | undefined;
  /** Every call in order, e.g. "apply", "destroy", "stats". */
  readonly calls: string[] = [];
  readonly applied: LbState[] = [];
  /** The next apply throws this (once). */
  failApply: Error | undefined;
  failDestroy: Error | undefined;
  /** Awaited inside apply before it takes effect: lets a test hold an apply open. */
  applyGate: (() => Promise<void>) | undefined;
  statsResult: Array<{ id: string; nodes: LbNodeStats[] }> = [];
  countersResult: LbCounters[] = [];
  healthResult: { running: boolean; configValid: boolean } | Error = { running: true, configValid: true };
  logsByLb = new Map<string, string>();

  constructor(kind: 'haproxy' | 'sozu' = 'haproxy') {
    this.kind = kind;
  }

  async apply(state: LbState): Promise<void> {
    this.calls.push('apply');
    if (this.applyGate) await this.applyGate();
    const failure = this.failApply;
    if (failure) {
      this.failApply = undefined;
      throw failure;
    }
    this.applied.push(structuredClone(state));
    this.running = structuredClone(state);
  }

  destroy(): Promise<void> {
    this.calls.push('destroy');
    if (this.failDestroy) return Promise.reject(this.failDestroy);
    this.running = undefined;
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.calls.push('stop');
    return Promise.resolve();
  }

  stats(): Promise<Array<{ id: string; nodes: LbNodeStats[] }>> {
    this.calls.push('stats');
    return Promise.resolve(structuredClone(this.statsResult));
  }

  counters(): Promise<LbCounters[]> {
    this.calls.push('counters');
    return Promise.resolve(structuredClone(this.countersResult));
  }

  health(): Promise<{ running: boolean; configValid: boolean }> {
    this.calls.push('health');
    return this.healthResult instanceof Error ? Promise.reject(this.healthResult) : Promise.resolve(this.healthResult);
  }

  logs(lbId: string): Promise<string> {
    this.calls.push('logs');
    const text = this.logsByLb.get(lbId);
    return text === undefined ? Promise.reject(new LbError('LB_APPLY_FAILED', `no logs for ${lbId}`)) : Promise.resolve(text);
  }

  close(): Promise<void> {
    this.calls.push('close');
    return Promise.resolve();
  }
}
