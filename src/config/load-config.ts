/**
 * Loads the agent's configuration once, at start: defaults, then the INI
 * file, then the environment, then each --set (later wins). Every value
 * arrives as a string; bad ones are all reported together in one
 * ConfigError, a line per key naming the value (masked when secret), why it
 * is wrong and where it came from, so an operator fixes them in one go.
 */
import { ConfigError } from '../errors.js';
import { composeAmqpUrl, reconcileTls } from './amqp-url.js';
import { coerceForKey, parseNumber } from './coerce.js';
import { fileLayer, URL_PART_KEYS, type Setting, type UrlParts } from './file-layer.js';
import { parseIni, readConfigFile } from './ini-file.js';
import { maskValue } from './mask.js';
import { keySchema, SCHEMA_KEYS, type ConfigKey } from './schema.js';
import { parseSetArg } from './set-arg.js';
import type { FrozenConfig } from './types.js';
import { validateValues } from './validate.js';

export const DEFAULT_CONFIG_FILE = '/etc/pf9/hostagent.conf';

/** The historical agent's way to point at another file; honoured when no file is given. */
export const CONFIG_FILE_ENV = 'HOSTAGENT_CONFIG_FILE';

export interface ConfigSources {
  file?: string | undefined;
  fileRequired?: boolean;
  env: Record<string, string | undefined>;
  sets: string[];
  /** Where the default file is looked for; DEFAULT_CONFIG_FILE unless a test points elsewhere. */
  defaultFile?: string;
}

export interface LoadedConfig {
  config: FrozenConfig;
  warnings: string[];
  /** key -> 'default' | 'file <path> [section] key' | 'env NAME' | '--set' (and notes when derived). */
  origins: Record<string, string>;
}

export interface ResolveInput {
  /** The file's text, when one was read. */
  file?: { path: string; text: string } | undefined;
  env: Record<string, string | undefined>;
  sets: readonly string[];
}

function errorLine(key: string, setting: Setting, reason: string, alsoFrom = ''): string {
  return `${key}: ${JSON.stringify(maskValue(key, setting.raw))} ${reason} (from ${setting.origin}${alsoFrom})`;
}

