/**
 * `--print-config`: the effective configuration as an INI file, each key
 * with where its value came from. Secrets are masked, so the output can be
 * pasted into a ticket. The `; from` comments follow a blank, which our
 * reader (like the historical ConfigParser) treats as an inline comment, so
 * apart from masked secrets the output reads back as the same config.
 */
import { maskValue } from './mask.js';
import { SCHEMA_KEYS } from './schema.js';
import type { FrozenConfig } from './types.js';

function valueAt(config: FrozenConfig, key: string): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) {
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
  }
  return node;
}

function asText(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join(',');
  return String(value);
}

export function formatConfig(config: FrozenConfig, origins: Readonly<Record<string, string>>): string {
  // Grouped by section in order of first appearance: [amqp.tls] sits amid amqp's keys in the schema.
  const sections = new Map<string, string[]>();
  for (const key of SCHEMA_KEYS) {
    const section = key.slice(0, key.lastIndexOf('.'));
    sections.set(section, [...(sections.get(section) ?? []), key]);
  }
  const lines = ['; pf9-hostagent effective configuration (secrets masked)'];
  for (const [section, keys] of sections) {
    lines.push('', `[${section}]`);
    for (const key of keys) {
      const name = key.slice(section.length + 1);
      const value = maskValue(key, asText(valueAt(config, key)));
      const assignment = value === '' ? `${name} =` : `${name} = ${value}`;
      lines.push(`${assignment}  ; from ${origins[key] ?? 'default'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
