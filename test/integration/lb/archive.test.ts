/**
 * ARCHIVE end to end over real HTTP: the worker gzips a load balancer's log
 * lines and PUTs them with node:http to a Swift stand-in on loopback
 * (test/helpers/swift-server.ts), which answers with Swift's status codes.
 * The engine is the in-memory fake: which log lines HAProxy captured is the
 * HAProxy engine's own test.
 */
import { createServer } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nodeHttpPut } from '../../../src/lb/http-put.js';
import { startSwiftServer, type SwiftServer } from '../../helpers/swift-server.js';
import { httpUpdate, makeHarness, type Harness } from '../../unit/lb/worker-harness.js';

const TOKEN = 'tk-7f3a-secret';
const LOG = '127.0.0.1:40000 [01/Jan/2026:00:00:00.000] lb-10 lb-10/1 0/0/1/2/3 200 120 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"\nsecond line\n';

describe('ARCHIVE to a Swift object store', () => {
  let swift: SwiftServer;
  let h: Harness;

  beforeAll(async () => {
    swift = await startSwiftServer({ token: TOKEN });
    swift.createContainer('lbaas-logs');
  });
  afterAll(async () => {
    await swift.close();
  });
  beforeEach(async () => {
    h = await makeHarness();
    expect((await h.worker.handle(httpUpdate())).hpcs_response).toBe('PASS');
    h.engine.logsByLb.set('10', LOG);
    h.clock.now = new Date('2026-02-03T04:05:06.789Z');
  });
  afterEach(async () => {
    await h.cleanup();
  });

  function archive(patch: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      HPCS_ACTION: 'archive',
      hpcs_object_store_type: 'SWIFT',
      hpcs_object_store_endpoint: swift.endpoint,
      hpcs_object_store_basepath: 'lbaas-logs',
      Hpcs_Object_Store_Token: TOKEN,
      loadBalancers: [{ id: '10', name: 'web', protocol: 'HTTP' }],
      ...patch,
    };
  }

  it('201: stores a gzip of the log lines under <basepath>/<lb id>/, and the reply masks the token', async () => {
    const reply = await h.worker.handle(archive());
    expect(reply).toEqual({
      ...archive(),
      Hpcs_Object_Store_Token: '*****',
      hpcs_object_name: 'lbaas-logs/10/web-20260203-040506.log.gz',
      hpcs_response: 'PASS',
    });
    const stored = swift.object('lbaas-logs', '10/web-20260203-040506.log.gz');
    expect(stored).toBeDefined();
    expect(gunzipSync(stored ?? Buffer.alloc(0)).toString('utf8')).toBe(LOG);
    const put = swift.requests.at(-1);
    expect(put).toMatchObject({ method: 'PUT', path: '/v1/AUTH_test/lbaas-logs/10/web-20260203-040506.log.gz', status: 201 });
    // The body was checked against the ETag the worker sent.
    expect(put?.headers.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(h.logs)).not.toContain(TOKEN);
  });

  it('401: a bad token is a FAIL that says so, without either token in the reply or logs', async () => {
    const before = swift.objectNames().length;
    const reply = await h.worker.handle(archive({ Hpcs_Object_Store_Token: 'wrong-token' }));
    expect(reply).toMatchObject({
      hpcs_response: 'FAIL',
      hpcs_error_code: 'LB_ARCHIVE_FAILED',
      hpcs_error: `object store refused the token (HTTP 401 Unauthorized) for lbaas-logs/10/web-20260203-040506.log.gz at ${swift.endpoint}`,
      Hpcs_Object_Store_Token: '*****',
    });
    expect(JSON.stringify(reply)).not.toContain('wrong-token');
    expect(JSON.stringify(h.logs)).not.toContain('wrong-token');
    expect(swift.objectNames()).toHaveLength(before);
    expect(swift.requests.at(-1)).toMatchObject({ method: 'PUT', status: 401 });
  });

  it('404: a container that does not exist is a FAIL naming it (the worker does not create containers)', async () => {
    const reply = await h.worker.handle(archive({ hpcs_object_store_basepath: 'no-such-container' }));
    expect(reply).toMatchObject({
      hpcs_response: 'FAIL',
      hpcs_error_code: 'LB_ARCHIVE_FAILED',
      hpcs_error: `object store has no container "no-such-container" (HTTP 404 Not Found) at ${swift.endpoint}; create it before ARCHIVE`,
    });
  });

  it('a container created through the API (PUT /v1/<account>/<container>) takes archives', async () => {
    const created = await nodeHttpPut({
      url: `${swift.endpoint}/fresh`,
      headers: { 'X-Auth-Token': TOKEN },
      body: Buffer.alloc(0),
      timeoutMs: 5000,
    });
    expect(created.status).toBe(201);
    expect((await h.worker.handle(archive({ hpcs_object_store_basepath: 'fresh' }))).hpcs_response).toBe('PASS');
    expect(swift.objectNames()).toContain('fresh/10/web-20260203-040506.log.gz');
  });

  it('an object store that does not answer is a FAIL naming the endpoint', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const endpoint = `http://127.0.0.1:${port}/v1/AUTH_test`;
    const reply = await h.worker.handle(archive({ hpcs_object_store_endpoint: endpoint }));
    expect(reply.hpcs_response).toBe('FAIL');
    expect(reply.hpcs_error).toContain(`cannot upload lbaas-logs/10/web-20260203-040506.log.gz to ${endpoint}`);
    expect(reply.hpcs_error).toContain('ECONNREFUSED');
  });

  it('the Swift stand-in refuses a body that does not match its ETag (422), as Swift does', async () => {
    const res = await nodeHttpPut({
      url: `${swift.endpoint}/lbaas-logs/x`,
      headers: { 'X-Auth-Token': TOKEN, ETag: '0'.repeat(32) },
      body: Buffer.from('data'),
      timeoutMs: 5000,
    });
    expect(res.status).toBe(422);
  });
});
