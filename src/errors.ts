/**
 * One error family for the whole agent. Callers (and the master, through
 * error and status messages) branch on `code`, never on message text, so a
 * code, once shipped, keeps its meaning.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_FILE_UNREADABLE'
  | 'USAGE'
  | 'HOST_ID_UNAVAILABLE'
  | 'MESSAGE_MALFORMED'
  | 'MESSAGE_INVALID'
  | 'OPCODE_UNKNOWN'
  | 'NOT_SUPPORTED'
  | 'BUS_TOPOLOGY'
  | 'BUS_UNAVAILABLE'
  | 'BUS_CLOSED'
  | 'PACKAGE_URL_NOT_ALLOWED'
  | 'PACKAGE_DOWNLOAD_FAILED'
  | 'PACKAGE_CHECKSUM_MISMATCH'
  | 'PACKAGE_CHECKSUM_REQUIRED'
  | 'PACKAGE_MISMATCH'
  | 'PACKAGE_INSTALL_FAILED'
  | 'PACKAGE_REMOVE_FAILED'
  | 'PACKAGE_QUERY_FAILED'
  | 'HOOK_FAILED'
  | 'SERVICE_FAILED'
  | 'CONVERGE_GAVE_UP'
  | 'LB_REQUEST_INVALID'
  | 'LB_INVALID'
  | 'LB_APPLY_FAILED'
  | 'LB_ARCHIVE_FAILED'
  | 'LB_NOT_SUPPORTED'
  | 'STATE_WRITE_FAILED'
  | 'STATE_CORRUPT'
  | 'INTERNAL';

export class AgentError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** What goes on the wire: code and a message a person can act on. */
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** A bad configuration value: names the key, the value (masked if secret) and where it came from. */
export class ConfigError extends AgentError {
  constructor(message: string, options?: { cause?: unknown; code?: 'CONFIG_INVALID' | 'CONFIG_FILE_UNREADABLE' }) {
    super(options?.code ?? 'CONFIG_INVALID', message, options);
  }
}

export class UsageError extends AgentError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** An inbound message that cannot be handled as sent; `field` names what is wrong. */
export class MessageError extends AgentError {
  readonly field: string | undefined;

  constructor(
    code: 'MESSAGE_MALFORMED' | 'MESSAGE_INVALID' | 'OPCODE_UNKNOWN' | 'NOT_SUPPORTED',
    message: string,
    field?: string,
  ) {
    super(code, message);
    this.field = field;
  }
}

export class BusError extends AgentError {}

/** A package could not be fetched, verified, installed or removed; the message carries the tool's stderr tail. */
export class PackageError extends AgentError {}

/** An app's config hook or service could not do what was asked. */
export class AppError extends AgentError {}

/** A load-balancer request or change that failed; the message becomes the Libra reply's hpcs_error. */
export class LbError extends AgentError {}

export class StateError extends AgentError {}

/**
 * The last `max` characters of a tool's output, trimmed, for an error
 * message: the end is where tools name what went wrong.
 */
export function textTail(text: string, max: number): string {
  const t = text.trim();
  return t.length > max ? `...${t.slice(-max)}` : t;
}

/** Turns anything thrown into an AgentError without losing the original as `cause`. */
export function toAgentError(err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AgentError('INTERNAL', message, { cause: err });
}
