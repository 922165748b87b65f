/**
 * Small checks shared by the Libra request parser and the LB state file
 * parser. Each one takes the field's path (`loadBalancers[0].nodes[1].weight`)
 * so every error says which field is wrong, what was expected and what came,
 * in one form: `<path>: <expected>, got <value>`.
 *
 * Libra's API server sends numbers sometimes as strings ("80"), so integers
 * accept both; enumerations accept any case, as Libra's worker upper-cased
 * them before comparing.
 */
import { isIP } from 'node:net';
import { LbError } from '../../errors.js';
import { isPlainObject } from '../json-value.js';

export { isPlainObject };

/**
 * Ids end up in proxy config names (HAProxy `backend`/`server` names, sozu
 * cluster ids) and in object-store paths: a newline or space there would let a
 * request inject config, so only name-safe characters pass.
 */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

export function invalid(at: string, problem: string): LbError {
  return new LbError('LB_REQUEST_INVALID', `${at}: ${problem}`);
}

/** How a received value is shown in an error: short, never a whole certificate. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}


export function requireObject(value: unknown, at: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalid(at, `must be an object, got ${show(value)}`);
  return value;
}

/** An integer in min..max, given as a number or as a string of digits ("80"). */
export function integer(value: unknown, at: string, min: number, max: number): number {
  let n: number | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) n = value;
  else if (typeof value === 'string' && /^\s*[+-]?\d{1,15}\s*$/.test(value)) n = Number(value);
  if (n === undefined || n < min || n > max) throw invalid(at, `must be an integer ${min}..${max}, got ${show(value)}`);
  return n;
}

export function optionalInteger(value: unknown, at: string, min: number, max: number, dflt: number): number {
  return value === undefined || value === null ? dflt : integer(value, at, min, max);
}

/** One of `choices`, any case; returns the canonical spelling. */
export function oneOf<T extends string>(value: unknown, at: string, choices: readonly T[], what: string): T {
  const upper = typeof value === 'string' ? value.trim().toUpperCase() : undefined;
  const found = choices.find((c) => c === upper);
  if (found === undefined) {
    throw invalid(at, `unknown ${what} ${show(value)}; expected ${choices.join(' or ')}`);
  }
  return found;
}

/** true/false as booleans or strings in any case (Libra compared `backup.lower() == 'true'`). */
export function boolean(value: unknown, at: string, dflt: boolean): boolean {
  if (value === undefined || value === null) return dflt;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  throw invalid(at, `must be true or false, got ${show(value)}`);
}

/** An id: a string or a number (stringified), name-safe. */
export function id(value: unknown, at: string): string {
  if (value === undefined || value === null || value === '') throw invalid(at, 'missing');
  const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !ID.test(text)) {
    throw invalid(at, `must be 1-64 letters, digits, '.', '_', ':' or '-' (a string or an integer), got ${show(value)}`);
  }
  return text;
}

/** Free text (names): no control characters, bounded length. */
export function text(value: unknown, at: string, maxLength = 128): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength || CONTROL.test(value)) {
    throw invalid(at, `must be a non-empty string of at most ${maxLength} characters without control characters, got ${show(value)}`);
  }
  return value;
}

export function isHostName(value: string): boolean {
  // All-numeric dotted names are IPs gone wrong ("999.1.1.1"), not host names.
  return HOST_NAME.test(value) && !/^[\d.]+$/.test(value);
}

/** A node address: an IPv4/IPv6 address or a DNS host name. */
export function address(value: unknown, at: string): string {
  const v = typeof value === 'string' ? value.trim() : undefined;
  if (v === undefined || v === '') throw invalid(at, `must be an IP address or host name, got ${show(value)}`);
  if (isIP(v) === 0 && !isHostName(v)) throw invalid(at, `must be an IP address or host name, got ${show(value)}`);
  return v;
}

export function hostName(value: unknown, at: string): string {
  if (typeof value !== 'string' || !isHostName(value.trim())) throw invalid(at, `must be a host name, got ${show(value)}`);
  return value.trim();
}

/** A URL path: starts with '/', no spaces or control characters (it goes into a config line). */
export function urlPath(value: unknown, at: string): string {
  if (typeof value !== 'string' || !/^\/[!-~]*$/.test(value) || value.length > 1024) {
    throw invalid(at, `must be a path starting with "/" without spaces, got ${show(value)}`);
  }
  return value;
}

/** PEM text (certificates, keys): what is inside is the proxy's to check; here only its form. */
export function pem(value: unknown, at: string): string {
  if (typeof value !== 'string' || !value.includes('-----BEGIN ')) {
    // Never echo the value: it may be a private key.
    throw invalid(at, 'must be PEM text ("-----BEGIN ...")');
  }
  return value;
}
