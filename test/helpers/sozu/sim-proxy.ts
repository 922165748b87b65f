/**
 * The routing half of the sozu simulator: what sozu 0.x holds (listeners,
 * applications, backends, fronts, certificates), the checks its state
 * applies to each order, and real proxying on the listeners it activated:
 * HTTP(S) by Host + longest path prefix, TCP by listener, round robin over
 * an application's backends (backups only when no primary is left).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { SozuOrder, SozuOrderData } from '../../../src/protocol/sozu/messages.js';

type HttpFront = SozuOrderData['ADD_HTTP_FRONT'];
type HttpsFront = SozuOrderData['ADD_HTTPS_FRONT'];
type TcpFront = SozuOrderData['ADD_TCP_FRONT'];
type Backend = SozuOrderData['ADD_BACKEND'];
type Cert = SozuOrderData['ADD_CERTIFICATE']['certificate'];

interface Listener {
  address: string;
  proxy: 'http' | 'https' | 'tcp';
  server: net.Server | undefined;
  sockets: Set<net.Socket>;
}

/** An order sozu refuses: its message goes back in the Error answer. */
export class Refused extends Error {}

export class SimProxy {
  readonly listeners = new Map<string, Listener>();
  readonly applications = new Map<string, SozuOrderData['ADD_APPLICATION']>();
  backends: Backend[] = [];
  httpFronts: HttpFront[] = [];
  httpsFronts: HttpsFront[] = [];
  tcpFronts: TcpFront[] = [];
  readonly certificates = new Map<string, Cert>();
  private readonly rr = new Map<string, number>();

  /** Applies one order; throws Refused for what sozu would refuse. */
  async dispatch(order: SozuOrder): Promise<void> {
    switch (order.type) {
      case 'ADD_HTTP_LISTENER':
      case 'ADD_HTTPS_LISTENER':
      case 'ADD_TCP_LISTENER': {
        const proxy = order.type === 'ADD_HTTP_LISTENER' ? 'http' : order.type === 'ADD_HTTPS_LISTENER' ? 'https' : 'tcp';
        if (this.listeners.has(order.data.front)) throw new Refused(`there is already a listener for address ${order.data.front}`);
        this.listeners.set(order.data.front, { address: order.data.front, proxy, server: undefined, sockets: new Set() });
        return;
      }
      case 'ACTIVATE_LISTENER': {
        const l = this.listener(order.data.front, order.data.proxy);
        if (!l.server) l.server = await this.bind(l);
        return;
      }
      case 'DEACTIVATE_LISTENER':
        await this.unbind(this.listener(order.data.front, order.data.proxy));
        return;
      case 'REMOVE_LISTENER': {
        const l = this.listener(order.data.front, order.data.proxy);
        await this.unbind(l);
        this.listeners.delete(l.address);
        return;
      }
      case 'ADD_APPLICATION':
        this.applications.set(order.data.app_id, order.data);
        return;
      case 'REMOVE_APPLICATION':
        if (!this.applications.delete(order.data)) throw new Refused(`no application ${order.data}`);
        return;
      case 'ADD_BACKEND':
        this.app(order.data.app_id);
        if (this.backends.some((b) => b.app_id === order.data.app_id && b.backend_id === order.data.backend_id)) {
          throw new Refused(`backend ${order.data.backend_id} already exists for application ${order.data.app_id}`);
        }
        this.backends.push(order.data);
        return;
      case 'REMOVE_BACKEND': {
        const d = order.data;
        const i = this.backends.findIndex((b) => b.app_id === d.app_id && b.backend_id === d.backend_id && b.ip_address === d.ip_address && b.port === d.port);
        if (i < 0) throw new Refused(`no backend ${d.backend_id} at ${d.ip_address}:${d.port} for application ${d.app_id}`);
        this.backends.splice(i, 1);
        return;
      }
      case 'ADD_CERTIFICATE': {
        let fp: string;
        try {
          fp = createHash('sha256').update(new X509Certificate(order.data.certificate.certificate).raw).digest('hex');
          tls.createSecureContext({ cert: order.data.certificate.certificate, key: order.data.certificate.key });
        } catch (err) {
          throw new Refused(`could not parse the certificate or key: ${(err as Error).message}`);
        }
        this.certificates.set(fp, order.data.certificate);
        return;
      }
      case 'REMOVE_CERTIFICATE':
        if (!this.certificates.has(order.data.fingerprint)) throw new Refused(`no certificate ${order.data.fingerprint}`);
        if (this.httpsFronts.some((f) => f.fingerprint === order.data.fingerprint)) throw new Refused(`certificate ${order.data.fingerprint} is used by a front`);
        this.certificates.delete(order.data.fingerprint);
        return;
      case 'ADD_HTTP_FRONT':
        this.httpFronts = this.addFront(this.httpFronts, order.data, 'http');
        return;
      case 'ADD_HTTPS_FRONT':
        if (!this.certificates.has(order.data.fingerprint)) throw new Refused(`no certificate ${order.data.fingerprint} for front ${order.data.hostname}`);
        this.httpsFronts = this.addFront(this.httpsFronts, order.data, 'https');
        return;
      case 'ADD_TCP_FRONT':
        if (this.tcpFronts.some((f) => f.address === order.data.address)) throw new Refused(`there is already a TCP front on ${order.data.address}`);
        this.tcpFronts = this.addFront(this.tcpFronts, order.data, 'tcp');
        return;
      case 'REMOVE_HTTP_FRONT':
        this.httpFronts = removeFront(this.httpFronts, order.data);
        return;
      case 'REMOVE_HTTPS_FRONT':
        this.httpsFronts = removeFront(this.httpsFronts, order.data);
        return;
      case 'REMOVE_TCP_FRONT':
        this.tcpFronts = removeFront(this.tcpFronts, order.data);
        return;
    }
  }

