/**
 * Secrets never leave the process in clear: not in logs, not in
 * --print-config, not in error messages. The broker URL carries the password
 * inline, so for it only the password is hidden; the rest (user, host, port,
 * vhost) is what an operator needs to debug a connection.
 */
import type { FrozenConfig } from './types.js';

export const MASK = '*****';

const SECRET_NAME = /password|passwd|token|secret/i;

/** Keys whose value is hidden whole. `amqp.tls.key` is a file path, not a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_NAME.test(key);
}

/** Keys whose value is a URL that may carry a password. */
export function isUrlKey(key: string): boolean {
  return key === 'amqp.url';
}

/**
 * Hides the password of `scheme://user:password@host...`. Works on text
 * rather than through `new URL`, so an invalid URL (the one an error is about)
 * is masked too. When unsure where the user info ends it masks more, not less.
 */
export function maskUrl(url: string): string {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd < 0) return url;
  const restStart = schemeEnd + 3;
  const at = url.lastIndexOf('@');
  if (at < restStart) return url;
  const userInfo = url.slice(restStart, at);
  const colon = userInfo.indexOf(':');
  if (colon < 0) return url;
  return `${url.slice(0, restStart)}${userInfo.slice(0, colon)}:${MASK}${url.slice(at)}`;
}

/** The printable form of one value of `key`. */
export function maskValue(key: string, value: string): string {
  if (isUrlKey(key)) return maskUrl(value);
  if (isSecretKey(key) && value !== '') return MASK;
  return value;
}

function maskNode(node: unknown, path: string): unknown {
  if (node === null || typeof node !== 'object') {
    return typeof node === 'string' ? maskValue(path, node) : node;
  }
  if (Array.isArray(node)) return node.map((item) => maskNode(item, path));
  const out: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(node)) {
    out[name] = maskNode(child, path === '' ? name : `${path}.${name}`);
  }
  return out;
}

/** A plain (unfrozen) copy, safe to print or log. */
export function maskedConfig(config: FrozenConfig): Record<string, unknown> {
  return maskNode(config, '') as Record<string, unknown>;
}
