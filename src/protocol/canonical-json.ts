/**
 * Canonical JSON, so that the agent and any master compute the same
 * `desired_hash` for the same desired apps: object keys sorted by code unit,
 * no whitespace, strings and numbers as JSON.stringify writes them. This is
 * the form of RFC 8785 for the values a set_config carries (no floats whose
 * shortest form differs between languages are expected in app configs).
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    // undefined and functions have no JSON form; inside objects they are dropped like JSON.stringify does.
    return text ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** sha256 of the canonical JSON of a desired-apps map (the `data` of a set_config). */
export function desiredHash(apps: unknown): string {
  return sha256Hex(canonicalJson(apps));
}
