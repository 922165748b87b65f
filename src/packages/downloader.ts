/**
 * Fetches app packages into `<cacheDir>/<app>/<version>/<file name of the URL>`.
 *
 * - http and https only, every URL (redirect targets included, up to
 *   `maxRedirects`) checked against `packages.allowed_url_prefixes`.
 * - On a deb backend a URL ending in `.rpm` is fetched as `.deb`
 *   (url-policy.ts says exactly how, and how the historical agent did it).
 * - Streamed to `<file>.partial`, hashed on the way, fsynced, then renamed;
 *   the directory is fsynced so the name survives a power cut. A file in the
 *   cache is therefore always complete: a crash leaves at most a `.partial`,
 *   which the next attempt overwrites.
 * - `sha256` is verified when given; `requireChecksum` refuses entries
 *   without one before anything is fetched (or reused). A cached file is
 *   re-hashed when a sha256 is given and fetched again if it differs; without
 *   one it is reused as is, since an app version names immutable content.
 * - `timeoutMs` bounds the whole download, redirects included, like
 *   `packages.download_timeout`.
 * - node:http/https are used (imported on first download), not global fetch:
 *   streaming a body to disk with backpressure and a per-request TLS
 *   configuration is direct there, and undici would add memory to every agent.
 */
import { createHash } from 'node:crypto';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PackageError, toAgentError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BackendKind } from './types.js';
import { cacheFileName, checkSegment, checkUrl, mapUrlForBackend, redactUrl } from './url-policy.js';

export interface DownloadRequest {
  app: string;
  version: string;
  url: string;
  sha256?: string;
}

/** Called as bytes arrive: bytes so far, Content-Length when the server sent one. */
export type DownloadProgress = (bytes: number, total: number | undefined, req: DownloadRequest) => void;

