/**
 * Libra worker replies: the request exactly as sent (original key spelling
 * and values, extra fields included) plus `hpcs_response` PASS|FAIL,
 * `hpcs_error` on FAIL, and what the action adds. As Libra's worker did
 * before logging and answering, secrets (the object-store token, TLS
 * private keys) are replaced by `*****`: a reply travels through the broker
 * and may be logged by the master, so it must not carry them.
 */
import { isPlainObject } from './fields.js';

export const MASK = '*****';

/**
 * Field names whose values are secrets, matched in any case at any depth.
 * `key` alone is the TLS private key (`tls.key`); nothing else in the
 * protocol is called that.
 */
const SECRET_FIELD = /token|password|passwd|secret|private_?key|^key$/i;

export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

/** A deep copy of `value` with the values of secret fields masked (empty ones left as they are). */
export function maskSecrets<T>(value: T): T {
  return maskNode(value) as T;
}

function maskNode(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(maskNode);
  if (!isPlainObject(node)) return node;
  // Object.fromEntries, not assignment: a `__proto__` key from JSON stays an ordinary key.
  return Object.fromEntries(
    Object.entries(node).map(([key, child]) => [
      key,
      isSecretField(key) && child !== null && child !== undefined && child !== '' ? MASK : maskNode(child),
    ]),
  );
}

export type ReplyOutcome =
  | { response: 'PASS'; fields?: Record<string, unknown> }
  | { response: 'FAIL'; error: string; code?: string; fields?: Record<string, unknown> };

/**
 * request + action fields + hpcs_response (+ hpcs_error, hpcs_error_code on
 * FAIL), masked. A request field whose name equals an added one in any case
 * (say `loadBalancers` in a STATS request, answered with `loadbalancers`) is
 * dropped: names are case-insensitive, so a reader could not tell which of
 * the two to believe. Libra's worker likewise overwrote such fields.
 */
export function buildReply(request: Record<string, unknown>, outcome: ReplyOutcome): Record<string, unknown> {
  const added: Record<string, unknown> = { ...outcome.fields, hpcs_response: outcome.response };
  if (outcome.response === 'FAIL') {
    added.hpcs_error = outcome.error;
    if (outcome.code !== undefined) added.hpcs_error_code = outcome.code;
  }
  const addedNames = new Set(Object.keys(added).map((k) => k.toLowerCase()));
  const kept = Object.entries(request).filter(([key]) => !addedNames.has(key.toLowerCase()));
  return maskSecrets(Object.fromEntries([...kept, ...Object.entries(added)]));
}

export function passReply(request: Record<string, unknown>, fields?: Record<string, unknown>): Record<string, unknown> {
  return buildReply(request, fields === undefined ? { response: 'PASS' } : { response: 'PASS', fields });
}

export function failReply(request: Record<string, unknown>, error: string, code?: string): Record<string, unknown> {
  return buildReply(request, code === undefined ? { response: 'FAIL', error } : { response: 'FAIL', error, code });
}
