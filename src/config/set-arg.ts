/**
 * `--set section.key=value`, shared by the argument parser (which rejects
 * bad ones as usage errors) and the loader (which may be called directly).
 */
import { isConfigKey, SCHEMA_KEYS, type ConfigKey } from './schema.js';
import { maskUrl } from './mask.js';

export type SetArg = { ok: true; key: ConfigKey; value: string } | { ok: false; message: string };

export function parseSetArg(text: string): SetArg {
  const eq = text.indexOf('=');
  if (eq < 0) {
    // Masked: someone may have typed `amqp.url amqp://user:password@host`.
    return { ok: false, message: `--set ${JSON.stringify(maskUrl(text))} is not key=value` };
  }
  const key = text.slice(0, eq).trim();
  if (!isConfigKey(key)) {
    // The value is not echoed: it could be a secret meant for a misspelt key.
    return {
      ok: false,
      message: `--set ${JSON.stringify(key)}: unknown config key (known keys: ${SCHEMA_KEYS.join(', ')})`,
    };
  }
  return { ok: true, key, value: text.slice(eq + 1) };
}
