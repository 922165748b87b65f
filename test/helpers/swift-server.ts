/**
 * A small OpenStack Swift stand-in on loopback, for ARCHIVE tests: there is
 * no Swift on these machines, so this speaks the part of its API the agent
 * uses, with Swift's own status codes:
 *
 *   PUT /v1/<account>/<container>            201 created (202 if it existed)
 *   PUT /v1/<account>/<container>/<object>   201 stored, ETag = md5 of body
 *   GET /v1/<account>/<container>/<object>   200 body, 404 unknown
 *
 * Every request needs `X-Auth-Token` equal to the configured token (401
 * otherwise, as Swift's auth middleware answers), and the configured
 * account (403 for another, as for a token without rights there). An
 * object PUT into a container that was never created is 404; an `ETag`
 * header that does not match the body's MD5 is 422, as Swift refuses it.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface SwiftRequestRecord {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  status: number;
}

export interface SwiftServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** The storage URL Libra calls the endpoint: `<url>/v1/<account>`. */
  readonly endpoint: string;
  readonly requests: SwiftRequestRecord[];
  createContainer(name: string): void;
  /** The stored body of `<container>/<object path>`, or undefined. */
  object(container: string, objectPath: string): Buffer | undefined;
  /** Every stored object as `<container>/<object path>`. */
  objectNames(): string[];
  close(): Promise<void>;
}

export async function startSwiftServer(opts: { token: string; account?: string }): Promise<SwiftServer> {
  const account = opts.account ?? 'AUTH_test';
  const containers = new Map<string, Map<string, Buffer>>();
  const requests: SwiftRequestRecord[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = handle(req, Buffer.concat(chunks), res);
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, status });
    });
  });

  function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): number {
    res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
    res.end(text);
    return status;
  }

  function handle(req: IncomingMessage, body: Buffer, res: ServerResponse): number {
    const parts = (req.url ?? '').split('?')[0]!.split('/').slice(1).map(decodeURIComponent);
    const [version, acct, container, ...rest] = parts;
    if (version !== 'v1' || acct === undefined || container === undefined || container === '') {
      return reply(res, 404, 'Not Found');
    }
    if (req.headers['x-auth-token'] !== opts.token) return reply(res, 401, '<html><h1>Unauthorized</h1></html>');
    if (acct !== account) return reply(res, 403, 'Forbidden');
    const objectPath = rest.join('/');
    if (req.method === 'PUT' && objectPath === '') {
      const existed = containers.has(container);
      if (!existed) containers.set(container, new Map());
      return reply(res, existed ? 202 : 201, existed ? 'Accepted' : 'Created');
    }
    const store = containers.get(container);
    if (store === undefined) return reply(res, 404, 'Not Found');
    if (req.method === 'GET') {
      const found = store.get(objectPath);
      if (found === undefined) return reply(res, 404, 'Not Found');
      res.writeHead(200, { 'Content-Length': String(found.length) });
      res.end(found);
      return 200;
    }
    if (req.method !== 'PUT') return reply(res, 405, 'Method Not Allowed');
    const md5 = createHash('md5').update(body).digest('hex');
    const etag = req.headers.etag;
    if (etag !== undefined && etag.replace(/"/g, '').toLowerCase() !== md5) return reply(res, 422, 'Unprocessable Entity');
    store.set(objectPath, body);
    return reply(res, 201, '', { ETag: md5 });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    endpoint: `${url}/v1/${account}`,
    requests,
    createContainer: (name) => void containers.set(name, containers.get(name) ?? new Map<string, Buffer>()),
    object: (container, objectPath) => containers.get(container)?.get(objectPath),
    objectNames: () => [...containers].flatMap(([c, objs]) => [...objs.keys()].map((o) => `${c}/${o}`)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
