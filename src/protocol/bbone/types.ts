/**
 * Typed shapes of the backbone protocol (pf9-bbone). Extra fields are
 * allowed everywhere: masters of different ages send different extras.
 */
export interface DesiredApp {
  version: string;
  url?: string;
  running: boolean;
  config?: Record<string, unknown>;
  sha256?: string;
  [extra: string]: unknown;
}

/** The complete desired set of apps for one host, keyed by app (package) name. */
export type DesiredApps = Record<string, DesiredApp>;

export type BboneInbound =
  | { kind: 'ping' }
  | { kind: 'set_config'; apps: DesiredApps }
  | { kind: 'libra'; request: Record<string, unknown> };

export type HostStatus = 'ok' | 'converging' | 'errors';

export interface ActualApp {
  version: string;
  url?: string;
  running: boolean;
  config: Record<string, unknown>;
  error?: { code: string; message: string };
  [extra: string]: unknown;
}

export interface HostInfoWire {
  hostname: string;
  os_family: string;
  arch: string;
  os_info: string;
}

export interface StatusMessage {
  opcode: 'status';
  data: {
    host_id: string;
    status: HostStatus;
    info: HostInfoWire;
    apps: Record<string, ActualApp>;
    host_agent: { status: 'running'; version: string };
    timestamp: string;
    heartbeat_period: number;
    desired_hash: string | null;
    [extra: string]: unknown;
  };
}

export interface ErrorMessage {
  opcode: 'error';
  data: {
    host_id: string;
    error: { code: string; message: string };
    received: { opcode?: string; excerpt: string };
  };
}
