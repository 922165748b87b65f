/**
 * Structured logs: one JSON line per event, fields rather than prose, so a
 * fleet's logs can be searched by host_id, app and message id. Secrets are
 * redacted by path here as a second line of defence; the first is never to
 * put them in a log call at all.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'key_data',
  '*.key_data',
  'hpcs_object_store_token',
  '*.hpcs_object_store_token',
];

export function createLogger(opts: {
  level: string;
  base?: Record<string, unknown>;
  destination?: DestinationStream;
}): Logger {
  return pino(
    {
      level: opts.level,
      base: { ...opts.base },
      redact: { paths: REDACT_PATHS, censor: '*****' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