/** Position of the line's key in the schema; lines about --set itself come first. */
function rankOf(line: string): number {
  return SCHEMA_KEYS.findIndex((key) => line.startsWith(`${key}: `));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Builds amqp.url from historical [amqp] parts; undefined when the file has none. */
function composeUrlSetting(parts: UrlParts, path: string, tls: boolean, errors: string[]): Setting | undefined {
  const names = URL_PART_KEYS.filter((name) => parts[name] !== undefined);
  if (names.length === 0) return undefined;
  let port: number | undefined;
  if (parts.port) {
    const n = parseNumber(parts.port.raw);
    if (n === undefined || !Number.isInteger(n) || n < 1 || n > 65535) {
      errors.push(`amqp.url: port ${JSON.stringify(parts.port.raw)} is not an integer from 1 to 65535 (from ${parts.port.origin})`);
    } else {
      port = n;
    }
  }
  const url = composeAmqpUrl(
    {
      host: parts.host?.raw,
      port,
      username: parts.username?.raw,
      password: parts.password?.raw,
      vhost: parts.virtual_host?.raw,
    },
    tls,
  );
  return { raw: url, origin: `file ${path} [amqp] ${names.join(', ')}` };
}

/** The pure part of loading: no file system, no process.env. */
export function resolveConfig(input: ResolveInput): LoadedConfig {
  const warnings: string[] = [];
  const errors: string[] = [];
  const layered = new Map<ConfigKey, Setting>();
  let urlParts: UrlParts = {};

  if (input.file) {
    const parsed = parseIni(input.file.text, `file ${input.file.path}`);
    const layer = fileLayer(parsed.entries, input.file.path);
    warnings.push(...parsed.warnings, ...layer.warnings);
    for (const [key, setting] of layer.settings) layered.set(key, setting);
    urlParts = layer.urlParts;
  }
  for (const key of SCHEMA_KEYS) {
    const name = keySchema(key).env;
    const raw = input.env[name];
    if (raw !== undefined) layered.set(key, { raw, origin: `env ${name}` });
  }
  for (const text of input.sets) {
    const set = parseSetArg(text);
    if (set.ok) layered.set(set.key, { raw: set.value, origin: '--set' });
    else errors.push(set.message);
  }

  const values = new Map<ConfigKey, unknown>();
  const shown = new Map<ConfigKey, Setting>();
  const origins: Record<string, string> = {};
  for (const key of SCHEMA_KEYS) {
    const schema = keySchema(key);
    const setting = layered.get(key) ?? { raw: String(schema.default), origin: 'default' };
    shown.set(key, setting);
    origins[key] = setting.origin;
    if (setting.origin === 'default') continue;
    const coerced = coerceForKey(schema, setting.raw, setting.invert);
    if (coerced.ok) values.set(key, coerced.value);
    else errors.push(errorLine(key, setting, coerced.reason));
  }

  const tlsWanted = (values.get('amqp.tls.enabled') ?? keySchema('amqp.tls.enabled').default) === true;
  if (!layered.has('amqp.url') && input.file) {
    const composed = composeUrlSetting(urlParts, input.file.path, tlsWanted, errors);
    if (composed) {
      values.set('amqp.url', composed.raw);
      shown.set('amqp.url', composed);
      origins['amqp.url'] = composed.origin;
    }
  }

  const url = shown.get('amqp.url') ?? { raw: String(keySchema('amqp.url').default), origin: 'default' };
  const tls = reconcileTls({
    url: url.raw,
    urlOrigin: url.origin,
    tlsEnabled: tlsWanted,
    tlsOrigin: origins['amqp.tls.enabled'] ?? 'default',
  });
  warnings.push(...tls.warnings);
  if (tls.url !== url.raw) {
    values.set('amqp.url', tls.url);
    shown.set('amqp.url', { raw: tls.url, origin: tls.urlOrigin });
    origins['amqp.url'] = tls.urlOrigin;
  }
  if (tls.tlsEnabled !== tlsWanted) {
    values.set('amqp.tls.enabled', tls.tlsEnabled);
    origins['amqp.tls.enabled'] = tls.tlsOrigin;
  }

  const { config, problems } = validateValues(values);
  for (const problem of problems) {
    const setting = problem.key === undefined ? undefined : shown.get(problem.key);
    if (problem.key === undefined || setting === undefined) {
      errors.push(problem.reason);
      continue;
    }
    const related = problem.related === undefined ? '' : `; ${problem.related} from ${origins[problem.related] ?? 'default'}`;
    errors.push(errorLine(problem.key, setting, problem.reason, related));
  }
  // No header line: the message is exactly the list, one bad value per line, in schema order.
  if (errors.length > 0) throw new ConfigError(errors.sort((a, b) => rankOf(a) - rankOf(b)).join('\n'));
  return { config: deepFreeze(config), warnings, origins };
}

/** Reads the file (if any) and resolves; the daemon calls this once at start. */
export function loadConfig(sources: ConfigSources): LoadedConfig {
  let path = sources.defaultFile ?? DEFAULT_CONFIG_FILE;
  let required = sources.fileRequired ?? false;
  const fromEnv = sources.env[CONFIG_FILE_ENV];
  if (sources.file !== undefined) {
    path = sources.file;
  } else if (fromEnv !== undefined && fromEnv !== '') {
    // Whoever set the variable meant that file; a typo in it must not fall back to defaults.
    path = fromEnv;
    required = true;
  }
  const read = readConfigFile(path, required);
  const result = resolveConfig({
    file: read.text === undefined ? undefined : { path, text: read.text },
    env: sources.env,
    sets: sources.sets,
  });
  return { ...result, warnings: [...read.warnings, ...result.warnings] };
}
