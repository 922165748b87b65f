/**
 * Range, enum and cross-key checks on already-typed values. convict runs the
 * per-key `format` checks of the schema; its error is one text with a line
 * per bad key (`<key>: <why>[: value was ...]`), which we split back into
 * key and reason so each line can be rewritten with the raw value (masked)
 * and its origin, like every other config error.
 */
import convict from 'convict';
import { configSchema, SCHEMA_KEYS, type ConfigKey } from './schema.js';
import type { AgentConfig } from './types.js';

export interface Problem {
  /** Undefined when convict reported something we could not attribute to a key. */
  key: ConfigKey | undefined;
  reason: string;
  /** Another key the reason depends on, whose origin the message should name too. */
  related?: ConfigKey;
}

export interface Validated {
  config: AgentConfig;
  problems: Problem[];
}

// Longest first, so `amqp.tls.key` is not read as a line about a shorter key that prefixes it.
const KEYS_LONGEST_FIRST = [...SCHEMA_KEYS].sort((a, b) => b.length - a.length);

function splitConvictMessage(message: string): Problem[] {
  return message
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const key = KEYS_LONGEST_FIRST.find((k) => line.startsWith(`${k}: `));
      if (key === undefined) return { key: undefined, reason: line };
      return { key, reason: line.slice(key.length + 2).replace(/: value was .*$/, '') };
    });
}

export function validateValues(values: ReadonlyMap<ConfigKey, unknown>): Validated {
  // Empty env and args: convict must not read process.env or process.argv behind our back.
  const conf = convict<AgentConfig>(configSchema, { env: {}, args: [] });
  // Typed as plain string: the values are checked below, not by convict's typings.
  for (const [key, value] of values) conf.set<string>(key, value);
  let problems: Problem[] = [];
  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    problems = splitConvictMessage(err instanceof Error ? err.message : String(err));
  }
  const config = conf.getProperties();
  if (!problems.some((p) => p.key?.startsWith('hostagent.connection_retry_') ?? false)) {
    const { connection_retry_period: period, connection_retry_max: max } = config.hostagent;
    if (max < period) {
      problems.push({
        key: 'hostagent.connection_retry_max',
        reason: `must be >= hostagent.connection_retry_period (${period})`,
        related: 'hostagent.connection_retry_period',
      });
    }
  }
  return { config, problems };
}
