import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SozuCommandClient, SozuRefusedError } from '../../../src/lb/sozu/command-client.js';
import { encodeFrame, FrameDecoder } from '../../../src/protocol/sozu/framing.js';

/** A scripted peer: hands each request (and its socket) to the test, which answers as it likes. */
async function scriptedPeer(path: string, onRequest: (req: Record<string, unknown>, s: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer((s) => {
    const d = new FrameDecoder();
    s.on('data', (c: Buffer) => d.push(c).messages.forEach((m) => onRequest(m, s)));
    s.on('error', () => undefined);
  });
  server.listen(path);
  await once(server, 'listening');
  return server;
}

const reply = (id: unknown, status: string, message = '') => encodeFrame({ id, version: 0, status, message });

let dir: string;
let server: net.Server | undefined;
let client: SozuCommandClient | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sozu-client-'));
});
afterEach(async () => {
  await client?.close();
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SozuCommandClient', () => {
  it('matches interleaved answers by id, across split and coalesced writes', async () => {
    const path = join(dir, 'sock');
    const seen: Array<{ id: string; s: net.Socket }> = [];
    server = await scriptedPeer(path, (req, s) => {
      seen.push({ id: req.id as string, s });
      if (seen.length < 2) return;
      const [first, second] = seen;
      // Second answered first, both in one write, the first one's Ok split in two writes.
      const okFirst = reply(first!.id, 'Ok', 'first');
      s.write(Buffer.concat([reply(second!.id, 'Ok', 'second'), reply(first!.id, 'Processing'), okFirst.subarray(0, 7)]));
      setTimeout(() => s.write(okFirst.subarray(7)), 10);
    });
    client = new SozuCommandClient({ socketPath: path });
    let processing = 0;
    const p1 = client.send('STATUS', undefined, () => processing++);
    const p2 = client.send('DUMP_STATE');
    const [r1, r2] = await Promise.all([p1, p2]);
    expect(r1.message).toBe('first');
    expect(r2.message).toBe('second');
    expect(processing).toBe(1);
  });

  it('sends orders wrapped in PROXY and rejects an Error answer with sozu\'s message', async () => {
    const path = join(dir, 'sock');
    let got: Record<string, unknown> | undefined;
    server = await scriptedPeer(path, (req, s) => {
      got = req;
      s.write(reply(req.id, 'Error', 'no application 42'));
    });
    client = new SozuCommandClient({ socketPath: path });
    const err = await client.order({ type: 'REMOVE_APPLICATION', data: '42' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SozuRefusedError);
    expect((err as Error).message).toBe('sozu refused REMOVE_APPLICATION: no application 42');
    expect(got).toMatchObject({ version: 0, type: 'PROXY', data: { type: 'REMOVE_APPLICATION', data: '42' } });
  });

  it('times out a request that gets no final answer, and drops the late one', async () => {
    const path = join(dir, 'sock');
    const ids: unknown[] = [];
    server = await scriptedPeer(path, (req, s) => {
      ids.push(req.id);
      if (ids.length === 2) s.write(Buffer.concat([reply(ids[0], 'Ok', 'late'), reply(req.id, 'Ok', 'on time')]));
    });
    client = new SozuCommandClient({ socketPath: path, timeoutMs: 50 });
    await expect(client.send('STATUS')).rejects.toMatchObject({ code: 'LB_APPLY_FAILED', message: expect.stringContaining('did not answer STATUS within 50 ms') as unknown });
    await expect(client.send('STATUS')).resolves.toMatchObject({ message: 'on time' });
  });

  it('fails what is in flight when the socket closes, and connects again for the next request', async () => {
    const path = join(dir, 'sock');
    let n = 0;
    server = await scriptedPeer(path, (req, s) => {
      if (++n === 1) s.destroy();
      else s.write(reply(req.id, 'Ok', 'again'));
    });
    const connects: boolean[] = [];
    client = new SozuCommandClient({ socketPath: path, onConnect: ({ reconnected }) => connects.push(reconnected) });
    await expect(client.send('STATUS')).rejects.toMatchObject({ code: 'LB_APPLY_FAILED', message: expect.stringContaining('closed') as unknown });
    await expect(client.send('STATUS')).resolves.toMatchObject({ message: 'again' });
    expect(connects).toEqual([false, true]);
  });

  it('says which socket it cannot reach', async () => {
    client = new SozuCommandClient({ socketPath: join(dir, 'absent') });
    await expect(client.send('STATUS')).rejects.toThrow(/cannot reach sozu's command socket .*absent/);
  });
});
