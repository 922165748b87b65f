/**
 * PackageDownloader against a real HTTP server on 127.0.0.1 (the fixture
 * package server, with scripted redirects, stalls and short bodies).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PackageError } from '../../../src/errors.js';
import { PackageDownloader, type PackageDownloaderOptions } from '../../../src/packages/downloader.js';
import { startPackageServer, type PackageServer } from '../../fixtures/packages/package-builder.js';

const body = randomBytes(300_000); // several chunks, so progress is reported more than once
const sha = createHash('sha256').update(body).digest('hex');
const other = createHash('sha256').update('something else').digest('hex');

let dir: string;
let server: PackageServer;
let cacheDir: string;
const stalls: { res: import('node:http').ServerResponse }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pf9-dl-'));
  const files = join(dir, 'files');
  await mkdir(join(files, 'allowed'), { recursive: true });
  await mkdir(join(files, 'elsewhere'), { recursive: true });
  for (const f of ['allowed/pf9-hello_1.0-1_all.deb', 'allowed/pf9-hello-1.0-1.noarch.rpm', 'allowed/pf9-hello-1.0-1.noarch.deb', 'elsewhere/pf9-hello_1.0-1_all.deb']) {
    await writeFile(join(files, f), body);
  }
  server = await startPackageServer(files, (req, res) => {
    const path = req.url ?? '';
    if (path.startsWith('/redirect-ok/')) res.writeHead(302, { location: '/allowed/pf9-hello_1.0-1_all.deb' }).end();
    else if (path.startsWith('/redirect-out/')) res.writeHead(301, { location: `${server.url}/elsewhere/pf9-hello_1.0-1_all.deb` }).end();
    else if (path.startsWith('/loop/')) res.writeHead(307, { location: `/loop/${Number(path.split('/')[2]) + 1}/x.deb` }).end();
    else if (path.startsWith('/stall-body/')) {
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(100));
      stalls.push({ res });
    } else if (path.startsWith('/stall-headers/')) stalls.push({ res });
    else if (path.startsWith('/short/')) {
      res.writeHead(200, { 'content-length': 1000 });
      res.end(Buffer.alloc(500));
      res.socket?.destroy();
    } else return false;
    return true;
  });
});

afterAll(async () => {
  for (const s of stalls) s.res.destroy();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  cacheDir = await mkdtemp(join(dir, 'cache-'));
  server.requests.length = 0;
});

function downloader(over: Partial<PackageDownloaderOptions> = {}): PackageDownloader {
  return new PackageDownloader({ cacheDir, allowedUrlPrefixes: [], requireChecksum: false, backendKind: 'deb', timeoutMs: 10_000, ...over });
}

async function failure(p: Promise<unknown>, code: string): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PackageError);
  expect((err as PackageError).code).toBe(code);
  return (err as PackageError).message;
}

/** Every file under the cache: nothing half-written may stay behind. */
async function cacheFiles(): Promise<string[]> {
  return (await readdir(cacheDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

const hello = (url: string, sha256?: string) => ({ app: 'pf9-hello', version: '1.0-1', url, ...(sha256 ? { sha256 } : {}) });

describe('PackageDownloader', () => {
  it('streams into <cache>/<app>/<version>/<file>, verifying sha256 and reporting progress', async () => {
    const progress: [number, number | undefined][] = [];
    const d = downloader({ onProgress: (bytes, total) => progress.push([bytes, total]) });
    const file = await d.fetch(hello(`${server.url}/allowed/pf9-hello_1.0-1_all.deb`, sha.toUpperCase()));
    expect(file).toBe(join(cacheDir, 'pf9-hello', '1.0-1', 'pf9-hello_1.0-1_all.deb'));
    expect((await readFile(file)).equals(body)).toBe(true);
    expect(await cacheFiles()).toEqual(['pf9-hello_1.0-1_all.deb']);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual([body.length, body.length]);
  });

  it('refuses a checksum mismatch, naming both sums, and keeps nothing', async () => {
    const msg = await failure(downloader().fetch(hello(`${server.url}/allowed/pf9-hello_1.0-1_all.deb`, other)), 'PACKAGE_CHECKSUM_MISMATCH');
    expect(msg).toContain(`has sha256 ${sha}, expected ${other}`);
    expect(await cacheFiles()).toEqual([]);
  });

  it('requires a checksum before fetching anything when told to', async () => {
    const msg = await failure(downloader({ requireChecksum: true }).fetch(hello(`${server.url}/allowed/pf9-hello_1.0-1_all.deb`)), 'PACKAGE_CHECKSUM_REQUIRED');
    expect(msg).toContain('packages.require_checksum');
    expect(server.requests).toEqual([]);
    await downloader({ requireChecksum: true }).fetch(hello(`${server.url}/allowed/pf9-hello_1.0-1_all.deb`, sha));
  });

  it('enforces allowed prefixes, redirects included', async () => {
    const d = downloader({ allowedUrlPrefixes: [`${server.url}/allowed/`, `${server.url}/redirect-ok/`, `${server.url}/redirect-out/`] });
    await failure(d.fetch(hello(`${server.url}/elsewhere/pf9-hello_1.0-1_all.deb`)), 'PACKAGE_URL_NOT_ALLOWED');
    expect(server.requests).toEqual([]);

    expect(await d.fetch(hello(`${server.url}/redirect-ok/pf9-hello_1.0-1_all.deb`))).toBe(join(cacheDir, 'pf9-hello', '1.0-1', 'pf9-hello_1.0-1_all.deb'));

    const d2 = downloader({ allowedUrlPrefixes: [`${server.url}/redirect-out/`] });
    server.requests.length = 0;
    const msg = await failure(d2.fetch({ app: 'pf9-x', version: '1', url: `${server.url}/redirect-out/x.deb` }), 'PACKAGE_URL_NOT_ALLOWED');
    expect(msg).toContain('/elsewhere/pf9-hello_1.0-1_all.deb is outside packages.allowed_url_prefixes');
    expect(server.requests).toEqual(['/redirect-out/x.deb']); // the disallowed target was never asked for
  });

  it('refuses non-http URLs', async () => {
    await failure(downloader().fetch(hello('file:///etc/passwd')), 'PACKAGE_URL_NOT_ALLOWED');
  });

  it('gives up after 5 redirects', async () => {
    const msg = await failure(downloader().fetch({ app: 'pf9-x', version: '1', url: `${server.url}/loop/0/x.deb` }), 'PACKAGE_DOWNLOAD_FAILED');
    expect(msg).toContain('more than 5 redirects');
    expect(server.requests).toHaveLength(6);
  });

  it('reports a 404 with its status', async () => {
    const msg = await failure(downloader().fetch(hello(`${server.url}/allowed/missing.deb`)), 'PACKAGE_DOWNLOAD_FAILED');
    expect(msg).toMatch(/missing\.deb answered HTTP 404 Not Found/);
    expect(await cacheFiles()).toEqual([]);
  });

  it('fetches the .deb for an .rpm URL on a deb backend, not on an rpm one', async () => {
    const rpmUrl = `${server.url}/allowed/pf9-hello-1.0-1.noarch.rpm`;
    const deb = await downloader({ backendKind: 'deb' }).fetch(hello(rpmUrl));
    expect(deb).toBe(join(cacheDir, 'pf9-hello', '1.0-1', 'pf9-hello-1.0-1.noarch.deb'));
    expect(server.requests).toEqual(['/allowed/pf9-hello-1.0-1.noarch.deb']);
    expect(await downloader({ backendKind: 'rpm' }).fetch(hello(rpmUrl))).toBe(join(cacheDir, 'pf9-hello', '1.0-1', 'pf9-hello-1.0-1.noarch.rpm'));
    expect(server.requests).toEqual(['/allowed/pf9-hello-1.0-1.noarch.deb', '/allowed/pf9-hello-1.0-1.noarch.rpm']);
  });

  it('reuses a cached file without asking the server again', async () => {
    const d = downloader();
    const url = `${server.url}/allowed/pf9-hello-1.0-1.noarch.rpm`;
    const rpm = downloader({ backendKind: 'rpm' });
    const first = await rpm.fetch(hello(url));
    expect(await rpm.fetch(hello(url))).toBe(first);
    expect(await rpm.fetch(hello(url, sha))).toBe(first); // re-hashed, still good
    expect(server.requests).toEqual(['/allowed/pf9-hello-1.0-1.noarch.rpm']);

    // A cached file that no longer matches the sha256 is fetched again.
    await writeFile(first, 'corrupt');
    expect(await rpm.fetch(hello(url, sha))).toBe(first);
    expect((await readFile(first)).equals(body)).toBe(true);
    expect(server.requests).toHaveLength(2);

    // Two fetches of one file at once share one download.
    server.requests.length = 0;
    const deb = `${server.url}/allowed/pf9-hello_1.0-1_all.deb`;
    const [a, b] = await Promise.all([d.fetch(hello(deb)), d.fetch(hello(deb))]);
    expect(a).toBe(b);
    expect(server.requests).toHaveLength(1);

    // One joining with another sha256 is checked against its own.
    await rm(a);
    const [good, bad] = await Promise.allSettled([d.fetch(hello(deb, sha)), d.fetch(hello(deb, other))]);
    expect(good.status).toBe('fulfilled');
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'PACKAGE_CHECKSUM_MISMATCH' } });
  });

  it('times out a server that stops sending, and one that never answers', async () => {
    const d = downloader({ timeoutMs: 300 });
    const started = Date.now();
    const msg = await failure(d.fetch({ app: 'pf9-x', version: '1', url: `${server.url}/stall-body/x.deb` }), 'PACKAGE_DOWNLOAD_FAILED');
    expect(msg).toContain('timed out after 0.3 s');
    expect(await failure(d.fetch({ app: 'pf9-y', version: '1', url: `${server.url}/stall-headers/y.deb` }), 'PACKAGE_DOWNLOAD_FAILED')).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await cacheFiles()).toEqual([]);
  });

  it('refuses a body shorter than its Content-Length', async () => {
    await failure(downloader().fetch({ app: 'pf9-x', version: '1', url: `${server.url}/short/x.deb` }), 'PACKAGE_DOWNLOAD_FAILED');
    expect(await cacheFiles()).toEqual([]);
  });

  it('refuses app names and versions that are not one path segment', async () => {
    for (const [app, version] of [['../etc', '1'], ['pf9-x', '../../1'], ['a/b', '1'], ['pf9-x', '..']] as const) {
      await failure(downloader().fetch({ app, version, url: `${server.url}/allowed/pf9-hello_1.0-1_all.deb` }), 'PACKAGE_DOWNLOAD_FAILED');
    }
    expect(server.requests).toEqual([]);
    expect(existsSync(join(cacheDir, '..', 'etc'))).toBe(false);
  });
});
