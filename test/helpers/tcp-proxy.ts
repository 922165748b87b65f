/**
 * A TCP proxy between a client under test and a real server (RabbitMQ),
 * under the test's control, to simulate outages without touching the
 * server:
 *
 * - `refuse()`: the port stops listening, so new connects fail at once with
 *   ECONNREFUSED (a broker that is down), and live connections are cut.
 * - `accept()`: listen again on the same port (the broker is back).
 * - `dropConnections()`: cut live connections but keep listening (a broker
 *   restart as a client sees it, or a NAT box forgetting its flows).
 *
 * Connections are cut with `destroy()`, which closes the socket at once;
 * the client sees a reset or end of stream, as when a broker process dies.
 */
import net from 'node:net';
import { once } from 'node:events';

export interface TcpProxyOptions {
  target: { host: string; port: number };
}

export interface TcpProxy {
  /** The port on 127.0.0.1 clients connect to; stays the same across refuse()/accept(). */
  readonly port: number;
  /** Live client connections now. */
  readonly connectionCount: number;
  /** Client connections accepted since start; each connection's sequence number is its value then. */
  readonly acceptedCount: number;
  readonly listening: boolean;
  /** Stop listening (new connects are refused) and destroy live connections. */
  refuse(): Promise<void>;
  /** Listen again on the same port. */
  accept(): Promise<void>;
  /** Destroy live connections, keep listening. Returns how many were cut. */
  dropConnections(): number;
  /**
   * Resolves once a live connection exists whose sequence number is greater
   * than `afterAccepted` (default 0: any live connection, including one that
   * is already there); rejects after `timeoutMs` (default 5000). Pass
   * `proxy.acceptedCount` read before an outage to wait for a reconnect.
   */
  waitForConnection(timeoutMs?: number, afterAccepted?: number): Promise<void>;
  /** Destroy everything and stop listening for good. */
  close(): Promise<void>;
}

interface Pair {
  seq: number;
  client: net.Socket;
  upstream: net.Socket;
}

class Proxy implements TcpProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<Pair>();
  private readonly waiters = new Set<{ after: number; resolve: () => void }>();
  private accepted = 0;
  private closed = false;
  port = 0;

  constructor(private readonly target: TcpProxyOptions['target']) {
    this.server = net.createServer((client) => this.onClient(client));
  }

  get connectionCount(): number {
    return this.pairs.size;
  }

  get acceptedCount(): number {
    return this.accepted;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  async start(): Promise<void> {
    await this.listen(0);
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('tcp proxy: no TCP address after listen');
    this.port = address.port;
  }

  private async listen(port: number): Promise<void> {
    // once() rejects if 'error' (e.g. EADDRINUSE) comes first.
    const listening = once(this.server, 'listening');
    this.server.listen({ port, host: '127.0.0.1' });
    await listening;
  }

  private onClient(client: net.Socket): void {
    const seq = ++this.accepted;
    const upstream = net.connect({ host: this.target.host, port: this.target.port });
    const pair: Pair = { seq, client, upstream };
    this.pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // Either side failing or closing takes the other down, as a dead peer would.
    const teardown = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown).on('close', teardown);
    upstream.on('error', teardown).on('close', teardown);
    // Bytes written to `upstream` before it connects are buffered by net.Socket.
    client.pipe(upstream);
    upstream.pipe(client);

    for (const waiter of this.waiters) {
      if (seq > waiter.after) waiter.resolve();
    }
  }

  dropConnections(): number {
    const pairs = [...this.pairs];
    this.pairs.clear();
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    return pairs.length;
  }

  async refuse(): Promise<void> {
    if (!this.server.listening) {
      this.dropConnections();
      return;
    }
    // close() stops accepting at once; its callback waits for connections, which we cut now.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dropConnections();
    await closed;
  }

  async accept(): Promise<void> {
    if (this.closed) throw new Error('tcp proxy: accept() after close()');
    if (this.server.listening) return;
    await this.listen(this.port);
  }

  waitForConnection(timeoutMs = 5000, afterAccepted = 0): Promise<void> {
    if ([...this.pairs].some((p) => p.seq > afterAccepted)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        after: afterAccepted,
        resolve: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `tcp proxy on port ${this.port}: no connection after #${afterAccepted} within ${timeoutMs} ms ` +
              `(accepted ${this.accepted}, live ${this.pairs.size}, listening ${this.server.listening})`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.refuse();
  }
}

export async function startTcpProxy(opts: TcpProxyOptions): Promise<TcpProxy> {
  const proxy = new Proxy(opts.target);
  await proxy.start();
  return proxy;
}
