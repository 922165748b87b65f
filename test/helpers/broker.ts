/**
 * The real RabbitMQ that integration tests run against (DESIGN.md, "Real
 * components"): `RABBITMQ_URL` when set, else the broker of this machine on
 * 127.0.0.1:5672 (guest/guest). Each test file isolates itself in a vhost of
 * its own, made and removed with `rabbitmqctl`, so files run in parallel
 * and leave nothing behind.
 *
 * `rabbitmqctl` talks to the local node, so vhost helpers only work when the
 * broker under test is this machine's (root, or a user allowed to read the
 * Erlang cookie). Commands run through execa with argument arrays: vhost
 * names never pass through a shell.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { execa } from 'execa';

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';
const CONNECT_CHECK_MS = 2000;
const RABBITMQCTL_TIMEOUT_MS = 30_000;

/** Host and port an amqp(s) URL points at. */
export function brokerAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  // URL keeps IPv6 literals in brackets; net.connect wants them bare.
  const host = (u.hostname || '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  const port = u.port !== '' ? Number(u.port) : u.protocol === 'amqps:' ? 5671 : 5672;
  return { host, port };
}

/** The same URL (credentials, vhost, query) pointed at another host and port, e.g. a TcpProxy. */
export function withAddress(url: string, host: string, port: number): string {
  const u = new URL(url);
  u.hostname = host;
  u.port = String(port);
  return u.toString();
}

function checkAnswers(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(CONNECT_CHECK_MS);
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no answer within ${CONNECT_CHECK_MS} ms`));
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

let checked: Promise<string> | undefined;

/**
 * The broker's URL (without a vhost unless RABBITMQ_URL has one), once a TCP
 * connect to it has succeeded; otherwise an error that says how to start it.
 */
export function brokerBaseUrl(): Promise<string> {
  checked ??= (async () => {
    const url = process.env.RABBITMQ_URL ?? DEFAULT_URL;
    const { host, port } = brokerAddress(url);
    try {
      await checkAnswers(host, port);
    } catch (err) {
      checked = undefined; // let a later test try again, e.g. after the broker was started
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(
        `RabbitMQ does not answer on ${host}:${port} (${reason}). Integration tests need a broker: ` +
          'start this machine\'s with `rabbitmq-server -detached` (as root), or set RABBITMQ_URL.',
        { cause: err },
      );
    }
    return url;
  })();
  return checked;
}

async function rabbitmqctl(args: string[]): Promise<string> {
  const { stdout } = await execa('rabbitmqctl', ['-q', ...args], { timeout: RABBITMQCTL_TIMEOUT_MS });
  return stdout;
}

export interface TestVhost {
  /** The vhost name, e.g. `bus-3f9a0c1d2e4b`. */
  readonly name: string;
  /** The broker URL with this vhost in its path (URL-encoded). */
  readonly url: string;
  /** Deletes the vhost (closing its connections). Safe to call twice. */
  dispose(): Promise<void>;
}

const VHOST_PREFIX = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * A new vhost `<prefix>-<random>` on which the URL's user (guest by default)
 * may configure, write and read everything.
 */
export async function createVhost(prefix: string): Promise<TestVhost> {
  if (!VHOST_PREFIX.test(prefix)) {
    throw new Error(`createVhost: prefix ${JSON.stringify(prefix)} must be letters, digits, _ . - (not first)`);
  }
  const base = await brokerBaseUrl();
  const name = `${prefix}-${randomBytes(6).toString('hex')}`;
  const u = new URL(base);
  const user = u.username === '' ? 'guest' : decodeURIComponent(u.username);

  await rabbitmqctl(['add_vhost', name]);
  try {
    await rabbitmqctl(['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  } catch (err) {
    await rabbitmqctl(['delete_vhost', name]).catch(() => undefined);
    throw err;
  }

  u.pathname = `/${encodeURIComponent(name)}`;
  let disposed: Promise<void> | undefined;
  return {
    name,
    url: u.toString(),
    dispose: () => {
      disposed ??= rabbitmqctl(['delete_vhost', name]).then(() => undefined);
      return disposed;
    },
  };
}

/**
 * Closes every client connection of `vhost`, as a broker does on a forced
 * close (the client gets connection.close 320 CONNECTION_FORCED with reason
 * "test"). Returns how many connections were asked to close; one that went
 * away on its own meanwhile still counts (rabbitmqctl reports success).
 *
 * Uses the tab-separated listing, not `--formatter json`: in JSON RabbitMQ
 * 3.10 prints pids as `#PID<12576.838.0>`, which close_connection rejects
 * (invalid_pid_syntax); the text form `<rabbit@host.1795447051.838.0>` is
 * what it accepts.
 */
export async function closeConnections(vhost: string): Promise<number> {
  const listing = await rabbitmqctl(['list_connections', '--no-table-headers', 'pid', 'vhost']);
  const pids = listing
    .split('\n')
    .map((line) => line.split('\t'))
    .filter(([pid, name]) => pid !== undefined && pid.startsWith('<') && name === vhost)
    .map(([pid]) => pid as string);
  for (const pid of pids) {
    await rabbitmqctl(['close_connection', pid, 'test']);
  }
  return pids.length;
}
