/**
 * The broker URL and TLS must tell one story: after loading,
 * `amqp.tls.enabled` is true exactly when `amqp.url` is amqps://. The bus
 * layer can then trust either one. When they disagree we side with TLS (an
 * operator who asked for TLS anywhere never gets plaintext) and say so in a
 * warning rather than refusing to start.
 */
import { DEFAULT_AMQP_URL } from './schema.js';

export interface UrlPieces {
  host?: string | undefined;
  port?: number | undefined;
  username?: string | undefined;
  password?: string | undefined;
  vhost?: string | undefined;
}

/**
 * Builds amqp.url from the historical [amqp] host, port, username, password
 * and virtual_host. Missing pieces take the values of the default URL
 * (guest:guest@localhost); the port defaults to 5671 with TLS, else 5672, as
 * the historical agent chose it.
 */
export function composeAmqpUrl(pieces: UrlPieces, tls: boolean): string {
  const scheme = tls ? 'amqps' : 'amqp';
  const user = encodeURIComponent(pieces.username ?? 'guest');
  const password = encodeURIComponent(pieces.password ?? 'guest');
  const rawHost = pieces.host ?? 'localhost';
  // An IPv6 literal needs brackets inside a URL.
  const host = rawHost.includes(':') && !rawHost.startsWith('[') ? `[${rawHost}]` : rawHost;
  const port = pieces.port ?? (tls ? 5671 : 5672);
  // No path means the broker's default vhost "/"; an explicit one is encoded whole ("/" -> %2F).
  const path = pieces.vhost === undefined || pieces.vhost === '' ? '/' : `/${encodeURIComponent(pieces.vhost)}`;
  return `${scheme}://${user}:${password}@${host}:${port}${path}`;
}

export interface TlsInput {
  url: string;
  urlOrigin: string;
  tlsEnabled: boolean;
  tlsOrigin: string;
}

export interface TlsResult {
  url: string;
  urlOrigin: string;
  tlsEnabled: boolean;
  tlsOrigin: string;
  warnings: string[];
}

const AMQPS = /^amqps:\/\//i;
const AMQP = /^amqp:\/\//i;

export function reconcileTls(input: TlsInput): TlsResult {
  const result: TlsResult = { ...input, warnings: [] };
  if (AMQPS.test(input.url) && !input.tlsEnabled) {
    result.tlsEnabled = true;
    result.tlsOrigin = `implied by amqp.url (amqps://, from ${input.urlOrigin})`;
    if (input.tlsOrigin !== 'default') {
      result.warnings.push(
        `amqp.tls.enabled is false (from ${input.tlsOrigin}) but amqp.url is amqps:// (from ${input.urlOrigin}); using TLS`,
      );
    }
  } else if (AMQP.test(input.url) && input.tlsEnabled) {
    const rest = input.url.replace(AMQP, '');
    if (input.urlOrigin === 'default' && input.url === DEFAULT_AMQP_URL) {
      // Nobody chose the plaintext port; take the TLS one.
      result.url = `amqps://${rest.replace(/:5672\//, ':5671/')}`;
      result.urlOrigin = `default, made amqps:// by amqp.tls.enabled (from ${input.tlsOrigin})`;
    } else {
      result.url = `amqps://${rest}`;
      result.urlOrigin = `${input.urlOrigin}, made amqps:// by amqp.tls.enabled`;
      result.warnings.push(
        `amqp.url is amqp:// (from ${input.urlOrigin}) but amqp.tls.enabled is true (from ${input.tlsOrigin}); using amqps:// with the same host and port`,
      );
    }
  }
  return result;
}
