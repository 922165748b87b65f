import { describe, expect, it } from 'vitest';
import { PackageError } from '../../../src/errors.js';
import { cacheFileName, checkSegment, checkUrl, mapUrlForBackend, redactUrl } from '../../../src/packages/url-policy.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof PackageError ? err.code : 'not a PackageError';
  }
  return undefined;
}

describe('checkUrl', () => {
  it('allows http and https only', () => {
    expect(checkUrl('https://repo.example.com/a.rpm', []).href).toBe('https://repo.example.com/a.rpm');
    expect(checkUrl('http://repo.example.com/a.rpm', []).protocol).toBe('http:');
    for (const bad of ['ftp://repo.example.com/a.rpm', 'file:///etc/passwd', 'not a url', '/relative/a.rpm']) {
      expect(codeOf(() => checkUrl(bad, []))).toBe('PACKAGE_URL_NOT_ALLOWED');
    }
  });

  it.each([
    ['https://repo.example.com', 'https://repo.example.com/pf9/a.rpm', true],
    ['https://repo.example.com', 'https://repo.example.com.evil.net/a.rpm', false],
    ['https://repo.example.com/pf9', 'https://repo.example.com/pf9/a.rpm', true],
    ['https://repo.example.com/pf9', 'https://repo.example.com/pf9-evil/a.rpm', false],
    ['https://repo.example.com/pf9/', 'https://repo.example.com/pf9/sub/a.rpm', true],
    ['https://REPO.example.com:443/pf9/', 'https://repo.example.com/pf9/a.rpm', true],
    ['https://repo.example.com/pf9/', 'http://repo.example.com/pf9/a.rpm', false],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8081/a.rpm', false],
  ])('prefix %s admits %s: %s', (prefix, url, ok) => {
    expect(codeOf(() => checkUrl(url, [prefix]))).toBe(ok ? undefined : 'PACKAGE_URL_NOT_ALLOWED');
  });

  it('names the prefixes in the message and hides credentials', () => {
    expect(() => checkUrl('https://bob:secret@elsewhere.example/a.rpm', ['https://repo.example.com/'])).toThrow(
      'https://*****@elsewhere.example/a.rpm is outside packages.allowed_url_prefixes (https://repo.example.com/)',
    );
  });
});

describe('mapUrlForBackend', () => {
  const map = (url: string, kind: 'deb' | 'rpm'): string => mapUrlForBackend(new URL(url), kind).href;

  it('fetches the .deb beside an .rpm on deb hosts, keeping the query', () => {
    expect(map('https://r.example/pf9/pf9-hello-1.0-1.x86_64.rpm', 'deb')).toBe('https://r.example/pf9/pf9-hello-1.0-1.x86_64.deb');
    expect(map('https://r.example/pf9/pf9-hello.RPM?token=abc', 'deb')).toBe('https://r.example/pf9/pf9-hello.deb?token=abc');
  });

  it('leaves everything else alone', () => {
    expect(map('https://r.example/pf9/pf9-hello.rpm', 'rpm')).toBe('https://r.example/pf9/pf9-hello.rpm');
    expect(map('https://r.example/pf9/pf9-hello.deb', 'deb')).toBe('https://r.example/pf9/pf9-hello.deb');
    expect(map('https://r.example/pf9/pf9-hello.tar.gz', 'deb')).toBe('https://r.example/pf9/pf9-hello.tar.gz');
    expect(map('https://r.example/get?file=pf9-hello.rpm', 'deb')).toBe('https://r.example/get?file=pf9-hello.rpm');
  });
});

describe('cache names', () => {
  it('takes the decoded last path segment', () => {
    expect(cacheFileName(new URL('https://r.example/a/pf9%20x.rpm?y=1'))).toBe('pf9 x.rpm');
  });

  it('refuses names that would leave the cache directory', () => {
    expect(codeOf(() => cacheFileName(new URL('https://r.example/dir/')))).toBe('PACKAGE_URL_NOT_ALLOWED');
    expect(codeOf(() => cacheFileName(new URL('https://r.example/a/..%2F..%2Fetc%2Fpasswd')))).toBe('PACKAGE_URL_NOT_ALLOWED');
    for (const bad of ['', '.', '..', 'a/b', 'a\0b', 'x'.repeat(300)]) {
      expect(codeOf(() => checkSegment('app', bad, 'PACKAGE_DOWNLOAD_FAILED'))).toBe('PACKAGE_DOWNLOAD_FAILED');
    }
    expect(codeOf(() => checkSegment('version', '2:1.0-1~rc1', 'PACKAGE_DOWNLOAD_FAILED'))).toBeUndefined();
  });
});

describe('redactUrl', () => {
  it('masks user and password', () => {
    expect(redactUrl('https://u:p@h.example/x')).toBe('https://*****@h.example/x');
    expect(redactUrl('https://h.example/x')).toBe('https://h.example/x');
  });
});
