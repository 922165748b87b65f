/**
 * ARCHIVE's upload: gzip one load balancer's log lines and PUT them as a
 * Swift object, `<endpoint>/<basepath>/<lb id>/<name>-<UTC time>.log.gz`,
 * authenticated by the pre-authorized token Libra hands over
 * (`X-Auth-Token`). As in Libra's HAProxy driver, the object name carries a
 * UTC timestamp so successive archives do not overwrite each other, and an
 * MD5 `ETag` lets Swift refuse a body that arrived damaged (422).
 *
 * Unlike Libra, the container is not created here: an ARCHIVE naming a
 * container that does not exist fails with 404, which tells the master its
 * basepath is wrong instead of scattering containers over the account.
 *
 * The token is a secret: it is only ever put in the request header, and
 * scrubbed from any error text (a server could echo it back).
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { LbError } from '../errors.js';
import { MASK } from '../protocol/libra/reply.js';
import type { ArchiveRequest } from '../protocol/libra/parse-request.js';
import type { HttpPut } from './http-put.js';

const gzipAsync = promisify(gzip);

export const DEFAULT_ARCHIVE_TIMEOUT_MS = 60_000;

export interface ArchiveResult {
  /** `<basepath>/<lb id>/<object name>`, as the object store names it. */
  objectPath: string;
  /** Size of the uploaded gzip. */
  bytes: number;
}

export async function archiveToSwift(
  req: ArchiveRequest,
  logs: string,
  deps: { http: HttpPut; now: Date; timeoutMs?: number },
): Promise<ArchiveResult> {
  const body = await gzipAsync(Buffer.from(logs, 'utf8'));
  const name = archiveObjectName(req.lbName ?? req.lbId, deps.now);
  const objectPath = `${req.basepath}/${req.lbId}/${name}`;
  const url = `${req.endpoint}/${[...req.basepath.split('/'), req.lbId, name].map(encodeURIComponent).join('/')}`;
  const scrub = (text: string): string => (req.token === '' ? text : text.split(req.token).join(MASK));

  let res;
  try {
    res = await deps.http({
      url,
      headers: {
        'X-Auth-Token': req.token,
        'Content-Type': 'application/gzip',
        ETag: createHash('md5').update(body).digest('hex'),
      },
      body,
      timeoutMs: deps.timeoutMs ?? DEFAULT_ARCHIVE_TIMEOUT_MS,
    });
  } catch (err) {
    throw new LbError('LB_ARCHIVE_FAILED', scrub(`cannot upload ${objectPath} to ${req.endpoint}: ${(err as Error).message}`), {
      cause: err,
    });
  }
  // Swift answers 201 Created; any 2xx from a compatible store means the object is stored.
  if (res.status >= 200 && res.status < 300) return { objectPath, bytes: body.length };

  const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  const container = req.basepath.split('/')[0] ?? req.basepath;
  let message: string;
  switch (res.status) {
    case 401:
      message = `object store refused the token (${status}) for ${objectPath} at ${req.endpoint}`;
      break;
    case 403:
      message = `object store denied access (${status}) to ${objectPath} at ${req.endpoint}`;
      break;
    case 404:
      message = `object store has no container "${container}" (${status}) at ${req.endpoint}; create it before ARCHIVE`;
      break;
    default: {
      const excerpt = res.body.replace(/\s+/g, ' ').trim().slice(0, 200);
      message = `object store answered ${status} for ${objectPath} at ${req.endpoint}${excerpt ? `: ${excerpt}` : ''}`;
    }
  }
  throw new LbError('LB_ARCHIVE_FAILED', scrub(message));
}

/** `<name>-YYYYMMDD-HHMMSS.log.gz`, the name reduced to characters safe in any object store and shell. */
export function archiveObjectName(name: string, now: Date): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64) || 'lb';
  const ts = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${safe}-${ts}.log.gz`;
}
