/**
 * `pf9-hostagent ctl <method> [json-params]`: one request to the agent's
 * control socket. Prints the result as JSON; `converge` then follows its task
 * (a progress bar on a TTY, one line per update otherwise); `log` streams the
 * agent's log lines until interrupted.
 *
 * Exit codes: 0 ok; 1 error reply, task ended in error, fatal_error, cannot
 * connect or connection lost; 2 usage; 130 interrupted while following a task
 * (the task goes on in the agent).
 */
import { createConnection, type Socket } from 'node:net';
import { buildRequest, encodeLine, parseTeethServerLine, type TeethServerMessage } from '../protocol/teeth.js';
import { formatTaskLine, renderProgressBar } from './progress.js';

export const CTL_USAGE = `Usage: pf9-hostagent ctl [--socket PATH] <method> [json-params]

Talks to the running agent over its control socket (control.socket).

Methods:
  ping [params]        echoes params back
  status               uptime, version, host_id, broker, last converge, apps
  converge             converges now and follows the task until it ends
  task_status [{"task_id": ID}]
                       state of one task (followed while it runs) or of all
  log                  streams the agent's log lines (JSON) until Ctrl-C

Exit codes: 0 ok, 1 error (reply, task, connection), 2 usage, 130 interrupted.
`;

export interface WritableLike {
  write(chunk: string): unknown;
}

export interface CtlOptions {
  socketPath: string;
  stdout: WritableLike;
  stderr: WritableLike;
  isTTY: boolean;
  /** Aborted on SIGINT by the caller: ends a `log` stream (exit 0) or stops following a task (exit 130). */
  signal?: AbortSignal;
}

const REQUEST_ID = 1;
/** Status replies can be large (every app's config); this only stops a runaway peer. */
const MAX_REPLY_LINE_BYTES = 16 * 1024 * 1024;

export async function runCtl(argv: readonly string[], opts: CtlOptions): Promise<number> {
  const args = [...argv];
  let socketPath = opts.socketPath;
  if (args[0] === '--socket') {
    if (args[1] === undefined) return usage(opts, '--socket needs a path');
    socketPath = args[1];
    args.splice(0, 2);
  }
  if (args[0] === '-h' || args[0] === '--help') {
    opts.stdout.write(CTL_USAGE);
    return 0;
  }
  const [method, rawParams, ...extra] = args;
  if (method === undefined) return usage(opts, 'a method is required');
  if (extra.length > 0) return usage(opts, `unexpected argument ${extra[0]}`);
  let params: Record<string, unknown> = {};
  if (rawParams !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(rawParams);
    } catch (err) {
      return usage(opts, `params are not valid JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return usage(opts, 'params must be a JSON object, e.g. \'{"a":1}\'');
    params = value as Record<string, unknown>;
  }
  return new CtlSession(socketPath, method, params, opts).run();
}

function usage(opts: CtlOptions, msg: string): number {
  opts.stderr.write(`pf9-hostagent ctl: ${msg}\n\n${CTL_USAGE}`);
  return 2;
}

/** One connection, one request, then whatever follows it (task pushes, log lines). */
class CtlSession {
  private socket: Socket | undefined;
  private buffer = '';
  private finish: ((code: number) => void) | undefined;
  private connected = false;
  private barShown = false;
  private followedTask: string | undefined;

  constructor(
    private readonly socketPath: string,
    private readonly method: string,
    private readonly params: Record<string, unknown>,
    private readonly opts: CtlOptions,
  ) {}

  run(): Promise<number> {
    if (this.opts.signal?.aborted) return Promise.resolve(130);
    return new Promise<number>((resolve) => {
      const socket = createConnection(this.socketPath);
      this.socket = socket;
      const onAbort = (): void => this.done(this.method === 'log' ? 0 : 130, this.followedTask ? `stopped following task ${this.followedTask}; it goes on in the agent` : undefined);
      this.finish = (code) => {
        this.opts.signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(code);
      };
      this.opts.signal?.addEventListener('abort', onAbort, { once: true });
      socket.setEncoding('utf8');
      socket.on('connect', () => {
        this.connected = true;
        socket.write(encodeLine(buildRequest(REQUEST_ID, this.method, this.params)));
      });
      socket.on('data', (chunk: string) => this.onData(chunk));
      socket.on('error', (err: NodeJS.ErrnoException) => this.done(1, this.connectError(err)));
      socket.on('close', () => this.done(1, 'the agent closed the connection'));
    });
  }

  private connectError(err: NodeJS.ErrnoException): string {
    if (this.connected) return `connection to ${this.socketPath} lost: ${err.message}`;
    const why: Record<string, string> = {
      ENOENT: 'no such socket (is the agent running? is control.socket set to this path?)',
      ECONNREFUSED: 'nothing is listening (the agent is not running, or left a stale socket)',
      EACCES: 'permission denied (run as the agent user or root)',
    };
    return `cannot connect to the agent's control socket ${this.socketPath}: ${why[err.code ?? ''] ?? err.message}`;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let newline;
    while (this.finish && (newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (line.trim() === '') continue;
      let message: TeethServerMessage;
      try {
        message = parseTeethServerLine(line);
      } catch (err) {
        this.done(1, (err as Error).message);
        return;
      }
      this.onMessage(message);
    }
    if (this.buffer.length > MAX_REPLY_LINE_BYTES) this.done(1, 'the agent sent a line longer than 16 MiB');
  }

  private onMessage(message: TeethServerMessage): void {
    switch (message.kind) {
      case 'fatal':
        this.done(1, `the agent refused the request: ${message.msg}`);
        return;
      case 'error':
        this.done(1, `error: ${message.msg}`);
        return;
      case 'result':
        this.onResult(message.result);
        return;
      case 'push':
        if (message.method === 'log' && this.method === 'log') this.opts.stdout.write(`${JSON.stringify(message.params)}\n`);
        else if (message.method === 'task_status' && this.followedTask && message.params.task_id === this.followedTask) this.onTaskStatus(message.params);
        return;
    }
  }

  private onResult(result: unknown): void {
    const task = result as { task_id?: unknown; state?: unknown } | null;
    if (this.method === 'converge' && typeof task?.task_id === 'string') {
      this.followedTask = task.task_id;
      this.opts.stderr.write(`task ${task.task_id} started\n`);
      return;
    }
    if (this.method === 'task_status' && typeof task?.task_id === 'string' && task.state === 'running') {
      this.followedTask = task.task_id;
      this.onTaskStatus(task);
      return;
    }
    if (this.method === 'log') return; // the result only confirms the subscription; lines follow
    this.opts.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    this.done(0);
  }

  private onTaskStatus(params: Record<string, unknown>): void {
    const state = params.state;
    if (this.opts.isTTY) {
      this.opts.stderr.write(`\r${renderProgressBar(params)}\x1b[K`);
      this.barShown = true;
    } else {
      this.opts.stdout.write(`${formatTaskLine(params)}\n`);
    }
    if (state === 'complete' || state === 'error') {
      if (this.barShown) this.opts.stderr.write('\n');
      this.barShown = false;
      if (this.opts.isTTY) this.opts.stdout.write(`${formatTaskLine(params)}\n`);
      this.done(state === 'complete' ? 0 : 1);
    }
  }

  private done(code: number, msg?: string): void {
    const finish = this.finish;
    if (!finish) return;
    this.finish = undefined;
    if (this.barShown) this.opts.stderr.write('\n');
    if (msg) this.opts.stderr.write(`pf9-hostagent ctl: ${msg}\n`);
    finish(code);
  }
}
