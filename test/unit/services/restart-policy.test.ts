import { describe, expect, it } from 'vitest';
import { classifyExit, restartDelayMs, shouldRestart, type ExitKind } from '../../../src/services/restart-policy.js';
import type { RestartPolicy } from '../../../src/services/unit-file.js';
import { parseTimeSpanMs } from '../../../src/services/unit-words.js';
import { parseProcStat } from '../../../src/services/proc.js';

describe('classifyExit', () => {
  it.each([
    [0, null, false, 'success'],
    [1, null, false, 'exit-code'],
    [null, 'SIGTERM', false, 'success'],
    [null, 'SIGHUP', false, 'success'],
    [null, 'SIGPIPE', false, 'success'],
    [null, 'SIGKILL', false, 'signal'],
    [null, 'SIGSEGV', false, 'signal'],
    [3, null, true, 'success'],
    [null, 'SIGKILL', true, 'success'],
  ] as Array<[number | null, string | null, boolean, ExitKind]>)('code %s signal %s ignoreFailure %s -> %s', (code, signal, ignore, kind) => {
    expect(classifyExit(code, signal, ignore)).toBe(kind);
  });
});

describe('shouldRestart', () => {
  // [policy, success, exit-code, signal]
  const table: Array<[RestartPolicy, boolean, boolean, boolean]> = [
    ['no', false, false, false],
    ['always', true, true, true],
    ['on-success', true, false, false],
    ['on-failure', false, true, true],
    ['on-abnormal', false, false, true],
    ['on-abort', false, false, true],
    ['on-watchdog', false, false, false],
  ];
  it.each(table)('Restart=%s', (policy, success, exitCode, signal) => {
    expect([shouldRestart(policy, 'success'), shouldRestart(policy, 'exit-code'), shouldRestart(policy, 'signal')]).toEqual([success, exitCode, signal]);
  });
});

describe('restartDelayMs', () => {
  const opts = { maxDelayMs: 2000, stableAfterMs: 10_000 };
  it('is RestartSec for a first or long-lived exit, then doubles per quick exit up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => restartDelayMs(100, n, opts))).toEqual([100, 100, 200, 400, 800, 1600, 2000, 2000]);
  });
  it('backs off even with RestartSec=0, and never shortens a long RestartSec', () => {
    expect([1, 2, 3].map((n) => restartDelayMs(0, n, opts))).toEqual([0, 200, 400]);
    expect([1, 5].map((n) => restartDelayMs(60_000, n, opts))).toEqual([60_000, 60_000]);
  });
  it('does not overflow after a very long crash loop', () => {
    expect(restartDelayMs(100, 10_000, opts)).toBe(2000);
  });
});

describe('parseTimeSpanMs', () => {
  it.each([
    ['100ms', 100],
    ['5', 5000],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2min', 120_000],
    ['1min 30s', 90_000],
    ['1h2m', 3_720_000],
    ['500us', 1],
    ['infinity', Number.POSITIVE_INFINITY],
    ['', undefined],
    ['soon', undefined],
    ['5 parsecs', undefined],
    ['-1s', undefined],
  ])('%j -> %s', (text, ms) => {
    expect(parseTimeSpanMs(text)).toBe(ms);
  });
});

describe('parseProcStat', () => {
  it('counts fields from the last ")" so a command name with spaces and parentheses does not shift them', () => {
    const tail = ['S', '1', '4242', '4242', '0', '-1', '4194560', '0', '0', '0', '0', '0', '0', '0', '0', '20', '0', '1', '0', '987654', '1000'];
    expect(parseProcStat(`4242 (my (odd) name) ${tail.join(' ')}`)).toEqual({ pid: 4242, state: 'S', pgrp: 4242, startTime: 987654 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });
});
