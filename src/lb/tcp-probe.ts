/**
 * DIAGNOSTICS' reachability check: can this host open a TCP connection to
 * a node, within a short timeout? Libra's worker made the same check (a plain
 * connect, then close) for its own dependencies. Nothing is sent.
 */
import { createConnection } from 'node:net';

export type TcpProbe = (address: string, port: number, timeoutMs: number) => Promise<boolean>;

export const tcpProbe: TcpProbe = (address, port, timeoutMs) =>
  new Promise((resolve) => {
    const socket = createConnection({ host: address, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    // socket.setTimeout measures idleness, which only starts after connect; a plain timer bounds the connect itself.
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
