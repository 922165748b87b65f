/** The app contract hook, run for real: a shell script under a temporary install root. */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecAppHooks } from '../../../src/reconcile/app-hooks.js';

let root: string;

async function hook(app: string, body: string): Promise<void> {
  const dir = join(root, 'opt/pf9', app);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config'), `#!/bin/sh\n${body}\n`);
  await chmod(join(dir, 'config'), 0o755);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pf9-hooks-'));
  await hook(
    'pf9-good',
    `case "$1" in
  --get-config) cat "$PF9_ROOT/opt/pf9/pf9-good/conf.json" 2>/dev/null || echo '{}' ;;
  --set-config) printf '%s' "$2" > "$PF9_ROOT/opt/pf9/pf9-good/conf.json" ;;
  --get-services) echo '["pf9-good-api", "pf9-good-worker"]' ;;
esac`,
  );
  await hook('pf9-slow', 'sleep 5');
  await hook('pf9-fails', 'echo "line one" >&2; echo "cannot parse key port: expected a number" >&2; exit 4');
  await hook('pf9-garbage', 'echo "not json"');
  await hook('pf9-quiet', 'exit 0');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ExecAppHooks', () => {
  const hooks = (): ExecAppHooks => new ExecAppHooks({ root, timeoutMs: 2000 });

  it('sets and reads config through the hook, which finds its files by PF9_ROOT', async () => {
    await hooks().setConfig('pf9-good', { port: 8080, secret: 's3cr3t' });
    expect(JSON.parse(await readFile(join(root, 'opt/pf9/pf9-good/conf.json'), 'utf8'))).toEqual({ port: 8080, secret: 's3cr3t' });
    expect(await hooks().getConfig('pf9-good')).toEqual({ port: 8080, secret: 's3cr3t' });
    expect(await hooks().getServices('pf9-good')).toEqual(['pf9-good-api', 'pf9-good-worker']);
  });

  it('treats an app without a hook as config-less with one service named like it', async () => {
    expect(await hooks().getConfig('pf9-nohook')).toBeUndefined();
    await expect(hooks().setConfig('pf9-nohook', { a: 1 })).resolves.toBeUndefined();
    expect(await hooks().getServices('pf9-nohook')).toEqual(['pf9-nohook']);
    expect(await hooks().getServices('pf9-quiet')).toEqual(['pf9-quiet']);
  });

  it('kills a hook that outlives hook_timeout and says so', async () => {
    const started = Date.now();
    await expect(new ExecAppHooks({ root, timeoutMs: 300 }).setConfig('pf9-slow', {})).rejects.toMatchObject({
      code: 'HOOK_FAILED',
      message: expect.stringMatching(/pf9-slow: config --set-config timed out after 300 ms/) as unknown,
    });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('reports the exit status and the stderr tail of a failing hook, never the config it was given', async () => {
    const err = (await hooks()
      .setConfig('pf9-fails', { password: 'hunter2' })
      .then(() => new Error('expected a failure'))
      .catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('HOOK_FAILED');
    expect(err.message).toContain('exited with 4');
    expect(err.message).toContain('cannot parse key port');
    expect(err.message).not.toContain('hunter2');
  });

  it('refuses output that is not the JSON the contract asks for', async () => {
    await expect(hooks().getConfig('pf9-garbage')).rejects.toMatchObject({ code: 'HOOK_FAILED', message: expect.stringContaining('valid JSON') as unknown });
    await expect(hooks().getServices('pf9-garbage')).rejects.toMatchObject({ code: 'HOOK_FAILED' });
  });
});
