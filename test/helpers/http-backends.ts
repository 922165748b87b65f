/**
 * Small backend servers for load-balancer tests, on 127.0.0.1 port 0 (the
 * OS picks a free port): each answers with its own id and counts what it
 * served, so a test can tell how a proxy spread its traffic.
 *
 * - HTTP: every request gets `200` with the id as body (and `x-backend-id`);
 *   requests for `monitorPath` (default `/health`) are health checks and are
 *   counted apart, so a proxy's HTTP monitor does not skew a traffic split.
 * - TCP: a client sends a line, the backend answers `<id>\n` and counts one
 *   request. A proxy's CONNECT monitor opens and closes a connection without
 *   sending anything, so it counts as a connection, never as a request.
 *
 * `kill()` stops listening and cuts live connections (a backend that died);
 * `revive()` listens again on the same port.
 */
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';

export interface TestBackend {
  readonly id: string;
  readonly kind: 'http' | 'tcp';
  readonly address: '127.0.0.1';
  readonly port: number;
  /** Requests served (HTTP: not counting monitor requests; TCP: lines answered). */
  readonly requests: number;
  /** HTTP requests for the monitor path. */
  readonly monitorRequests: number;
  /** Connections accepted since start (monitor connections included). */
  readonly connections: number;
  readonly listening: boolean;
  /** Sets the counters back to 0. */
  reset(): void;
  /** Stop listening and destroy live connections. */
  kill(): Promise<void>;
  /** Listen again on the same port. */
  revive(): Promise<void>;
  close(): Promise<void>;
}

export interface BackendOptions {
  /** HTTP only; default `/health`. */
  monitorPath?: string;
}

class Backend implements TestBackend {
  readonly address = '127.0.0.1' as const;
  port = 0;
  requests = 0;
  monitorRequests = 0;
  connections = 0;
  private readonly sockets = new Set<net.Socket>();
  private readonly server: net.Server;

  constructor(
    readonly id: string,
    readonly kind: 'http' | 'tcp',
    opts: BackendOptions,
  ) {
    const monitorPath = opts.monitorPath ?? '/health';
    this.server =
      kind === 'http'
        ? http.createServer((req, res) => {
            if ((req.url ?? '/').split('?')[0] === monitorPath) this.monitorRequests++;
            else this.requests++;
            req.resume();
            res.setHeader('x-backend-id', id);
            res.setHeader('content-type', 'text/plain');
            res.end(id);
          })
        : net.createServer((socket) => this.onTcp(socket));
    this.server.on('connection', (socket: net.Socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined); // a client (or proxy check) resetting is normal here
    });
  }

  get listening(): boolean {
    return this.server.listening;
  }

  private onTcp(socket: net.Socket): void {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        buffered = buffered.slice(nl + 1);
        this.requests++;
        socket.write(`${this.id}\n`);
      }
    });
  }

  async listen(): Promise<void> {
    this.server.listen(this.port, this.address);
    await once(this.server, 'listening');
    const addr = this.server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
  }

  reset(): void {
    this.requests = 0;
    this.monitorRequests = 0;
    this.connections = 0;
  }

  async kill(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    if (this.server instanceof http.Server) this.server.closeAllConnections();
    await closed;
  }

  revive(): Promise<void> {
    return this.listen();
  }

  close(): Promise<void> {
    return this.kill();
  }
}

export async function startHttpBackend(id: string, opts: BackendOptions = {}): Promise<TestBackend> {
  const b = new Backend(id, 'http', opts);
  await b.listen();
  return b;
}

export async function startTcpBackend(id: string): Promise<TestBackend> {
  const b = new Backend(id, 'tcp', {});
  await b.listen();
  return b;
}

/** Starts one backend per id; `closeAll` for afterAll. */
export async function startBackends(
  kind: 'http' | 'tcp',
  ids: readonly string[],
  opts: BackendOptions = {},
): Promise<TestBackend[]> {
  return Promise.all(ids.map((id) => (kind === 'http' ? startHttpBackend(id, opts) : startTcpBackend(id))));
}

export async function closeAll(backends: Iterable<TestBackend>): Promise<void> {
  await Promise.all([...backends].map((b) => b.close()));
}

/** One line over a fresh TCP connection to `port`; resolves with the reply line (a TCP backend's id). */
export async function tcpRequest(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host });
    let data = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no reply from ${host}:${port} in ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('hello\n'));
    socket.on('data', (chunk: string) => {
      data += chunk;
      const nl = data.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        socket.end();
        resolve(data.slice(0, nl));
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`connection to ${host}:${port} closed without a reply`));
    });
  });
}

export interface HttpReply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** GET `http://host:port<path>`; `agent` decides keep-alive (default: a fresh connection per request). */
export async function httpGet(
  port: number,
  path = '/',
  opts: { host?: string; agent?: http.Agent | false; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpReply> {
  const { host = '127.0.0.1', agent = false, headers = {}, timeoutMs = 5000 } = opts;
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent, headers, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port}${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it for a listener that is closed again). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!addr || typeof addr !== 'object') throw new Error('no port from the OS');
  return addr.port;
}
