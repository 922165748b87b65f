/** A fake agent side (ControlHandlers) and a line-oriented socket client for control-socket tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlHandlers } from '../../../src/control/handlers.js';
import type { TaskReporter } from '../../../src/control/tasks.js';
import { ControlServer } from '../../../src/control/control-server.js';
import { createLogger } from '../../../src/logger.js';

export const silentLogger = createLogger({ level: 'silent' });

export class FakeHandlers implements ControlHandlers {
  readonly logListeners = new Set<(line: string) => void>();
  /** Steps the converge reports; each waits for `release` when `gated`. */
  steps: Array<[number, string]> = [
    [25, 'downloading'],
    [50, 'installing'],
    [75, 'starting'],
  ];
  gated = false;
  failWith: string | undefined;
  converges = 0;
  private releases: Array<() => void> = [];

  status(): Promise<Record<string, unknown>> {
    return Promise.resolve({
      uptime_s: 12,
      version: '0.1.0',
      host_id: 'AA:BB:CC:DD:EE:FF',
      broker_connected: true,
      last_converge: null,
      desired: { 'pf9-foo': { version: '1.0', running: true } },
      actual: {},
    });
  }

  async converge(report: TaskReporter): Promise<void> {
    this.converges += 1;
    for (const [percent, msg] of this.steps) {
      if (this.gated) await new Promise<void>((resolve) => this.releases.push(resolve));
      else await new Promise((resolve) => setImmediate(resolve));
      report.progress(percent, msg);
    }
    if (this.gated) await new Promise<void>((resolve) => this.releases.push(resolve));
    if (this.failWith) throw new Error(this.failWith);
  }

  /** Lets a gated converge take its next step. */
  release(): void {
    this.releases.shift()?.();
  }

  releaseAll(): void {
    this.gated = false;
    for (const r of this.releases.splice(0)) r();
  }

  subscribeLogs(listener: (line: string) => void): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  log(record: Record<string, unknown>): void {
    for (const l of this.logListeners) l(JSON.stringify(record));
  }
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pf9-ctl-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function startServer(dir: string, handlers = new FakeHandlers()) {
  const server = new ControlServer({ socketPath: join(dir, 'hostagent.sock'), logger: silentLogger, handlers });
  await server.start();
  return { server, handlers };
}

/** Reads what the server sends, one parsed object per line, in order. */
export class LineClient {
  readonly socket: Socket;
  readonly received: Array<Record<string, unknown>> = [];
  closed = false;
  private buffer = '';
  private waiters: Array<() => void> = [];

  private constructor(path: string) {
    this.socket = createConnection(path);
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        this.received.push(JSON.parse(this.buffer.slice(0, i)) as Record<string, unknown>);
        this.buffer = this.buffer.slice(i + 1);
      }
      this.wake();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async connect(path: string): Promise<LineClient> {
    const client = new LineClient(path);
    await new Promise<void>((resolve, reject) => {
      client.socket.once('connect', resolve);
      client.socket.once('error', reject);
    });
    return client;
  }

  send(message: unknown): void {
    this.socket.write(typeof message === 'string' ? message : `${JSON.stringify(message)}\n`);
  }

  /** Waits (up to 5 s) until `predicate` holds for something received; returns it. */
  async waitFor(predicate: (m: Record<string, unknown>) => boolean, what = 'message'): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found;
      if (this.closed) throw new Error(`connection closed before ${what}; got ${JSON.stringify(this.received)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  reply(id: unknown): Promise<Record<string, unknown>> {
    return this.waitFor((m) => m.id === id && ('result' in m || 'error' in m), `reply ${String(id)}`);
  }

  async waitClosed(): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection not closed');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Polls `check` until it stops throwing (server-side cleanup happens on the next event-loop turns). */
export async function eventually(check: () => void, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
