import { describe, expect, it } from 'vitest';
import { MessageError } from '../../../src/errors.js';
import { MAX_MESSAGE_BYTES, parseInbound } from '../../../src/protocol/bbone/parse-inbound.js';

const buf = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function refusal(body: Buffer): MessageError {
  try {
    parseInbound(body);
  } catch (err) {
    expect(err).toBeInstanceOf(MessageError);
    return err as MessageError;
  }
  throw new Error('expected parseInbound to refuse the message');
}

describe('parseInbound', () => {
  it('reads ping and set_config', () => {
    expect(parseInbound(buf({ opcode: 'ping' }))).toEqual({ kind: 'ping' });
    const apps = { 'pf9-foo': { version: '1.2-3', url: 'http://x/pf9-foo.rpm', running: true, config: { a: 1 }, extra: 'kept' } };
    expect(parseInbound(buf({ opcode: 'set_config', data: apps }))).toEqual({ kind: 'set_config', apps });
    expect(parseInbound(buf({ opcode: 'set_config', data: {} }))).toEqual({ kind: 'set_config', apps: {} });
  });

  it('routes a message with hpcs_action (any case) and no opcode to Libra', () => {
    const req = { HPCS_Action: 'DISCOVER', extra: 1 };
    expect(parseInbound(buf(req))).toEqual({ kind: 'libra', request: req });
  });

  it.each([
    ['not JSON', '{"opcode": "ping"', 'MESSAGE_MALFORMED', undefined],
    ['a JSON array', '[1,2]', 'MESSAGE_INVALID', undefined],
    ['a JSON string', '"ping"', 'MESSAGE_INVALID', undefined],
    ['no opcode', { data: {} }, 'MESSAGE_INVALID', 'opcode'],
    ['numeric opcode', { opcode: 7 }, 'MESSAGE_INVALID', 'opcode'],
    ['unknown opcode', { opcode: 'reboot' }, 'OPCODE_UNKNOWN', 'opcode'],
    ['set_config without data', { opcode: 'set_config' }, 'MESSAGE_INVALID', 'data'],
    ['set_config with list data', { opcode: 'set_config', data: [] }, 'MESSAGE_INVALID', 'data'],
    ['app entry not an object', { opcode: 'set_config', data: { 'pf9-a': 3 } }, 'MESSAGE_INVALID', 'data.pf9-a'],
    ['version missing', { opcode: 'set_config', data: { 'pf9-a': { running: true } } }, 'MESSAGE_INVALID', 'data.pf9-a.version'],
    ['running as string', { opcode: 'set_config', data: { 'pf9-a': { version: '1', running: 'yes' } } }, 'MESSAGE_INVALID', 'data.pf9-a.running'],
    ['config as list', { opcode: 'set_config', data: { 'pf9-a': { version: '1', running: true, config: [] } } }, 'MESSAGE_INVALID', 'data.pf9-a.config'],
    ['url as number', { opcode: 'set_config', data: { 'pf9-a': { version: '1', running: true, url: 5 } } }, 'MESSAGE_INVALID', 'data.pf9-a.url'],
    ['bad sha256', { opcode: 'set_config', data: { 'pf9-a': { version: '1', running: true, sha256: 'abc' } } }, 'MESSAGE_INVALID', 'data.pf9-a.sha256'],
    ['app name with a slash', { opcode: 'set_config', data: { '../etc': { version: '1', running: true } } }, 'MESSAGE_INVALID', 'data.../etc'],
  ])('refuses %s with a code and the field', (_name, body, code, field) => {
    const err = refusal(buf(body));
    expect(err.code).toBe(code);
    expect(err.field).toBe(field);
    if (field) expect(err.message).toContain(field);
  });

  it('refuses an oversized body before parsing it', () => {
    const err = refusal(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20));
    expect(err.code).toBe('MESSAGE_MALFORMED');
    expect(err.message).toMatch(/exceeds/);
  });
});
