import { describe, expect, it } from 'vitest';
import { canonicalJson, desiredHash } from '../../../src/protocol/canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('escapes strings as JSON does and keeps null, booleans and unicode', () => {
    expect(canonicalJson({ s: 'a"b\n', n: null, t: true, u: 'é' })).toBe('{"n":null,"s":"a\\"b\\n","t":true,"u":"é"}');
  });

  it('gives the same hash for the same apps in any key order, another for any change', () => {
    const a = { 'pf9-foo': { version: '1.0', running: true, config: { x: 1, y: 2 } } };
    const b = { 'pf9-foo': { config: { y: 2, x: 1 }, running: true, version: '1.0' } };
    expect(desiredHash(a)).toBe(desiredHash(b));
    expect(desiredHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(desiredHash({ 'pf9-foo': { ...a['pf9-foo'], running: false } })).not.toBe(desiredHash(a));
    // sha256 of "{}" so a master in any language can check its implementation against ours.
    expect(desiredHash({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });
});
