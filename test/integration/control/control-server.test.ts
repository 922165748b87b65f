import { spawnSync } from 'node:child_process';
import { lstat, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlServer } from '../../../src/control/control-server.js';
import { MAX_REQUEST_LINE_BYTES } from '../../../src/protocol/teeth.js';
import { FakeHandlers, LineClient, eventually, silentLogger, startServer, tempDir } from './control-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let server: ControlServer;
let handlers: FakeHandlers;
let clients: LineClient[];

async function client(): Promise<LineClient> {
  const c = await LineClient.connect(server.socketPath);
  clients.push(c);
  return c;
}

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  ({ server, handlers } = await startServer(dir));
  clients = [];
});

afterEach(async () => {
  for (const c of clients) c.close();
  handlers.releaseAll();
  await server.close();
  await cleanup();
});

describe('control socket methods', () => {
  it('ping echoes params; status returns what the agent reports', async () => {
    const c = await client();
    c.send({ version: '1', id: 1, method: 'ping', params: { hello: 'world', n: [1, 2] } });
    c.send({ version: '1', id: 'st', method: 'status', params: {} });
    expect(await c.reply(1)).toEqual({ id: 1, result: { hello: 'world', n: [1, 2] } });
    expect(await c.reply('st')).toMatchObject({ id: 'st', result: { host_id: 'AA:BB:CC:DD:EE:FF', broker_connected: true } });
  });

  it('answers unknown methods and bad params with an error and keeps the connection', async () => {
    const c = await client();
    c.send({ id: 1, method: 'frobnicate' });
    c.send({ id: 2, method: 'decom.erase_hardware' });
    c.send({ id: 3, method: 'ping', params: [1] });
    c.send({ id: 4, method: 'task_status', params: { task_id: 'nope' } });
    c.send({ id: 5, method: 'ping' });
    expect(await c.reply(1)).toMatchObject({ error: { msg: expect.stringMatching(/unknown method "frobnicate"; known: ping, status/) as unknown } });
    expect(await c.reply(2)).toMatchObject({ error: { msg: expect.stringMatching(/not supported/) as unknown } });
    expect(await c.reply(3)).toMatchObject({ error: { msg: expect.stringMatching(/"params" must be a JSON object/) as unknown } });
    expect(await c.reply(4)).toMatchObject({ error: { msg: expect.stringMatching(/no task "nope"/) as unknown } });
    expect(await c.reply(5)).toEqual({ id: 5, result: {} });
    expect(c.closed).toBe(false);
  });

  it('converge returns a task id at once and pushes running...complete with rising percent', async () => {
    const c = await client();
    c.send({ version: '1', id: 'c1', method: 'converge', params: {} });
    const reply = await c.reply('c1');
    const taskId = (reply.result as { task_id: string }).task_id;
    expect(reply.result).toEqual({ task_id: taskId, joined: false });
    await c.waitFor((m) => m.method === 'task_status' && (m.params as { state: string }).state === 'complete', 'complete');
    const pushes = c.received.filter((m) => m.method === 'task_status');
    // The reply comes first, then every push carries the converge request's id.
    expect(c.received[0]).toBe(reply);
    expect(pushes.every((p) => p.id === 'c1' && p.version === '1')).toBe(true);
    const params = pushes.map((p) => p.params as { task_id: string; state: string; percent: number; msg: string; eta: unknown });
    expect(params.map((p) => [p.state, p.percent, p.msg])).toEqual([
      ['running', 25, 'downloading'],
      ['running', 50, 'installing'],
      ['running', 75, 'starting'],
      ['complete', 100, 'starting'],
    ]);
    expect(params.every((p) => p.task_id === taskId && 'eta' in p)).toBe(true);

    c.send({ id: 'ts', method: 'task_status', params: { task_id: taskId } });
    expect(await c.reply('ts')).toMatchObject({ result: { task_id: taskId, state: 'complete', percent: 100, kind: 'converge' } });
  });

  it('a failed converge ends in state error with the message', async () => {
    handlers.failWith = 'pf9-foo: dpkg failed';
    const c = await client();
    c.send({ id: 1, method: 'converge' });
    const end = await c.waitFor((m) => m.method === 'task_status' && (m.params as { state: string }).state !== 'running', 'end');
    expect(end.params).toMatchObject({ state: 'error', msg: 'pf9-foo: dpkg failed', eta: null });
  });

  it('task_status with no params lists tasks and subscribes to all of them; a second converge joins the first', async () => {
    handlers.gated = true;
    const starter = await client();
    const watcher = await client();
    watcher.send({ id: 'w', method: 'task_status' });
    expect(await watcher.reply('w')).toEqual({ id: 'w', result: { tasks: [] } });
    starter.send({ id: 1, method: 'converge' });
    const taskId = ((await starter.reply(1)).result as { task_id: string }).task_id;
    starter.send({ id: 2, method: 'converge' });
    expect(await starter.reply(2)).toEqual({ id: 2, result: { task_id: taskId, joined: true } });
    expect(handlers.converges).toBe(1);
    handlers.releaseAll();
    const isComplete = (m: Record<string, unknown>) => m.method === 'task_status' && (m.params as { state: string }).state === 'complete';
    expect((await watcher.waitFor(isComplete, 'complete')).id).toBe('w');
    await starter.waitFor(isComplete, 'complete');
  });

  it('log streams the agent log lines to subscribers only', async () => {
    const sub = await client();
    const other = await client();
    sub.send({ id: 'l', method: 'log' });
    expect(await sub.reply('l')).toEqual({ id: 'l', result: { subscribed: true } });
    handlers.log({ level: 'info', event: 'converge.started', msg: 'converging' });
    const line = await sub.waitFor((m) => m.method === 'log');
    expect(line).toEqual({ version: '1', method: 'log', params: { level: 'info', event: 'converge.started', msg: 'converging' } });
    other.send({ id: 1, method: 'ping' });
    await other.reply(1);
    expect(other.received.some((m) => m.method === 'log')).toBe(false);
  });
});

