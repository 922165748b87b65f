/**
 * The teeth agent protocol (DESIGN.md): JSON lines both ways.
 *
 *   client -> agent  {version, id, method, params}
 *   agent -> client  {id, result} | {id, error: {msg}}       one per request
 *                    {version, id?, method, params}           pushes (task_status, log)
 *                    {fatal_error: msg}                       then the agent closes
 *
 * Parsing separates two kinds of bad input, because they get different
 * answers: a line we cannot tie to a request (not JSON, not an object, no
 * usable id) is garbage and earns a fatal_error, since nothing later on that
 * stream can be trusted to be framed right; a request with a good id but a
 * bad method or params earns an error reply and the connection stays open.
 */

export const TEETH_VERSION = '1';

/** Requests are small; a longer line is a client bug (or an attack) and is refused before JSON.parse. */
export const MAX_REQUEST_LINE_BYTES = 64 * 1024;

export type TeethId = string | number;

export interface TeethRequest {
  version: string | number;
  id: TeethId;
  method: string;
  params: Record<string, unknown>;
}

export type TeethParse =
  | { ok: true; request: TeethRequest }
  /** `id` is set when the request can still be answered with an error reply; absent means fatal. */
  | { ok: false; id?: TeethId; msg: string };

export type TaskState = 'running' | 'error' | 'complete';

export interface TaskStatusParams {
  task_id: string;
  state: TaskState;
  /** 0..100 */
  percent: number;
  /** Seconds left, estimated from the rate so far; null when there is no rate yet. */
  eta: number | null;
  msg: string;
}

export interface TeethPush<P = Record<string, unknown>> {
  version: string;
  id?: TeethId;
  method: string;
  params: P;
}

export type TeethReply = { id: TeethId; result: unknown } | { id: TeethId; error: { msg: string } };

/** Everything an agent can send, as a client sees it. */
export type TeethServerMessage =
  | { kind: 'result'; id: TeethId; result: unknown }
  | { kind: 'error'; id: TeethId; msg: string }
  | { kind: 'fatal'; msg: string }
  | { kind: 'push'; id?: TeethId; method: string; params: Record<string, unknown> };

const METHOD = /^[A-Za-z_][A-Za-z0-9_.]{0,63}$/;

export function parseTeethRequest(line: string): TeethParse {
  if (Buffer.byteLength(line, 'utf8') > MAX_REQUEST_LINE_BYTES) {
    return { ok: false, msg: `request line longer than ${MAX_REQUEST_LINE_BYTES} bytes` };
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { ok: false, msg: `not valid JSON: ${(err as Error).message}` };
  }
  if (!isObject(value)) return { ok: false, msg: `a request must be a JSON object, got ${describe(value)}` };
  const id = value.id;
  if (!isId(id)) return { ok: false, msg: `field "id" must be a non-empty string or a number, got ${describe(id)}` };
  const { version, method } = value;
  if (version !== undefined && typeof version !== 'string' && typeof version !== 'number') {
    return { ok: false, id, msg: `field "version" must be a string or a number, got ${describe(version)}` };
  }
  if (typeof method !== 'string' || !METHOD.test(method)) {
    return { ok: false, id, msg: `field "method" must be a method name such as "ping", got ${describe(method)}` };
  }
  const params = value.params ?? {};
  if (!isObject(params)) return { ok: false, id, msg: `field "params" must be a JSON object, got ${describe(params)}` };
  // A missing version means the current one: the protocol has had only one.
  return { ok: true, request: { version: version ?? TEETH_VERSION, id, method, params } };
}

export function resultReply(id: TeethId, result: unknown): TeethReply {
  return { id, result: result ?? null };
}

export function errorReply(id: TeethId, msg: string): TeethReply {
  return { id, error: { msg } };
}

export function fatalError(msg: string): { fatal_error: string } {
  return { fatal_error: msg };
}

export function taskStatusPush(params: TaskStatusParams, id?: TeethId): TeethPush<TaskStatusParams> {
  return { version: TEETH_VERSION, ...(id !== undefined ? { id } : {}), method: 'task_status', params };
}

export function push(method: string, params: Record<string, unknown>, id?: TeethId): TeethPush {
  return { version: TEETH_VERSION, ...(id !== undefined ? { id } : {}), method, params };
}

/** One object, one line: JSON.stringify never emits a raw newline, so framing is safe. */
export function encodeLine(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}

export function buildRequest(id: TeethId, method: string, params: Record<string, unknown> = {}): TeethRequest {
  return { version: TEETH_VERSION, id, method, params };
}

/** The client side: what did the agent send? Throws on a line no agent would write. */
export function parseTeethServerLine(line: string): TeethServerMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new Error(`agent sent a line that is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(value)) throw new Error(`agent sent ${describe(value)} instead of an object`);
  if (typeof value.fatal_error === 'string') return { kind: 'fatal', msg: value.fatal_error };
  if (typeof value.method === 'string' && 'params' in value) {
    const params = isObject(value.params) ? value.params : {};
    return { kind: 'push', method: value.method, params, ...(isId(value.id) ? { id: value.id } : {}) };
  }
  if (isId(value.id)) {
    if (isObject(value.error)) {
      const msg = value.error.msg;
      return { kind: 'error', id: value.id, msg: typeof msg === 'string' ? msg : JSON.stringify(msg ?? 'unknown error') };
    }
    if ('result' in value) return { kind: 'result', id: value.id, result: value.result };
  }
  throw new Error('agent sent an object that is neither a reply, a push nor a fatal_error');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is TeethId {
  return (typeof value === 'string' && value !== '' && value.length <= 128) || (typeof value === 'number' && Number.isFinite(value));
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
