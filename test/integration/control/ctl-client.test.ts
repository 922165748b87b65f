import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCtl } from '../../../src/control/ctl-client.js';
import type { ControlServer } from '../../../src/control/control-server.js';
import { FakeHandlers, eventually, startServer, tempDir } from './control-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let server: ControlServer;
let handlers: FakeHandlers;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  ({ server, handlers } = await startServer(dir));
});

afterEach(async () => {
  handlers.releaseAll();
  await server.close();
  await cleanup();
});

async function ctl(argv: string[], extra: { isTTY?: boolean; signal?: AbortSignal; socketPath?: string } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCtl(argv, {
    socketPath: extra.socketPath ?? server.socketPath,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    isTTY: extra.isTTY ?? false,
    ...(extra.signal ? { signal: extra.signal } : {}),
  });
  return { code, stdout, stderr };
}

describe('pf9-hostagent ctl', () => {
  it('ping prints the echoed params as JSON', async () => {
    const out = await ctl(['ping', '{"hello":"world"}']);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(out.stdout)).toEqual({ hello: 'world' });
  });

  it('status prints the agent status', async () => {
    const out = await ctl(['status']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ host_id: 'AA:BB:CC:DD:EE:FF', desired: { 'pf9-foo': { version: '1.0' } } });
  });

  it('an error reply exits 1 with the message', async () => {
    const out = await ctl(['frobnicate']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/error: unknown method "frobnicate"/);
  });

  it('converge follows the task with plain lines when not on a TTY', async () => {
    const out = await ctl(['converge']);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines.map((l) => l.replace(/^task \S+: /, '').replace(/ eta [0-9a-z?]+/, ''))).toEqual([
      'running 25%: downloading',
      'running 50%: installing',
      'running 75%: starting',
      'complete 100%: starting',
    ]);
    expect(out.stderr).toMatch(/^task converge-\S+ started\n$/);
  });

  it('converge draws a progress bar on a TTY and prints the outcome', async () => {
    const out = await ctl(['converge'], { isTTY: true });
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('\r[#######################.......]  75% eta');
    expect(out.stdout).toMatch(/^task \S+: complete 100%: starting\n$/);
  });

  it('a converge that fails exits 1', async () => {
    handlers.failWith = 'pf9-foo: install failed';
    const out = await ctl(['converge']);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/error \d+%: pf9-foo: install failed\n$/);
  });

  it('task_status of a running task follows it to the end', async () => {
    handlers.gated = true;
    const started = await new Promise<string>((resolve) => {
      void ctl(['converge']);
      const off = server.tasks.onUpdate((t) => {
        off();
        resolve(t.task_id);
      });
    });
    const following = ctl(['task_status', JSON.stringify({ task_id: started })]);
    await eventually(() => expect(server.stats().taskSubscriptions).toBe(2));
    handlers.releaseAll();
    const out = await following;
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/complete 100%/);
  });

  it('interrupting a followed converge exits 130 and leaves the task running', async () => {
    handlers.gated = true;
    const abort = new AbortController();
    const pending = ctl(['converge'], { signal: abort.signal });
    await eventually(() => expect(server.stats().taskSubscriptions).toBe(1));
    abort.abort();
    const out = await pending;
    expect(out.code).toBe(130);
    expect(out.stderr).toMatch(/stopped following task converge-\S+; it goes on in the agent/);
    expect(server.tasks.list()[0]?.state).toBe('running');
  });

  it('log streams lines until interrupted, then exits 0', async () => {
    const abort = new AbortController();
    const pending = ctl(['log'], { signal: abort.signal });
    await eventually(() => expect(handlers.logListeners.size).toBe(1));
    handlers.log({ level: 'info', event: 'a' });
    handlers.log({ level: 'warn', event: 'b' });
    await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    const out = await pending;
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { level: 'info', event: 'a' },
      { level: 'warn', event: 'b' },
    ]);
    await eventually(() => expect(handlers.logListeners.size).toBe(0));
  });

  it('log exits 1 when the agent goes away', async () => {
    const pending = ctl(['log']);
    await eventually(() => expect(handlers.logListeners.size).toBe(1));
    await server.close();
    const out = await pending;
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/the agent closed the connection/);
  });

  it('cannot connect: exit 1 naming the socket path', async () => {
    const path = join(dir, 'nobody.sock');
    const out = await ctl(['status'], { socketPath: path });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`cannot connect to the agent's control socket ${path}: no such socket`);
  });

  it('--socket overrides the configured path', async () => {
    const out = await ctl(['--socket', server.socketPath, 'ping'], { socketPath: join(dir, 'wrong.sock') });
    expect(out.code).toBe(0);
  });

  it.each([
    [[], /a method is required/],
    [['ping', 'not-json'], /params are not valid JSON/],
    [['ping', '[1]'], /params must be a JSON object/],
    [['ping', '{}', 'extra'], /unexpected argument extra/],
    [['--socket'], /--socket needs a path/],
  ])('usage error %j exits 2', async (argv, msg) => {
    const out = await ctl(argv);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(msg);
    expect(out.stderr).toContain('Usage: pf9-hostagent ctl');
  });

  it('--help prints usage and exits 0', async () => {
    const out = await ctl(['--help']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('Usage: pf9-hostagent ctl');
  });
});