describe('garbage and limits', () => {
  it.each([
    ['not json at all\n', /not valid JSON/],
    ['[1,2,3]\n', /must be a JSON object/],
    ['{"method":"ping"}\n', /"id"/],
  ])('answers %j with fatal_error and closes', async (line, msg) => {
    const c = await client();
    c.send(line);
    const fatal = await c.waitFor((m) => 'fatal_error' in m, 'fatal_error');
    expect(fatal.fatal_error).toMatch(msg);
    await c.waitClosed();
    await eventually(() => expect(server.stats().clients).toBe(0));
  });

  it('refuses a line longer than the limit without waiting for its end', async () => {
    const c = await client();
    c.send('{"id":1,"method":"ping","params":{"x":"' + 'a'.repeat(MAX_REQUEST_LINE_BYTES + 10));
    expect((await c.waitFor((m) => 'fatal_error' in m)).fatal_error).toMatch(/longer than 65536 bytes/);
    await c.waitClosed();
  });

  it('handles requests split across writes and several in one write', async () => {
    const c = await client();
    c.send('{"id":1,"meth');
    await new Promise((r) => setTimeout(r, 20));
    c.send('od":"ping","params":{"é":"ü"}}\r\n\n{"id":2,"method":"ping"}\n');
    expect(await c.reply(1)).toEqual({ id: 1, result: { é: 'ü' } });
    expect(await c.reply(2)).toEqual({ id: 2, result: {} });
  });
});

describe('clients that leave mid-stream', () => {
  it('a client subscribed to logs and to a running task disconnects: no crash, no leaked listener', async () => {
    handlers.gated = true;
    const c = await client();
    c.send({ id: 'l', method: 'log' });
    c.send({ id: 'c', method: 'converge' });
    await c.reply('l');
    await c.reply('c');
    handlers.release();
    await c.waitFor((m) => m.method === 'task_status', 'first push');
    expect(server.stats()).toMatchObject({ clients: 1, logSubscribers: 1, taskSubscriptions: 1 });
    expect(handlers.logListeners.size).toBe(1);

    c.socket.destroy(); // abrupt, as a killed `ctl` would
    await eventually(() => expect(server.stats()).toEqual({ clients: 0, logSubscribers: 0, taskSubscriptions: 0, taskListeners: 1 }));
    expect(handlers.logListeners.size).toBe(0);

    // Logging and the task go on without it.
    handlers.log({ msg: 'after' });
    handlers.releaseAll();
    const after = await client();
    after.send({ id: 1, method: 'task_status' });
    const tasks = ((await after.reply(1)).result as { tasks: Array<{ state: string }> }).tasks;
    await eventually(() => expect(server.tasks.list()[0]?.state).toBe('complete'));
    expect(tasks).toHaveLength(1);
  });

  it('close() drops clients and their subscriptions, and removes the socket file', async () => {
    const c = await client();
    c.send({ id: 'l', method: 'log' });
    await c.reply('l');
    await server.close();
    await c.waitClosed();
    expect(handlers.logListeners.size).toBe(0);
    await expect(lstat(server.socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(server.stats().taskListeners).toBe(0);
  });
});

describe('the socket file', () => {
  it('has mode 0600', async () => {
    expect((await stat(server.socketPath)).mode & 0o777).toBe(0o600);
  });

  it('replaces a stale socket left by a killed agent', async () => {
    const path = join(dir, 'stale.sock');
    // A kill -9 leaves the socket file behind (Node unlinks it only on a clean close).
    const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script]);
    expect((await lstat(path)).isSocket()).toBe(true);

    const again = new ControlServer({ socketPath: path, logger: silentLogger, handlers });
    await again.start();
    const c = await LineClient.connect(path);
    clients.push(c);
    c.send({ id: 1, method: 'ping', params: { ok: true } });
    expect(await c.reply(1)).toEqual({ id: 1, result: { ok: true } });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await again.close();
  });

  it('refuses to replace a live socket or a regular file', async () => {
    const second = new ControlServer({ socketPath: server.socketPath, logger: silentLogger, handlers });
    await expect(second.start()).rejects.toThrow(/another process is listening/);
    const file = join(dir, 'not-a-socket');
    await writeFile(file, 'precious');
    const third = new ControlServer({ socketPath: file, logger: silentLogger, handlers });
    await expect(third.start()).rejects.toThrow(/not a socket; refusing/);
  });

  it('checks its options up front', () => {
    expect(() => new ControlServer({ socketPath: '', logger: silentLogger, handlers })).toThrow(/control.socket/);
    expect(() => new ControlServer({ socketPath: `/tmp/${'x'.repeat(120)}`, logger: silentLogger, handlers })).toThrow(/107 bytes/);
  });
});
