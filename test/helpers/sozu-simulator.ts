/**
 * A stand-in for sozu 0.x (no sozu binary can be installed here) that
 * speaks its command protocol byte for byte on a unix socket: 0-byte framed
 * JSON requests, answers by id, `Processing` then `Ok` for work that takes
 * time (binding a listener, saving or loading state), `Error` with a reason
 * for orders sozu refuses (unknown application, duplicate front, removing
 * what is absent, a port that cannot be bound). It really proxies on
 * loopback what it was told (see sozu/sim-proxy.ts).
 *
 * SAVE_STATE writes, like sozu, the orders that rebuild the state as framed
 * messages; LOAD_STATE replays such a file. `failNext(type, message)` makes
 * the next order of that type fail, for tests of refusals sozu would only
 * give in situations hard to build on a test machine.
 */
import { once } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { encodeFrame, FrameDecoder } from '../../src/protocol/sozu/framing.js';
import { makeProxyRequest, parseOrder, parseRequest, type SozuOrder, type SozuRequest, type SozuResponse } from '../../src/protocol/sozu/messages.js';
import { Refused, SimProxy } from './sozu/sim-proxy.js';

const SLOW_ORDERS = new Set(['ACTIVATE_LISTENER', 'DEACTIVATE_LISTENER']);

export interface SozuSimulatorOptions {
  socketPath: string;
  /** How long "slow" work waits between Processing and its final answer; default 5 ms. */
  processingDelayMs?: number;
}

