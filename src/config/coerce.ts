/**
 * Every source (INI file, env, --set) hands us strings. We turn them into the
 * schema's type here instead of letting convict do it, because convict's own
 * coercion is lenient in ways that hide mistakes: parseInt('10s') is 10, and
 * any boolean other than "false" is true.
 */
import type { KeySchema } from './schema.js';

export type ValueKind = 'string' | 'number' | 'boolean' | 'list';

export type Coerced = { ok: true; value: unknown } | { ok: false; reason: string };

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

// Decimal only: Number() would also take '0x1f', ' ' and '' (both as 0).
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function parseBoolean(raw: string): boolean | undefined {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

export function parseNumber(raw: string): number | undefined {
  const text = raw.trim();
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Comma-separated; blanks around items and empty items are dropped, so '' is an empty list. */
export function parseList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function kindOf(defaultValue: unknown): ValueKind {
  if (Array.isArray(defaultValue)) return 'list';
  if (typeof defaultValue === 'boolean') return 'boolean';
  if (typeof defaultValue === 'number') return 'number';
  return 'string';
}

export function coerceValue(kind: ValueKind, raw: string): Coerced {
  switch (kind) {
    case 'boolean': {
      const value = parseBoolean(raw);
      return value === undefined
        ? { ok: false, reason: 'is not a boolean (true/false, yes/no, on/off, 1/0)' }
        : { ok: true, value };
    }
    case 'number': {
      const value = parseNumber(raw);
      return value === undefined ? { ok: false, reason: 'is not a number' } : { ok: true, value };
    }
    case 'list':
      return { ok: true, value: parseList(raw) };
    case 'string':
      return { ok: true, value: raw };
  }
}

/** Coerces one raw value for a key; `invert` serves aliases such as [ssl] disable. */
export function coerceForKey(schema: KeySchema<unknown>, raw: string, invert = false): Coerced {
  const text = schema.normalize ? schema.normalize(raw) : raw;
  const result = coerceValue(kindOf(schema.default), text);
  if (result.ok && invert) return { ok: true, value: !result.value };
  return result;
}
