/**
 * The load-balancer model, as Libra used it, after validation and
 * normalization (src/protocol/libra turns requests into it). Engines
 * (haproxy, sozu) render or apply it; the state store persists it.
 */
export type LbProtocol = 'HTTP' | 'TCP';
export type LbAlgorithm = 'ROUND_ROBIN' | 'LEAST_CONNECTIONS';

export interface LbNode {
  id: string;
  address: string;
  port: number;
  /** 1..256 */
  weight: number;
  backup: boolean;
  condition: 'ENABLED' | 'DISABLED';
}

export interface LbMonitor {
  type: 'CONNECT' | 'HTTP';
  /** Seconds between checks. */
  delay: number;
  /** Seconds a check may take. */
  timeout: number;
  /** Failed checks before a node is DOWN. */
  attempts: number;
  /** HTTP monitors: the path to GET. */
  path?: string;
}

export interface LbTls {
  certificate: string;
  certificateChain?: string;
  key: string;
}

export interface LoadBalancer {
  id: string;
  name: string;
  protocol: LbProtocol;
  port: number;
  algorithm: LbAlgorithm;
  nodes: LbNode[];
  monitor?: LbMonitor;
  hostname?: string;
  pathBegin?: string;
  tls?: LbTls;
  /** Milliseconds. */
  timeouts: { client: number; server: number; connect: number };
  retries: number;
}

/** Everything the agent holds for the load-balancer app; persisted before PASS is sent. */
export interface LbState {
  loadBalancers: LoadBalancer[];
  /** SUSPEND: frontends disabled, config kept. */
  suspended: boolean;
}

export const EMPTY_LB_STATE: LbState = { loadBalancers: [], suspended: false };

export type NodeStatus = 'UP' | 'DOWN' | 'MAINT';

export interface LbNodeStats {
  id: string;
  address: string;
  port: number;
  status: NodeStatus;
}

export interface LbCounters {
  id: string;
  protocol: LbProtocol;
  bytes_in: number;
  bytes_out: number;
  current_sessions: number;
  total_sessions: number;
}
