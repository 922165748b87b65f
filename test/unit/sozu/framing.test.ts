import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from '../../../src/protocol/sozu/framing.js';
import { parseResponse } from '../../../src/protocol/sozu/messages.js';

const a = { id: 'a', version: 0, status: 'Processing', message: '' };
const b = { id: 'b', version: 0, status: 'Ok', message: 'done', data: { x: 1 } };

describe('sozu framing', () => {
  it('encodes JSON followed by one 0 byte', () => {
    const buf = encodeFrame({ id: '1' });
    expect(buf.at(-1)).toBe(0);
    expect(buf.subarray(0, -1).toString()).toBe('{"id":"1"}');
  });

  it('reassembles a message split across reads, byte by byte', () => {
    const d = new FrameDecoder();
    const bytes = encodeFrame(b);
    const got = [];
    for (let i = 0; i < bytes.length; i++) got.push(...d.push(bytes.subarray(i, i + 1)).messages);
    expect(got).toEqual([b]);
    expect(d.buffered).toBe(0);
  });

  it('returns several messages coalesced in one read, in order, keeping the unfinished tail', () => {
    const d = new FrameDecoder();
    const all = Buffer.concat([encodeFrame(a), encodeFrame(b), encodeFrame(a).subarray(0, 5)]);
    expect(d.push(all).messages).toEqual([a, b]);
    expect(d.push(encodeFrame(a).subarray(5)).messages).toEqual([a]);
  });

  it('skips garbage between messages up to the next 0 byte and reports it without its text', () => {
    const d = new FrameDecoder();
    const out = d.push(Buffer.concat([encodeFrame(a), Buffer.from('\x08\x01garbage-key-material'), Buffer.from([0]), encodeFrame(b), Buffer.from('[1]\0')]));
    expect(out.messages).toEqual([a, b]);
    expect(out.problems).toEqual([
      { kind: 'not_json', bytes: 22 },
      { kind: 'not_object', bytes: 3 },
    ]);
    expect(JSON.stringify(out.problems)).not.toContain('garbage');
  });

  it('drops a frame over the size limit and resumes at the next one', () => {
    const d = new FrameDecoder(64);
    const first = d.push(Buffer.from(`{"id":"${'x'.repeat(100)}`));
    expect(first.problems).toEqual([{ kind: 'too_large', bytes: 107 }]);
    const rest = d.push(Buffer.concat([Buffer.from('more"}\0'), encodeFrame(a)]));
    expect(rest.messages).toEqual([a]);
  });

  it('parses responses and names the bad field', () => {
    expect(parseResponse({ id: 'x', version: 0, status: 'Error', message: 'no application 7' }).message).toBe('no application 7');
    expect(() => parseResponse({ id: 'x', version: 0, status: 'Fine' })).toThrow(/status must be Ok, Error or Processing/);
    expect(() => parseResponse({ version: 0, status: 'Ok' })).toThrow(/id must be/);
  });
});