  /** Closes every listener (sozu going away). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.listeners.values()].map((l) => this.unbind(l)));
  }

  private listener(address: string, proxy: string): Listener {
    const l = this.listeners.get(address);
    if (!l || l.proxy !== proxy) throw new Refused(`no ${proxy} listener for address ${address}`);
    return l;
  }

  private app(appId: string): void {
    if (!this.applications.has(appId)) throw new Refused(`no application ${appId}`);
  }

  private addFront<T extends { app_id: string; address: string }>(list: T[], front: T, proxy: string): T[] {
    this.app(front.app_id);
    this.listener(front.address, proxy);
    if (list.some((f) => same(f, front))) throw new Refused(`front ${JSON.stringify(front)} already exists`);
    return [...list, front];
  }

  private pick(appId: string): Backend | undefined {
    const all = this.backends.filter((b) => b.app_id === appId);
    const primary = all.filter((b) => b.backup !== true);
    const pool = primary.length > 0 ? primary : all;
    if (pool.length === 0) return undefined;
    const n = this.rr.get(appId) ?? 0;
    this.rr.set(appId, n + 1);
    return pool[n % pool.length];
  }

  private routeHttp(l: Listener, host: string, path: string): string | undefined {
    const fronts: HttpFront[] = l.proxy === 'https' ? this.httpsFronts : this.httpFronts;
    const hostname = host.replace(/:\d+$/, '').toLowerCase();
    const match = fronts
      .filter((f) => f.address === l.address && f.hostname.toLowerCase() === hostname && path.startsWith(f.path_begin))
      .sort((a, b) => b.path_begin.length - a.path_begin.length)[0];
    return match?.app_id;
  }

  private async bind(l: Listener): Promise<net.Server> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const appId = this.routeHttp(l, req.headers.host ?? '', req.url ?? '/');
      if (appId === undefined) return void res.writeHead(404).end();
      const b = this.pick(appId);
      if (!b) return void res.writeHead(503).end();
      const up = http.request({ host: b.ip_address, port: b.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(503).end()));
      req.pipe(up);
    };
    let server: net.Server;
    if (l.proxy === 'http') server = http.createServer(handler);
    else if (l.proxy === 'https') {
      server = https.createServer({ SNICallback: (name, cb) => cb(null, this.contextFor(l, name)) }, handler);
    } else {
      server = net.createServer((client) => {
        const front = this.tcpFronts.find((f) => f.address === l.address);
        const b = front ? this.pick(front.app_id) : undefined;
        if (!b) return void client.destroy();
        const up = net.connect(b.port, b.ip_address);
        client.pipe(up).pipe(client);
        up.on('error', () => client.destroy());
        client.on('error', () => up.destroy());
      });
    }
    server.on('connection', (s: net.Socket) => {
      l.sockets.add(s);
      s.on('close', () => l.sockets.delete(s));
    });
    const { host, port } = splitAddress(l.address);
    server.listen(port, host);
    try {
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e as Error))]);
    } catch (err) {
      throw new Refused(`could not bind listener ${l.address}: ${(err as Error).message}`);
    }
    return server;
  }

  private contextFor(l: Listener, name: string): tls.SecureContext | undefined {
    const front = this.httpsFronts.find((f) => f.address === l.address && f.hostname.toLowerCase() === name.toLowerCase());
    const cert = front ? this.certificates.get(front.fingerprint) : undefined;
    return cert ? tls.createSecureContext({ cert: [cert.certificate, ...cert.certificate_chain].join('\n'), key: cert.key }) : undefined;
  }

  private async unbind(l: Listener): Promise<void> {
    const s = l.server;
    if (!s) return;
    l.server = undefined;
    for (const sock of l.sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

function removeFront<T>(list: T[], front: T): T[] {
  const i = list.findIndex((f) => same(f, front));
  if (i < 0) throw new Refused(`no front ${JSON.stringify(front)}`);
  return list.filter((_, j) => j !== i);
}

function same(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): string => JSON.stringify(v, Object.keys(v as object).sort());
  return norm(a) === norm(b);
}

export function splitAddress(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m?.[1] || !m[2]) throw new Refused(`invalid socket address ${address}`);
  return { host: m[1], port: Number(m[2]) };
}
