/**
 * Outbound backbone messages, built as plain data (no I/O) so their exact
 * shape is unit-tested and documented in one place.
 */
import type { AgentError } from '../../errors.js';
import type { ActualApp, ErrorMessage, HostInfoWire, HostStatus, StatusMessage } from './types.js';

export interface StatusInput {
  hostId: string;
  status: HostStatus;
  info: HostInfoWire;
  apps: Record<string, ActualApp>;
  agentVersion: string;
  heartbeatPeriod: number;
  desiredHash: string | null;
  now: Date;
  extra?: Record<string, unknown>;
}

export function buildStatusMessage(input: StatusInput): StatusMessage {
  return {
    opcode: 'status',
    data: {
      ...input.extra,
      host_id: input.hostId,
      status: input.status,
      info: input.info,
      apps: input.apps,
      host_agent: { status: 'running', version: input.agentVersion },
      timestamp: input.now.toISOString(),
      heartbeat_period: input.heartbeatPeriod,
      desired_hash: input.desiredHash,
    },
  };
}

const EXCERPT_CHARS = 200;
// Mask the values of secret-looking fields even in a body we could not parse.
const SECRET_FIELD = /("[^"]*(?:password|passwd|token|secret|key)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

export function excerptOf(body: Buffer): string {
  const text = body.subarray(0, EXCERPT_CHARS * 4).toString('utf8').replace(SECRET_FIELD, '$1"*****"');
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}...` : text;
}

/** Best effort: the opcode of a message we refused, when it had a readable one. */
export function opcodeOf(body: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'opcode' in parsed) {
      const op = parsed.opcode;
      if (typeof op === 'string') return op.slice(0, 64);
    }
  } catch {
    // Malformed JSON has no opcode to report; the excerpt shows what arrived.
  }
  return undefined;
}

export function buildErrorMessage(hostId: string, error: AgentError, body: Buffer): ErrorMessage {
  const opcode = opcodeOf(body);
  return {
    opcode: 'error',
    data: {
      host_id: hostId,
      error: { code: error.code, message: error.message },
      received: { ...(opcode !== undefined ? { opcode } : {}), excerpt: excerptOf(body) },
    },
  };
}
