import { describe, expect, it } from 'vitest';
import {
  MAX_REQUEST_LINE_BYTES,
  encodeLine,
  errorReply,
  fatalError,
  parseTeethRequest,
  parseTeethServerLine,
  resultReply,
  taskStatusPush,
} from '../../../src/protocol/teeth.js';

describe('parseTeethRequest', () => {
  it('parses a full request', () => {
    expect(parseTeethRequest('{"version":"1","id":7,"method":"ping","params":{"a":1}}')).toEqual({
      ok: true,
      request: { version: '1', id: 7, method: 'ping', params: { a: 1 } },
    });
  });

  it('defaults version and params', () => {
    expect(parseTeethRequest('{"id":"x","method":"status"}')).toEqual({
      ok: true,
      request: { version: '1', id: 'x', method: 'status', params: {} },
    });
  });

  it.each([
    ['not json', /not valid JSON/],
    ['[1,2]', /must be a JSON object, got an array/],
    ['"ping"', /must be a JSON object/],
    ['{"method":"ping"}', /"id" must be .* got nothing/],
    ['{"id":null,"method":"ping"}', /"id" .* got null/],
    ['{"id":"","method":"ping"}', /"id"/],
    ['{"id":{"a":1},"method":"ping"}', /"id" .* got an object/],
  ])('refuses %s as garbage (no id to answer)', (line, msg) => {
    const parsed = parseTeethRequest(line);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.id).toBeUndefined();
    expect(parsed.msg).toMatch(msg);
  });

  it.each([
    ['{"id":1}', /"method" must be a method name .* got nothing/],
    ['{"id":1,"method":42}', /"method" .* got number 42/],
    ['{"id":1,"method":"rm -rf"}', /"method"/],
    ['{"id":1,"method":"ping","params":[1]}', /"params" must be a JSON object, got an array/],
    ['{"id":1,"method":"ping","version":true}', /"version" must be a string or a number/],
  ])('answers %s with an error for its id', (line, msg) => {
    const parsed = parseTeethRequest(line);
    expect(parsed).toMatchObject({ ok: false, id: 1 });
    if (!parsed.ok) expect(parsed.msg).toMatch(msg);
  });

  it('refuses an over-long line before parsing it', () => {
    const parsed = parseTeethRequest(`{"id":1,"method":"ping","params":{"x":"${'a'.repeat(MAX_REQUEST_LINE_BYTES)}"}}`);
    expect(parsed).toEqual({ ok: false, msg: `request line longer than ${MAX_REQUEST_LINE_BYTES} bytes` });
  });
});

describe('replies and pushes', () => {
  it('have the teeth shapes', () => {
    expect(resultReply(1, { a: 1 })).toEqual({ id: 1, result: { a: 1 } });
    expect(resultReply('x', undefined)).toEqual({ id: 'x', result: null });
    expect(errorReply(2, 'nope')).toEqual({ id: 2, error: { msg: 'nope' } });
    expect(fatalError('bad')).toEqual({ fatal_error: 'bad' });
    const params = { task_id: 't', state: 'running' as const, percent: 5, eta: 10, msg: 'm' };
    expect(taskStatusPush(params, 3)).toEqual({ version: '1', id: 3, method: 'task_status', params });
    expect(taskStatusPush(params)).toEqual({ version: '1', method: 'task_status', params });
  });

  it('encodes one object per line', () => {
    const line = encodeLine({ msg: 'a\nb' });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
  });
});

describe('parseTeethServerLine', () => {
  it('tells replies, errors, pushes and fatal errors apart', () => {
    expect(parseTeethServerLine('{"id":1,"result":null}')).toEqual({ kind: 'result', id: 1, result: null });
    expect(parseTeethServerLine('{"id":1,"error":{"msg":"x"}}')).toEqual({ kind: 'error', id: 1, msg: 'x' });
    expect(parseTeethServerLine('{"fatal_error":"x"}')).toEqual({ kind: 'fatal', msg: 'x' });
    expect(parseTeethServerLine('{"version":"1","id":2,"method":"log","params":{"a":1}}')).toEqual({
      kind: 'push',
      id: 2,
      method: 'log',
      params: { a: 1 },
    });
  });

  it('throws on lines no agent writes', () => {
    expect(() => parseTeethServerLine('nope')).toThrow(/not JSON/);
    expect(() => parseTeethServerLine('{"x":1}')).toThrow(/neither/);
  });
});
