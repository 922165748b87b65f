import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { HttpPutRequest } from '../../../src/lb/http-put.js';
import { archiveObjectName, archiveToSwift } from '../../../src/lb/swift-archive.js';

const now = new Date('2026-12-31T23:59:58.123Z');

describe('archiveToSwift', () => {
  it('names objects <name>-<UTC time>.log.gz with only safe characters', () => {
    expect(archiveObjectName('web', now)).toBe('web-20261231-235958.log.gz');
    expect(archiveObjectName('my web/lb ünïcode', now)).toBe('my_web_lb_n_code-20261231-235958.log.gz');
    expect(archiveObjectName('///', now)).toBe('_-20261231-235958.log.gz');
  });

  it('encodes each path segment, sends token, type and an MD5 ETag, and gzips the lines', async () => {
    const seen: HttpPutRequest[] = [];
    const result = await archiveToSwift(
      { storeType: 'swift', endpoint: 'https://s.example/v1/AUTH_x', basepath: 'logs/per lb', token: 't', lbId: 'a:b', lbName: 'web' },
      'l1\n',
      {
        now,
        http: (req) => {
          seen.push(req);
          return Promise.resolve({ status: 201, statusText: 'Created', body: '' });
        },
      },
    );
    expect(result).toEqual({ objectPath: 'logs/per lb/a:b/web-20261231-235958.log.gz', bytes: seen[0]?.body.length });
    expect(seen[0]?.url).toBe('https://s.example/v1/AUTH_x/logs/per%20lb/a%3Ab/web-20261231-235958.log.gz');
    expect(seen[0]?.headers).toMatchObject({ 'X-Auth-Token': 't', 'Content-Type': 'application/gzip' });
    expect(seen[0]?.headers.ETag).toMatch(/^[0-9a-f]{32}$/);
    expect(gunzipSync(seen[0]?.body ?? Buffer.alloc(0)).toString()).toBe('l1\n');
  });
});
