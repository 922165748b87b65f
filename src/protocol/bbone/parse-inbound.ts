/**
 * Bytes from the host queue -> a typed backbone message, or a MessageError
 * that names the field at fault. Nothing here throws anything else: the
 * caller turns the error into an `error` message for the master, so a bad
 * message costs one reply and never the agent.
 */
import { MessageError } from '../../errors.js';
import { isPlainObject } from '../json-value.js';

export { isPlainObject };
import type { BboneInbound, DesiredApp, DesiredApps } from './types.js';

/** Larger than any sane set_config; a bigger body is refused before JSON.parse allocates for it. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Package-name-safe: what rpm and dpkg both accept, and nothing a path or shell could misread. */
const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const SHA256 = /^[0-9a-fA-F]{64}$/;

export function parseInbound(body: Buffer): BboneInbound {
  if (body.length > MAX_MESSAGE_BYTES) {
    throw new MessageError('MESSAGE_MALFORMED', `message of ${body.length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new MessageError('MESSAGE_MALFORMED', `body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed)) {
    throw new MessageError('MESSAGE_INVALID', `message must be a JSON object, got ${describe(parsed)}`);
  }

  if (!('opcode' in parsed) && hasKeyCaseInsensitive(parsed, 'hpcs_action')) {
    return { kind: 'libra', request: parsed };
  }

  const opcode = parsed.opcode;
  if (opcode === undefined) throw new MessageError('MESSAGE_INVALID', 'missing field "opcode"', 'opcode');
  if (typeof opcode !== 'string') {
    throw new MessageError('MESSAGE_INVALID', `field "opcode" must be a string, got ${describe(opcode)}`, 'opcode');
  }
  switch (opcode) {
    case 'ping':
      return { kind: 'ping' };
    case 'set_config':
      return { kind: 'set_config', apps: parseDesiredApps(parsed.data) };
    default:
      throw new MessageError('OPCODE_UNKNOWN', `unknown opcode "${truncate(opcode, 64)}"`, 'opcode');
  }
}

/** Validates the `data` of a set_config; also used by tools that send one, so they fail before publishing. */
export function parseDesiredApps(data: unknown): DesiredApps {
  if (!isPlainObject(data)) {
    throw new MessageError('MESSAGE_INVALID', `field "data" must be an object of apps, got ${describe(data)}`, 'data');
  }
  const apps: DesiredApps = {};
  for (const [name, entry] of Object.entries(data)) {
    const at = `data.${truncate(name, 64)}`;
    if (!APP_NAME.test(name)) {
      throw new MessageError('MESSAGE_INVALID', `field "${at}": app name is not a valid package name`, at);
    }
    apps[name] = parseDesiredApp(entry, at);
  }
  return apps;
}

function parseDesiredApp(entry: unknown, at: string): DesiredApp {
  if (!isPlainObject(entry)) throw invalid(at, 'an object', entry);
  const { version, url, running, config, sha256 } = entry;
  if (typeof version !== 'string' || version === '') throw invalid(`${at}.version`, 'a non-empty string', version);
  if (url !== undefined && typeof url !== 'string') throw invalid(`${at}.url`, 'a string', url);
  if (typeof running !== 'boolean') throw invalid(`${at}.running`, 'true or false', running);
  if (config !== undefined && !isPlainObject(config)) throw invalid(`${at}.config`, 'an object', config);
  if (sha256 !== undefined && (typeof sha256 !== 'string' || !SHA256.test(sha256))) {
    throw invalid(`${at}.sha256`, '64 hex digits', sha256);
  }
  // Kept as sent (extras included): desired_hash must match the hash of what the master sent.
  return entry as DesiredApp;
}

function invalid(field: string, expected: string, got: unknown): MessageError {
  return new MessageError('MESSAGE_INVALID', `field "${field}" must be ${expected}, got ${describe(got)}`, field);
}


function hasKeyCaseInsensitive(obj: Record<string, unknown>, key: string): boolean {
  return Object.keys(obj).some((k) => k.toLowerCase() === key);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string "${truncate(v, 32)}"`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${v}`;
  return typeof v;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}
