/**
 * One client of the control socket: frames lines, dispatches requests, and
 * holds that client's subscriptions (log lines, task updates) so that they
 * all go away with the socket, however it ends.
 *
 * Subscriptions:
 * - `converge` subscribes its caller to that task's task_status pushes
 *   (tagged with the converge request's id) until the task ends.
 * - `task_status {task_id}` answers that task's state and, while it runs,
 *   subscribes the caller to it; `task_status {}` answers every known task
 *   and subscribes the caller to updates of all tasks, now and later.
 * - `log` subscribes the caller to the agent's log lines.
 * None of these can be undone except by closing the connection: a client
 * that wants a snapshot only reads its reply and closes.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';
import {
  MAX_REQUEST_LINE_BYTES,
  encodeLine,
  errorReply,
  fatalError,
  parseTeethRequest,
  push,
  resultReply,
  taskStatusPush,
  type TeethId,
  type TeethRequest,
} from '../protocol/teeth.js';
import type { ControlHandlers } from './handlers.js';
import type { TaskInfo, TaskRegistry } from './tasks.js';

export const METHODS = ['ping', 'status', 'converge', 'log', 'task_status'] as const;

/** Beyond this much unsent output to one client, log lines to it are dropped (a stalled `ctl log` must not grow the agent). */
const MAX_PENDING_OUTPUT = 1024 * 1024;
const ALL_TASKS = '*';

export interface ConnectionContext {
  handlers: ControlHandlers;
  tasks: TaskRegistry;
  logger: Logger;
  maxLineBytes?: number;
}

export class ControlConnection {
  private buffer = '';
  private closed = false;
  private logUnsubscribe: (() => void) | undefined;
  private droppedLogLines = 0;
  /** task id (or '*') -> id of the request that subscribed, used to tag pushes. */
  readonly taskSubscriptions = new Map<string, TeethId>();

  constructor(
    private readonly socket: Socket,
    private readonly ctx: ConnectionContext,
    private readonly onClosed: (conn: ControlConnection) => void,
  ) {
    socket.setEncoding('utf8'); // the decoder keeps a multi-byte character split across chunks whole
    socket.on('data', (chunk: string) => this.onData(chunk));
    // EPIPE / ECONNRESET from a client that went away: 'close' follows, which cleans up.
    socket.on('error', (err) => this.ctx.logger.debug({ event: 'control.client_error', error: err.message }, 'control client error'));
    socket.on('close', () => this.cleanup());
  }

  get subscribedToLogs(): boolean {
    return this.logUnsubscribe !== undefined;
  }

  /** Called by the server for every task update; forwards it when this client follows that task. */
  taskUpdated(task: TaskInfo): void {
    const id = this.taskSubscriptions.get(task.task_id) ?? this.taskSubscriptions.get(ALL_TASKS);
    if (id === undefined) return;
    const { task_id, state, percent, eta, msg } = task;
    this.send(taskStatusPush({ task_id, state, percent: Math.floor(percent), eta, msg }, id));
    if (state !== 'running') this.taskSubscriptions.delete(task_id);
  }

  destroy(): void {
    this.cleanup();
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    if (this.closed) return;
    this.buffer += chunk;
    let newline;
    while (!this.closed && (newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      if (line.trim() !== '') this.onLine(line);
    }
    const max = this.ctx.maxLineBytes ?? MAX_REQUEST_LINE_BYTES;
    // Checked on the unterminated rest, so a client cannot make the agent buffer without bound.
    if (!this.closed && Buffer.byteLength(this.buffer, 'utf8') > max) this.fatal(`request line longer than ${max} bytes`);
  }

  private onLine(line: string): void {
    const parsed = parseTeethRequest(line);
    if (!parsed.ok) {
      if (parsed.id === undefined) this.fatal(parsed.msg);
      else this.send(errorReply(parsed.id, parsed.msg));
      return;
    }
    const { request } = parsed;
    this.dispatch(request).then(
      (result) => this.send(resultReply(request.id, result)),
      (err: unknown) => this.send(errorReply(request.id, err instanceof Error ? err.message : String(err))),
    );
  }

  private async dispatch(req: TeethRequest): Promise<unknown> {
    switch (req.method) {
      case 'ping':
        return req.params;
      case 'status':
        return this.ctx.handlers.status();
      case 'converge': {
        const { task, joined } = this.ctx.tasks.start('converge', (reporter) => this.ctx.handlers.converge(reporter));
        this.taskSubscriptions.set(task.task_id, req.id);
        return { task_id: task.task_id, joined };
      }
      case 'task_status':
        return this.taskStatus(req);
      case 'log':
        if (!this.logUnsubscribe) this.logUnsubscribe = this.ctx.handlers.subscribeLogs((line) => this.sendLog(line));
        return { subscribed: true };
      default:
        if (/^(decom|standbye)\./.test(req.method)) throw new Error(`method "${req.method}" is not supported by this agent`);
        throw new Error(`unknown method "${req.method}"; known: ${METHODS.join(', ')}`);
    }
  }

  private taskStatus(req: TeethRequest): unknown {
    const taskId = req.params.task_id;
    if (taskId === undefined) {
      this.taskSubscriptions.set(ALL_TASKS, req.id);
      return { tasks: this.ctx.tasks.list().map(wireTask) };
    }
    if (typeof taskId !== 'string') throw new Error('params.task_id must be a string');
    const task = this.ctx.tasks.get(taskId);
    if (!task) throw new Error(`no task "${taskId}" (finished tasks are kept for a while, then forgotten)`);
    if (task.state === 'running') this.taskSubscriptions.set(taskId, req.id);
    return wireTask(task);
  }

  private sendLog(line: string): void {
    if (this.closed) return;
    if (this.socket.writableLength > MAX_PENDING_OUTPUT) {
      this.droppedLogLines += 1;
      return;
    }
    if (this.droppedLogLines > 0) {
      this.send(push('log', { level: 'warn', event: 'control.log_dropped', dropped: this.droppedLogLines, msg: 'log lines dropped: client too slow' }));
      this.droppedLogLines = 0;
    }
    let record: Record<string, unknown>;
    try {
      const value: unknown = JSON.parse(line);
      record = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { msg: line };
    } catch {
      record = { msg: line };
    }
    this.send(push('log', record));
  }

  private send(message: unknown): void {
    if (this.closed || !this.socket.writable) return;
    this.socket.write(encodeLine(message));
  }

  /** A line we cannot frame or tie to a request: say why, then close (teeth's fatal_error). */
  private fatal(msg: string): void {
    if (this.closed) return;
    this.ctx.logger.warn({ event: 'control.fatal_error', error: msg }, 'control client sent garbage; closing');
    if (this.socket.writable) this.socket.end(encodeLine(fatalError(msg)));
    this.cleanup();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = '';
    this.logUnsubscribe?.();
    this.logUnsubscribe = undefined;
    this.taskSubscriptions.clear();
    this.onClosed(this);
  }
}

function wireTask(task: TaskInfo): Record<string, unknown> {
  return { ...task, percent: Math.floor(task.percent) };
}
