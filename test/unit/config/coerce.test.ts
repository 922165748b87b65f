import { describe, expect, it } from 'vitest';
import { coerceForKey, coerceValue, parseBoolean, parseList, parseNumber } from '../../../src/config/coerce.js';
import { keySchema, normalizeLogLevel } from '../../../src/config/schema.js';

describe('booleans', () => {
  it.each(['True', 'true', 'TRUE', 'yes', 'Yes', 'on', 'ON', '1', ' true '])('%j is true', (raw) => {
    expect(parseBoolean(raw)).toBe(true);
  });

  it.each(['False', 'false', 'no', 'NO', 'off', 'Off', '0'])('%j is false', (raw) => {
    expect(parseBoolean(raw)).toBe(false);
  });

  it.each(['', 'maybe', 'truee', '2', 'y', 'n'])('%j is not a boolean', (raw) => {
    expect(parseBoolean(raw)).toBeUndefined();
    expect(coerceValue('boolean', raw)).toEqual({
      ok: false,
      reason: 'is not a boolean (true/false, yes/no, on/off, 1/0)',
    });
  });
});

describe('numbers', () => {
  it.each([
    ['10', 10],
    [' 7 ', 7],
    ['0.05', 0.05],
    ['.5', 0.5],
    ['-3', -3],
    ['1e3', 1000],
    ['0', 0],
  ])('%j is %d', (raw, value) => {
    expect(parseNumber(raw)).toBe(value);
  });

  it.each(['', ' ', 'abc', '10s', '0x10', 'Infinity', 'NaN', '1,5', '1e999'])('%j is not a number', (raw) => {
    expect(parseNumber(raw)).toBeUndefined();
    expect(coerceValue('number', raw)).toEqual({ ok: false, reason: 'is not a number' });
  });
});

describe('lists', () => {
  it('splits on commas, trims, drops empty items', () => {
    expect(parseList('a, b ,c,,')).toEqual(['a', 'b', 'c']);
    expect(parseList('')).toEqual([]);
    expect(coerceValue('list', 'x,y')).toEqual({ ok: true, value: ['x', 'y'] });
  });
});

describe('coerceForKey', () => {
  it('uses the schema type of the key', () => {
    expect(coerceForKey(keySchema('amqp.prefetch'), '32')).toEqual({ ok: true, value: 32 });
    expect(coerceForKey(keySchema('amqp.durable'), 'yes')).toEqual({ ok: true, value: true });
    expect(coerceForKey(keySchema('amqp.exchange'), ' spaced ')).toEqual({ ok: true, value: ' spaced ' });
  });

  it('inverts for aliases such as [ssl] disable', () => {
    expect(coerceForKey(keySchema('amqp.tls.enabled'), 'True', true)).toEqual({ ok: true, value: false });
    expect(coerceForKey(keySchema('amqp.tls.enabled'), 'no', true)).toEqual({ ok: true, value: true });
  });

  it('normalizes log level names, Python ones included, any case', () => {
    const level = keySchema('log.level');
    expect(coerceForKey(level, 'INFO')).toEqual({ ok: true, value: 'info' });
    expect(coerceForKey(level, 'Warning')).toEqual({ ok: true, value: 'warn' });
    expect(coerceForKey(level, 'WARN')).toEqual({ ok: true, value: 'warn' });
    expect(coerceForKey(level, 'CRITICAL')).toEqual({ ok: true, value: 'fatal' });
    expect(coerceForKey(level, 'debug')).toEqual({ ok: true, value: 'debug' });
    expect(normalizeLogLevel('ERROR')).toBe('error');
  });
});
