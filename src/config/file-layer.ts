/**
 * Turns INI entries into settings keyed by config key, honouring the
 * historical agent's key names. Aliases exist in the file layer only: a key
 * spelled the new way (in this file, the environment or --set) always wins
 * over its historical alias, whatever the order of lines.
 */
import { isConfigKey, type ConfigKey } from './schema.js';
import type { IniEntry } from './ini-file.js';

/** One raw value and where it came from, e.g. `env HOSTAGENT_HOST_ID`. */
export interface Setting {
  raw: string;
  origin: string;
  /** The alias means the opposite of the key ([ssl] disable vs amqp.tls.enabled). */
  invert?: boolean;
}

interface Alias {
  section: string;
  key: string;
  target: ConfigKey;
  invert?: true;
}

/** Historical names whose new key differs. Same-named ones ([hostagent] heartbeat_period, ...) need no alias. */
export const ALIASES: readonly Alias[] = [
  { section: 'ssl', key: 'disable', target: 'amqp.tls.enabled', invert: true },
  { section: 'ssl', key: 'ca_certs', target: 'amqp.tls.ca' },
  { section: 'ssl', key: 'certfile', target: 'amqp.tls.cert' },
  { section: 'ssl', key: 'keyfile', target: 'amqp.tls.key' },
  { section: 'amqp', key: 'amqp_heartbeat_interval', target: 'amqp.heartbeat' },
  { section: 'hostagent', key: 'desired_config_basedir_path', target: 'hostagent.state_dir' },
  { section: 'hostagent', key: 'app_cache_dir', target: 'packages.cache_dir' },
  { section: 'hostagent', key: 'log_level_name', target: 'log.level' },
];

/** Historical [amqp] keys that together stand for amqp.url. */
export const URL_PART_KEYS = ['host', 'port', 'username', 'password', 'virtual_host'] as const;
export type UrlPartKey = (typeof URL_PART_KEYS)[number];
export type UrlParts = Partial<Record<UrlPartKey, Setting>>;

export interface FileLayer {
  settings: Map<ConfigKey, Setting>;
  /** Only when the file gives no amqp.url of its own. */
  urlParts: UrlParts;
  warnings: string[];
}

function isUrlPart(key: string): key is UrlPartKey {
  return (URL_PART_KEYS as readonly string[]).includes(key);
}

export function originOf(path: string, entry: IniEntry): string {
  return `file ${path} [${entry.section}] ${entry.key}`;
}

export function fileLayer(entries: readonly IniEntry[], path: string): FileLayer {
  const explicit = new Map<ConfigKey, Setting>();
  const aliased = new Map<ConfigKey, Setting>();
  const urlParts: UrlParts = {};
  const warnings: string[] = [];

  for (const entry of entries) {
    const origin = originOf(path, entry);
    const setting: Setting = { raw: entry.value, origin };
    // `[amqp.tls] ca` and `[amqp] tls.ca` both name amqp.tls.ca.
    const dotted = `${entry.section}.${entry.key}`;
    if (isConfigKey(dotted)) {
      const other = explicit.get(dotted);
      if (other) warnings.push(`${origin}: ${dotted} is also given as ${other.origin}; this one wins`);
      explicit.set(dotted, setting);
      continue;
    }
    const alias = ALIASES.find((a) => a.section === entry.section && a.key === entry.key);
    if (alias) {
      aliased.set(alias.target, alias.invert ? { ...setting, invert: true } : setting);
      continue;
    }
    if (entry.section === 'amqp' && isUrlPart(entry.key)) {
      urlParts[entry.key] = setting;
      continue;
    }
    warnings.push(`${origin}: unknown key; ignored`);
  }

  // The historical agent used TLS whenever [ssl] certfile was set, unless [ssl] disable said otherwise.
  const certfile = entries.find((e) => e.section === 'ssl' && e.key === 'certfile');
  if (certfile && !aliased.has('amqp.tls.enabled')) {
    aliased.set('amqp.tls.enabled', { raw: 'true', origin: originOf(path, certfile) });
  }

  const settings = new Map<ConfigKey, Setting>();
  for (const [key, setting] of aliased) {
    const winner = explicit.get(key);
    if (winner) warnings.push(`${setting.origin}: ignored, ${key} is given as ${winner.origin}`);
    else settings.set(key, setting);
  }
  for (const [key, setting] of explicit) settings.set(key, setting);

  const url = explicit.get('amqp.url');
  const partNames = Object.keys(urlParts);
  if (url && partNames.length > 0) {
    warnings.push(`file ${path} [amqp] ${partNames.join(', ')}: ignored, amqp.url is given as ${url.origin}`);
    return { settings, urlParts: {}, warnings };
  }
  return { settings, urlParts, warnings };
}
