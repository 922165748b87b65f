/**
 * The fixture other tests build on: its packages' services and hook behave
 * as documented once installed into a root, and its server serves and 404s.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DebBackend } from '../../../src/packages/deb-backend.js';
import { buildAppPackage, packageVersion, startPackageServer } from '../../fixtures/packages/package-builder.js';
import { waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** A port nobody listens on right now: bind to 0, read it, close. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('package-builder fixture', () => {
  let work: string;
  let root: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pf9-fixture-'));
    root = join(work, 'root');
    const files = await Promise.all([
      buildAppPackage({ format: 'deb', name: 'pf9-web', version: '2.0', serviceKind: 'http', outDir: work }),
      buildAppPackage({ format: 'deb', name: 'pf9-idle', version: '1.0', release: '7', outDir: work }),
    ]);
    await new DebBackend({ root }).install(files);
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('versions both formats alike', () => {
    expect(packageVersion({ version: '1.0' })).toBe('1.0-1');
    expect(packageVersion({ version: '1.0', release: '3', epoch: 2 })).toBe('2:1.0-3');
  });

  it('http service answers with its name and version on the configured port', async () => {
    const port = await freePort();
    const env = { ...process.env, PF9_ROOT: root };
    await run(join(root, 'opt/pf9/pf9-web/config'), ['--set-config', JSON.stringify({ port })], { env });
    const child = spawn(join(root, 'opt/pf9/pf9-web/bin/pf9-web'), [], { env, stdio: 'ignore' });
    try {
      const res = await waitFor(() => httpGet(`http://127.0.0.1:${port}/`).catch(() => undefined), { timeoutMs: 10_000, what: 'the http service to answer' });
      expect(res).toEqual({ status: 200, body: 'pf9-web 2.0-1\n' });
      expect((await readFile(join(root, 'opt/pf9/pf9-web/run/pf9-web.pid'), 'utf8')).trim()).toBe(String(child.pid));
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('sleep service records its pid and version, and exits on SIGTERM', async () => {
    const env = { ...process.env, PF9_ROOT: root };
    const child = spawn(join(root, 'opt/pf9/pf9-idle/bin/pf9-idle'), [], { env, stdio: 'ignore' });
    const pidFile = join(root, 'opt/pf9/pf9-idle/run/pf9-idle.pid');
    const pid = await waitFor(() => readFile(pidFile, 'utf8').then((s) => s.trim(), () => undefined), { timeoutMs: 5000, what: 'the pid file' });
    expect(pid).toBe(String(child.pid));
    expect((await readFile(join(root, 'opt/pf9/pf9-idle/run/pf9-idle.version'), 'utf8')).trim()).toBe('1.0-7');
    const started = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('config hook refuses a config with fail_hook, keeping the previous one', async () => {
    const hook = join(root, 'opt/pf9/pf9-idle/config');
    const env = { ...process.env, PF9_ROOT: root };
    await run(hook, ['--set-config', '{"a":1}'], { env });
    const err = await run(hook, ['--set-config', '{"a":2,"fail_hook":true}'], { env }).catch((e: unknown) => e as { code: number; stderr: string });
    expect(err).toMatchObject({ code: 3, stderr: expect.stringContaining('fail_hook') as unknown });
    expect((await run(hook, ['--get-config'], { env })).stdout.trim()).toBe('{"a":1}');
  });

  it('server serves files and answers 404 for others', async () => {
    const server = await startPackageServer(work);
    try {
      const ok = await httpGet(`${server.url}/pf9-idle_1.0-7_all.deb`);
      expect(ok.status).toBe(200);
      expect((await httpGet(`${server.url}/missing.deb`)).status).toBe(404);
      expect((await httpGet(`${server.url}/../../etc/passwd`)).status).toBe(404);
      expect(server.requests).toEqual(['/pf9-idle_1.0-7_all.deb', '/missing.deb', '/etc/passwd']);
    } finally {
      await server.close();
    }
  });
});
