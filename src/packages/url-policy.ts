/**
 * Where packages may come from and where they land in the cache: pure
 * functions, so the rules are unit-tested without a server.
 */
import { PackageError } from '../errors.js';
import type { BackendKind } from './types.js';

/**
 * Parses a package URL and enforces http(s) and `packages.allowed_url_prefixes`.
 * Applied to the first URL and again to every redirect target.
 *
 * Prefixes are compared with the normalized URL (lower-case scheme and host,
 * default port dropped), and a prefix that does not end in `/` must be
 * followed by `/`, `?`, `#` or the end: `https://repo.example.com` then does
 * not admit `https://repo.example.com.evil.net/x.rpm`.
 */
export function checkUrl(raw: string, allowedPrefixes: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PackageError('PACKAGE_URL_NOT_ALLOWED', `${JSON.stringify(redactUrl(raw))} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PackageError('PACKAGE_URL_NOT_ALLOWED', `${redactUrl(url)}: only http and https URLs are allowed, not ${url.protocol.slice(0, -1)}`);
  }
  if (allowedPrefixes.length > 0 && !allowedPrefixes.some((p) => startsWithPrefix(url.href, p))) {
    throw new PackageError(
      'PACKAGE_URL_NOT_ALLOWED',
      `${redactUrl(url)} is outside packages.allowed_url_prefixes (${allowedPrefixes.map((p) => redactUrl(p)).join(', ')})`,
    );
  }
  return url;
}

function startsWithPrefix(href: string, prefix: string): boolean {
  let p = prefix;
  try {
    p = new URL(prefix).href; // normalizes like the URL it is compared with; a bare origin gains its `/`
  } catch {
    // not a URL on its own: compared as written
  }
  if (!href.startsWith(p)) return false;
  if (p.endsWith('/')) return true;
  const next = href.charAt(p.length);
  return next === '' || next === '/' || next === '?' || next === '#';
}

/**
 * The historical agent, for app entries given as a `url`, fetched the .deb
 * next to the .rpm on Debian-family hosts: it replaced the URL's last
 * extension (os.path.splitext on the whole URL, query string included) with
 * `.deb`, and named the cached file likewise. We keep the useful part: on a
 * deb backend a URL whose *path* ends in `.rpm` (any case) gets `.deb`
 * instead; the query string is kept, other extensions are left alone, and
 * nothing maps the other way.
 */
export function mapUrlForBackend(url: URL, kind: BackendKind): URL {
  if (kind !== 'deb' || !/\.rpm$/i.test(url.pathname)) return url;
  const mapped = new URL(url.href);
  mapped.pathname = url.pathname.replace(/\.rpm$/i, '.deb');
  return mapped;
}

/** The file name the cache keeps: the last path segment of the URL, decoded, checked to be one safe segment. */
export function cacheFileName(url: URL): string {
  const last = url.pathname.split('/').pop() ?? '';
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    name = last;
  }
  checkSegment('file name in the URL', name, 'PACKAGE_URL_NOT_ALLOWED');
  return name;
}

/** App, version and file name become directory names under the cache: one segment each, nothing that climbs out. */
export function checkSegment(what: string, value: string, code: 'PACKAGE_URL_NOT_ALLOWED' | 'PACKAGE_DOWNLOAD_FAILED'): void {
  const bad =
    value === '' || value === '.' || value === '..' || value.includes('/') || value.includes('\0') || Buffer.byteLength(value) > 200;
  if (bad) throw new PackageError(code, `${what} ${JSON.stringify(value)} cannot be used as a file name in the package cache`);
}

/** A URL for logs and messages: user and password replaced. */
export function redactUrl(url: URL | string): string {
  try {
    const u = new URL(typeof url === 'string' ? url : url.href);
    if (u.username || u.password) {
      u.username = '*****';
      u.password = '';
    }
    return u.href;
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//*****@');
  }
}