export interface PackageDownloaderOptions {
  cacheDir: string;
  /** Empty: any http(s) URL. */
  allowedUrlPrefixes: readonly string[];
  requireChecksum: boolean;
  backendKind: BackendKind;
  /** Longest one download may take, redirects included. */
  timeoutMs: number;
  maxRedirects?: number;
  logger?: Logger;
  onProgress?: DownloadProgress;
  /** CA, client certificate and key for https package servers (the historical agent's [ssl] settings). */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class PackageDownloader {
  private readonly opts: PackageDownloaderOptions;
  private readonly maxRedirects: number;
  /** Concurrent fetches of one file share one download instead of racing on the same .partial. */
  private readonly inFlight = new Map<string, { sha256: string | undefined; promise: Promise<string> }>();

  constructor(opts: PackageDownloaderOptions) {
    if (!opts.cacheDir) throw new TypeError('PackageDownloader: cacheDir is required');
    if (!(opts.timeoutMs > 0)) throw new TypeError(`PackageDownloader: timeoutMs must be > 0, not ${opts.timeoutMs}`);
    this.opts = { ...opts, allowedUrlPrefixes: [...opts.allowedUrlPrefixes] };
    this.maxRedirects = opts.maxRedirects ?? 5;
  }

  /** The cached file of this app version, downloading it first when needed. */
  fetch(req: DownloadRequest, options: { signal?: AbortSignal } = {}): Promise<string> {
    let plan: { url: URL; dest: string; sha256: string | undefined };
    try {
      plan = this.plan(req);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const running = this.inFlight.get(plan.dest);
    if (running) {
      if (running.sha256 === plan.sha256) return running.promise;
      // Another checksum is expected: wait for the running download, then check (or fetch) the file against ours.
      return running.promise.catch(() => undefined).then(() => this.fetch(req, options));
    }
    const promise = this.fetchPlanned(req, plan, options.signal).finally(() => this.inFlight.delete(plan.dest));
    this.inFlight.set(plan.dest, { sha256: plan.sha256, promise });
    return promise;
  }

  /** Every check that needs no network: names, checksum policy, URL policy, cache path. */
  private plan(req: DownloadRequest): { url: URL; dest: string; sha256: string | undefined } {
    checkSegment('app', req.app, 'PACKAGE_DOWNLOAD_FAILED');
    checkSegment('version', req.version, 'PACKAGE_DOWNLOAD_FAILED');
    let sha256: string | undefined;
    if (req.sha256 !== undefined && req.sha256 !== '') {
      sha256 = req.sha256.toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(sha256)) {
        throw new PackageError('PACKAGE_CHECKSUM_MISMATCH', `${req.app} ${req.version}: sha256 ${JSON.stringify(req.sha256)} is not 64 hex digits`);
      }
    } else if (this.opts.requireChecksum) {
      throw new PackageError('PACKAGE_CHECKSUM_REQUIRED', `${req.app} ${req.version} has no sha256 and packages.require_checksum is on`);
    }
    const url = mapUrlForBackend(checkUrl(req.url, []), this.opts.backendKind);
    checkUrl(url.href, this.opts.allowedUrlPrefixes);
    const dest = join(this.opts.cacheDir, req.app, req.version, cacheFileName(url));
    return { url, dest, sha256 };
  }

  private async fetchPlanned(req: DownloadRequest, plan: { url: URL; dest: string; sha256: string | undefined }, signal?: AbortSignal): Promise<string> {
    const log = this.opts.logger;
    const cached = await hashFileIfExists(plan.dest, plan.sha256 !== undefined);
    if (cached !== undefined) {
      if (plan.sha256 === undefined || cached === plan.sha256) {
        log?.debug({ event: 'packages.cache_hit', app: req.app, version: req.version, file: plan.dest }, 'package reused from cache');
        return plan.dest;
      }
      log?.warn({ event: 'packages.cache_stale', app: req.app, version: req.version, file: plan.dest, sha256: cached, expected: plan.sha256 }, 'cached package has another checksum; fetching again');
      await unlink(plan.dest).catch(() => undefined); // the rename of the new download replaces it anyway
    }
    const started = Date.now();
    log?.info({ event: 'packages.download', app: req.app, version: req.version, url: redactUrl(plan.url) }, 'downloading package');
    const bytes = await this.download(req, plan, signal);
    log?.info({ event: 'packages.downloaded', app: req.app, version: req.version, file: plan.dest, bytes, ms: Date.now() - started }, 'package downloaded');
    return plan.dest;
  }

  private async download(req: DownloadRequest, plan: { url: URL; dest: string; sha256: string | undefined }, outer?: AbortSignal): Promise<number> {
    const { timeoutMs } = this.opts;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error('deadline')), timeoutMs);
    const signal = outer ? AbortSignal.any([deadline.signal, outer]) : deadline.signal;
    const partial = `${plan.dest}.partial`;
    let url = plan.url;
    try {
      let res = await this.get(url, signal);
      for (let hops = 0; REDIRECTS.has(res.statusCode ?? 0) && res.headers.location; hops++) {
        res.resume();
        if (hops >= this.maxRedirects) throw new PackageError('PACKAGE_DOWNLOAD_FAILED', `${redactUrl(plan.url)}: more than ${this.maxRedirects} redirects`);
        url = checkUrl(new URL(res.headers.location, url).href, this.opts.allowedUrlPrefixes);
        res = await this.get(url, signal);
      }
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        res.resume();
        throw new PackageError('PACKAGE_DOWNLOAD_FAILED', `${redactUrl(url)} answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`);
      }
      await mkdir(join(plan.dest, '..'), { recursive: true });
      const { bytes, sha256 } = await this.save(res, partial, req, signal);
      if (plan.sha256 !== undefined && sha256 !== plan.sha256) {
        throw new PackageError(
          'PACKAGE_CHECKSUM_MISMATCH',
          `${req.app} ${req.version}: ${redactUrl(url)} has sha256 ${sha256}, expected ${plan.sha256}`,
        );
      }
      await rename(partial, plan.dest);
      await fsyncDir(join(plan.dest, '..'));
      return bytes;
    } catch (err) {
      await unlink(partial).catch(() => undefined);
      if (err instanceof PackageError) throw err;
      if (deadline.signal.aborted) {
        throw new PackageError('PACKAGE_DOWNLOAD_FAILED', `${redactUrl(url)}: download timed out after ${timeoutMs / 1000} s`, { cause: err });
      }
      if (outer?.aborted) throw new PackageError('PACKAGE_DOWNLOAD_FAILED', `${redactUrl(url)}: download aborted`, { cause: err });
      throw new PackageError('PACKAGE_DOWNLOAD_FAILED', `${redactUrl(url)}: ${toAgentError(err).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  private async get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    const mod = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
    return new Promise((resolve, reject) => {
      const req: ClientRequest = mod.get(url, { signal, headers: { 'user-agent': 'pf9-hostagent', accept: '*/*' }, ...(url.protocol === 'https:' ? this.opts.tls : {}) }, (res) => {
        // Node ends the request, not always the response, on abort: make a stalled body fail too.
        signal.addEventListener('abort', () => res.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted')), { once: true });
        resolve(res);
      });
      req.on('error', reject);
    });
  }

  private reportProgress(bytes: number, total: number | undefined, req: DownloadRequest): void {
    try {
      this.opts.onProgress?.(bytes, total, req);
    } catch (err) {
      // A broken progress reporter must not fail the download it reports on.
      this.opts.logger?.warn({ event: 'packages.progress_failed', app: req.app, err: toAgentError(err).message }, 'progress callback threw');
    }
  }

  /** Streams the body to `partial`, hashing as it goes; fsyncs before returning. */
  private async save(res: IncomingMessage, partial: string, req: DownloadRequest, signal: AbortSignal): Promise<{ bytes: number; sha256: string }> {
    const lengthHeader = res.headers['content-length'];
    const total = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
    const hash = createHash('sha256');
    const fh = await open(partial, 'w');
    let bytes = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        signal.throwIfAborted();
        hash.update(chunk);
        await fh.write(chunk);
        bytes += chunk.length;
        this.reportProgress(bytes, total, req);
      }
      // Node usually errors on a short body itself; this also covers servers that close cleanly too early.
      if (total !== undefined && bytes !== total) {
        throw new PackageError('PACKAGE_DOWNLOAD_FAILED', `${req.app} ${req.version}: got ${bytes} of ${total} bytes`);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    return { bytes, sha256: hash.digest('hex') };
  }
}

/** sha256 of an existing file ('' when not asked to hash), undefined when there is no such file. */
async function hashFileIfExists(path: string, wantHash: boolean): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PackageError('PACKAGE_DOWNLOAD_FAILED', `cannot read cached package ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    if (!wantHash) return '';
    const hash = createHash('sha256');
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
