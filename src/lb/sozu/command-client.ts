/**
 * A client for sozu's command socket (unix stream, 0-byte framed JSON).
 *
 * Timing notes, because this is where such clients go wrong:
 * - sozu answers asynchronously and may answer one id several times
 *   (`Processing`, then `Ok` or `Error`), and answers to different ids may
 *   interleave; so every request waits on its own id, never on "the next
 *   message".
 * - A `Processing` answer proves sozu is alive and working (a listener
 *   binding, a soft stop draining), so it restarts that request's timer
 *   rather than letting a long job time out half way.
 * - A request that times out is forgotten: a late answer for its id is
 *   logged and dropped, never given to a later request.
 * - When the socket closes (sozu restarted), everything in flight fails at
 *   once with LB_APPLY_FAILED; the next request connects again. With
 *   `reconnectDelaysMs` the client also reconnects by itself (delays taken
 *   in turn, the last one repeated) so its owner hears `onConnect` and can
 *   put its state back without waiting for the next Libra request.
 */
import net from 'node:net';
import { LbError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { encodeFrame, FrameDecoder } from '../../protocol/sozu/framing.js';
import {
  makeProxyRequest,
  makeRequest,
  parseResponse,
  type SozuOrder,
  type SozuRequest,
  type SozuRequestType,
  type SozuResponse,
} from '../../protocol/sozu/messages.js';

export const DEFAULT_SOZU_TIMEOUT_MS = 10_000;

/** sozu answered Error: its message is the reason, kept as sozu said it. */
export class SozuRefusedError extends LbError {
  constructor(
    readonly what: string,
    readonly response: SozuResponse,
  ) {
    super('LB_INVALID', `sozu refused ${what}: ${response.message || '(no message)'}`);
  }
}

export interface SozuCommandClientOptions {
  socketPath: string;
  /** Per request, restarted by every Processing answer; default 10 s. */
  timeoutMs?: number;
  maxFrameBytes?: number;
  logger?: Logger;
  /** After each successful connect; `reconnected` is false the first time. */
  onConnect?: (info: { reconnected: boolean }) => void;
  /** Automatic reconnect schedule after a lost connection; absent = reconnect on the next request only. */
  reconnectDelaysMs?: readonly number[];
  /** Injected for tests (no sleeping). */
  setTimer?: (fn: () => void, ms: number) => { clear(): void };
}

interface Pending {
  what: string;
  resolve: (r: SozuResponse) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  onProcessing: ((r: SozuResponse) => void) | undefined;
}

export class SozuCommandClient {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private readonly prefix = `pf9-${process.pid}-${Date.now().toString(36)}`;
  private everConnected = false;
  private closed = false;
  private reconnectAttempt = 0;
  private reconnectTimer: { clear(): void } | undefined;
  private readonly timeoutMs: number;
  private readonly setTimer: NonNullable<SozuCommandClientOptions['setTimer']>;

  constructor(private readonly opts: SozuCommandClientOptions) {
    if (!opts.socketPath) throw new LbError('LB_APPLY_FAILED', 'SozuCommandClient: socketPath is required (lb.sozu.socket)');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_SOZU_TIMEOUT_MS;
    this.setTimer =
      opts.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref();
        return { clear: () => clearTimeout(t) };
      });
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  /** A master message (SAVE_STATE, DUMP_STATE, STATUS, ...); resolves with the final Ok answer. */
  send(type: Exclude<SozuRequestType, 'PROXY'>, data?: unknown, onProcessing?: (r: SozuResponse) => void): Promise<SozuResponse> {
    return this.request((id) => makeRequest(id, type, data), type, onProcessing);
  }

  /** One proxy order (wrapped in PROXY); resolves with the final Ok answer, rejects SozuRefusedError on Error. */
  order(order: SozuOrder, onProcessing?: (r: SozuResponse) => void): Promise<SozuResponse> {
    return this.request((id) => makeProxyRequest(id, order), order.type, onProcessing);
  }

  /** Closes the socket and fails what is in flight; no reconnect afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    this.reconnectTimer?.clear();
    const s = this.socket;
    this.failAll(new LbError('LB_APPLY_FAILED', 'sozu command client closed'));
    if (s) {
      const done = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.destroy();
      await done;
    }
  }

  private async request(build: (id: string) => SozuRequest, what: string, onProcessing?: (r: SozuResponse) => void): Promise<SozuResponse> {
    if (this.closed) throw new LbError('LB_APPLY_FAILED', 'sozu command client closed');
    const socket = await this.connect();
    const id = `${this.prefix}-${++this.seq}`;
    return new Promise<SozuResponse>((resolve, reject) => {
      const p: Pending = { what, resolve, reject, onProcessing, timer: this.armTimer(id, what) };
      this.pending.set(id, p);
      socket.write(encodeFrame(build(id)));
    });
  }

  private armTimer(id: string, what: string): NodeJS.Timeout {
    const t = setTimeout(() => {
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      p.reject(new LbError('LB_APPLY_FAILED', `sozu did not answer ${what} within ${this.timeoutMs} ms (socket ${this.opts.socketPath})`));
    }, this.timeoutMs);
    t.unref();
    return t;
  }

  private connect(): Promise<net.Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection(this.opts.socketPath);
      const decoder = new FrameDecoder(this.opts.maxFrameBytes);
      s.once('connect', () => {
        s.off('error', reject);
        s.on('error', (err) => this.opts.logger?.warn({ event: 'lb.sozu.socket_error', err: err.message }, 'sozu command socket error'));
        this.socket = s;
        this.connecting = undefined;
        const reconnected = this.everConnected;
        this.everConnected = true;
        this.reconnectAttempt = 0;
        resolve(s);
        this.opts.onConnect?.({ reconnected });
      });
      s.once('error', (err) => {
        this.connecting = undefined;
        reject(new LbError('LB_APPLY_FAILED', `cannot reach sozu's command socket ${this.opts.socketPath}: ${err.message}`, { cause: err }));
      });
      s.on('data', (chunk: Buffer) => this.onData(decoder, chunk));
      s.on('close', () => this.onClose(s));
    });
    return this.connecting;
  }

  private onData(decoder: FrameDecoder, chunk: Buffer): void {
    const { messages, problems } = decoder.push(chunk);
    for (const problem of problems) this.opts.logger?.warn({ event: 'lb.sozu.bad_frame', ...problem }, 'skipped a frame from sozu');
    for (const raw of messages) {
      let r: SozuResponse;
      try {
        r = parseResponse(raw);
      } catch (err) {
        this.opts.logger?.warn({ event: 'lb.sozu.bad_response', err: (err as Error).message }, 'skipped a response from sozu');
        continue;
      }
      const p = this.pending.get(r.id);
      if (!p) {
        this.opts.logger?.debug({ event: 'lb.sozu.unmatched', id: r.id, status: r.status }, 'answer for no waiting request');
        continue;
      }
      clearTimeout(p.timer);
      if (r.status === 'Processing') {
        p.timer = this.armTimer(r.id, p.what);
        p.onProcessing?.(r);
        continue;
      }
      this.pending.delete(r.id);
      if (r.status === 'Ok') p.resolve(r);
      else p.reject(new SozuRefusedError(p.what, r));
    }
  }

  private onClose(s: net.Socket): void {
    if (this.socket !== s) return;
    this.socket = undefined;
    this.failAll(new LbError('LB_APPLY_FAILED', `sozu closed its command socket ${this.opts.socketPath}`));
    if (this.closed) return;
    this.opts.logger?.warn({ event: 'lb.sozu.disconnected' }, 'sozu command socket closed');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delays = this.opts.reconnectDelaysMs;
    if (!delays || delays.length === 0 || this.closed) return;
    const ms = delays[Math.min(this.reconnectAttempt, delays.length - 1)] ?? 1000;
    this.reconnectAttempt++;
    this.reconnectTimer = this.setTimer(() => {
      if (this.closed || this.socket) return;
      this.connect().catch(() => this.scheduleReconnect());
    }, ms);
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }
}