export class SozuSimulator {
  readonly proxy = new SimProxy();
  /** Every request received, in order (for assertions). */
  readonly received: SozuRequest[] = [];
  /** Frames that did not parse, as the simulator reported them. */
  readonly badFrames: string[] = [];
  private readonly failures = new Map<string, string>();
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SozuSimulatorOptions) {}

  async start(): Promise<this> {
    await rm(this.opts.socketPath, { force: true });
    const server = net.createServer((s) => this.accept(s));
    server.listen(this.opts.socketPath);
    await once(server, 'listening');
    this.server = server;
    return this;
  }

  failNext(orderType: string, message: string): void {
    this.failures.set(orderType, message);
  }

  /** What DUMP_STATE answers. */
  dump(): Record<string, unknown> {
    const p = this.proxy;
    return {
      listeners: [...p.listeners.values()].map((l) => ({ address: l.address, proxy: l.proxy, active: l.server !== undefined })),
      applications: [...p.applications.values()],
      backends: p.backends,
      http_fronts: p.httpFronts,
      https_fronts: p.httpsFronts,
      tcp_fronts: p.tcpFronts,
      certificates: [...p.certificates.keys()].map((fingerprint) => ({ fingerprint })),
    };
  }

  /** sozu going away: command connections cut, listeners closed, socket file removed. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.proxy.shutdown();
    await rm(this.opts.socketPath, { force: true });
  }

  private accept(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    const decoder = new FrameDecoder();
    s.on('data', (chunk: Buffer) => {
      const { messages, problems } = decoder.push(chunk);
      for (const p of problems) this.badFrames.push(p.kind);
      for (const m of messages) {
        let req: SozuRequest;
        try {
          req = parseRequest(m);
        } catch (err) {
          const id = typeof m.id === 'string' ? m.id : '';
          if (id) answer(s, { id, version: 0, status: 'Error', message: (err as Error).message });
          continue;
        }
        this.received.push(req);
        // sozu's master handles commands one after another; so does the simulator.
        this.chain = this.chain.then(() => this.handle(s, req)).catch(() => undefined);
      }
    });
  }

  private async handle(s: net.Socket, req: SozuRequest): Promise<void> {
    const ok = (message = '', data?: unknown): void => answer(s, { id: req.id, version: 0, status: 'Ok', message, ...(data === undefined ? {} : { data }) });
    const error = (message: string): void => answer(s, { id: req.id, version: 0, status: 'Error', message });
    const processing = async (): Promise<void> => {
      answer(s, { id: req.id, version: 0, status: 'Processing', message: '' });
      await new Promise((r) => setTimeout(r, this.opts.processingDelayMs ?? 5));
    };
    try {
      switch (req.type) {
        case 'PROXY': {
          const order = parseOrder(req.data);
          if (SLOW_ORDERS.has(order.type)) await processing();
          await this.run(order);
          return ok();
        }
        case 'DUMP_STATE':
          return ok('', { type: 'STATE', data: this.dump() });
        case 'STATUS':
          return ok('', { type: 'WORKERS', data: [{ id: 0, pid: process.pid, run_state: 'RUNNING' }] });
        case 'SAVE_STATE': {
          await processing();
          const orders = this.rebuildOrders();
          await writeFile(pathOf(req), Buffer.concat(orders.map((o, i) => encodeFrame(makeProxyRequest(`SAVE-${i}`, o)))), { mode: 0o600 });
          return ok(`saved ${orders.length} config messages to ${pathOf(req)}`);
        }
        case 'LOAD_STATE': {
          await processing();
          const { messages } = new FrameDecoder().push(await readFile(pathOf(req)));
          for (const m of messages) await this.run(parseOrder(parseRequest(m).data));
          return ok(`loaded ${messages.length} config messages from ${pathOf(req)}`);
        }
        case 'SOFT_STOP':
        case 'HARD_STOP':
          ok('stopping');
          return void setImmediate(() => void this.close());
        default:
          return error(`${req.type} is not supported by the simulator`);
      }
    } catch (err) {
      error((err as Error).message);
    }
  }

  private async run(order: SozuOrder): Promise<void> {
    const failure = this.failures.get(order.type);
    if (failure !== undefined) {
      this.failures.delete(order.type);
      throw new Refused(failure);
    }
    await this.proxy.dispatch(order);
  }

  /** The orders that rebuild the current state from nothing (what sozu's saved state holds). */
  private rebuildOrders(): SozuOrder[] {
    const p = this.proxy;
    const out: SozuOrder[] = [];
    for (const l of p.listeners.values()) {
      const base = { front: l.address, public_address: null, expect_proxy: false };
      const http = { ...base, answer_404: '', answer_503: '', sticky_name: 'SOZUBALANCEID' };
      if (l.proxy === 'tcp') out.push({ type: 'ADD_TCP_LISTENER', data: base });
      else if (l.proxy === 'https') out.push({ type: 'ADD_HTTPS_LISTENER', data: { ...http, versions: [], cipher_list: '', rustls_cipher_list: [], tls_provider: 'rustls' } });
      else out.push({ type: 'ADD_HTTP_LISTENER', data: http });
      if (l.server) out.push({ type: 'ACTIVATE_LISTENER', data: { front: l.address, proxy: l.proxy, from_scm: false } });
    }
    for (const a of p.applications.values()) out.push({ type: 'ADD_APPLICATION', data: a });
    for (const c of p.certificates.values()) out.push({ type: 'ADD_CERTIFICATE', data: { certificate: c, names: [] } });
    for (const b of p.backends) out.push({ type: 'ADD_BACKEND', data: b });
    for (const f of p.httpFronts) out.push({ type: 'ADD_HTTP_FRONT', data: f });
    for (const f of p.httpsFronts) out.push({ type: 'ADD_HTTPS_FRONT', data: f });
    for (const f of p.tcpFronts) out.push({ type: 'ADD_TCP_FRONT', data: f });
    return out;
  }
}

export function startSozuSimulator(opts: SozuSimulatorOptions): Promise<SozuSimulator> {
  return new SozuSimulator(opts).start();
}

function answer(s: net.Socket, r: SozuResponse): void {
  if (!s.destroyed) s.write(encodeFrame(r));
}

function pathOf(req: SozuRequest): string {
  const path = (req.data as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string' || path === '') throw new Refused(`${req.type} needs data.path`);
  return path;
}
