/**
 * The local control socket: a unix socket speaking teeth JSON lines, for an
 * operator on the host (`pf9-hostagent ctl`). Access control is the file
 * mode (0600 by default: the agent's user and root), so the socket is bound
 * under a restrictive umask and never exists with looser permissions.
 *
 * A socket file left by a killed agent is removed at start, but only when it
 * is a socket nobody answers on: a regular file at that path is refused (a
 * mistyped path must not delete someone's file), and a live socket means
 * another agent is running.
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { AgentError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ControlConnection } from './control-connection.js';
import type { ControlHandlers } from './handlers.js';
import { TaskRegistry } from './tasks.js';

export interface ControlServerOptions {
  socketPath: string;
  logger: Logger;
  handlers: ControlHandlers;
  /** Socket file mode; 0o600 = the agent's user only (root bypasses it anyway). */
  mode?: number;
  tasks?: TaskRegistry;
  maxLineBytes?: number;
  /** Clients beyond this are refused at accept, so a runaway script cannot exhaust file descriptors. */
  maxClients?: number;
}

export interface ControlServerStats {
  clients: number;
  logSubscribers: number;
  taskSubscriptions: number;
  taskListeners: number;
}

export class ControlServer {
  readonly socketPath: string;
  readonly tasks: TaskRegistry;
  private readonly opts: ControlServerOptions;
  private readonly mode: number;
  private readonly clients = new Set<ControlConnection>();
  private server: Server | undefined;
  private unsubscribeTasks: (() => void) | undefined;

  constructor(opts: ControlServerOptions) {
    if (typeof opts.socketPath !== 'string' || opts.socketPath === '') {
      throw new AgentError('CONFIG_INVALID', 'control socket path must not be empty (set control.socket)');
    }
    // sun_path is 108 bytes on Linux; Node would fail later with a less helpful EINVAL.
    if (Buffer.byteLength(opts.socketPath) > 107) {
      throw new AgentError('CONFIG_INVALID', `control socket path is longer than 107 bytes: ${opts.socketPath}`);
    }
    const mode = opts.mode ?? 0o600;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new AgentError('CONFIG_INVALID', `control socket mode must be 0..0o777`);
    this.opts = opts;
    this.mode = mode;
    this.socketPath = opts.socketPath;
    this.tasks = opts.tasks ?? new TaskRegistry();
  }

  async start(): Promise<void> {
    if (this.server) return;
    await mkdir(dirname(this.socketPath), { recursive: true, mode: 0o755 });
    await this.removeStaleSocket();
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = this.opts.maxClients ?? 64;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The bind happens synchronously inside listen(), so a umask set around it applies to the
      // socket file and no other code runs in between. umask() throws in worker threads: then
      // the chmod below is the only guard.
      let previous: number | undefined;
      try {
        previous = process.umask(0o777 & ~this.mode);
      } catch {
        previous = undefined;
      }
      try {
        server.listen(this.socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        if (previous !== undefined) process.umask(previous);
      }
    });
    this.server = server;
    await chmod(this.socketPath, this.mode);
    server.on('error', (err) => this.opts.logger.error({ event: 'control.error', error: err.message }, 'control socket error'));
    this.unsubscribeTasks = this.tasks.onUpdate((task) => {
      for (const client of this.clients) client.taskUpdated(task);
    });
    this.opts.logger.info({ event: 'control.listening', socket: this.socketPath, mode: `0${this.mode.toString(8)}` }, 'control socket listening');
  }

  /** Stops accepting, drops every client (and with them their subscriptions), removes the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.unsubscribeTasks?.();
    this.unsubscribeTasks = undefined;
    for (const client of [...this.clients]) client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // Node unlinks a unix socket it listened on when the server closes; this covers the case where it did not.
    await unlink(this.socketPath).catch(() => undefined);
  }

  stats(): ControlServerStats {
    let logSubscribers = 0;
    let taskSubscriptions = 0;
    for (const client of this.clients) {
      if (client.subscribedToLogs) logSubscribers += 1;
      taskSubscriptions += client.taskSubscriptions.size;
    }
    return { clients: this.clients.size, logSubscribers, taskSubscriptions, taskListeners: this.tasks.listenerCount };
  }

  private accept(socket: Socket): void {
    const conn = new ControlConnection(
      socket,
      { handlers: this.opts.handlers, tasks: this.tasks, logger: this.opts.logger, ...(this.opts.maxLineBytes ? { maxLineBytes: this.opts.maxLineBytes } : {}) },
      (closed) => this.clients.delete(closed),
    );
    this.clients.add(conn);
  }

  private async removeStaleSocket(): Promise<void> {
    let stat;
    try {
      stat = await lstat(this.socketPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (!stat.isSocket()) {
      throw new AgentError('CONFIG_INVALID', `${this.socketPath} exists and is not a socket; refusing to replace it (check control.socket)`);
    }
    if (await answers(this.socketPath)) {
      throw new AgentError('CONFIG_INVALID', `another process is listening on ${this.socketPath} (is another agent running?)`);
    }
    await unlink(this.socketPath);
    this.opts.logger.info({ event: 'control.stale_socket_removed', socket: this.socketPath }, 'stale control socket removed');
  }
}

/** True when something accepts connections on the socket (ECONNREFUSED means a leftover file). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
