/**
 * The agent's configuration once parsed and validated: frozen, passed in to
 * whatever needs it, never read from a global.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface TlsConfig {
  enabled: boolean;
  /** Paths of PEM files; empty string when not set. */
  ca: string;
  cert: string;
  key: string;
  verify: boolean;
}

export interface AmqpConfig {
  /** amqp:// or amqps:// URL, credentials included (masked whenever printed). */
  url: string;
  tls: TlsConfig;
  exchange: string;
  /** Empty means `bbslave-q-<host_id>`. */
  queue_name: string;
  durable: boolean;
  queue_type: 'classic' | 'quorum';
  /** Seconds. */
  connect_timeout: number;
  /** AMQP heartbeat, seconds; 0 disables. */
  heartbeat: number;
  prefetch: number;
}

export interface HostagentConfig {
  /** Empty means derived from the MAC address. */
  host_id: string;
  /** Seconds. */
  heartbeat_period: number;
  /** Base of the reconnect backoff, seconds. */
  connection_retry_period: number;
  /** Cap of the reconnect backoff, seconds. */
  connection_retry_max: number;
  max_converge_attempts: number;
  state_dir: string;
  /** Seconds between full re-reads of app configs (heartbeats in between trust the cache of what was set). */
  drift_check_period: number;
  /** Seconds an app hook (`/opt/pf9/<app>/config`) may run. */
  hook_timeout: number;
}

export interface PackagesConfig {
  cache_dir: string;
  backend: 'auto' | 'rpm' | 'deb';
  /** Install root with its own package database; "/" is the host. */
  root: string;
  require_checksum: boolean;
  /** Empty: any http(s) URL. */
  allowed_url_prefixes: string[];
  /** Seconds for one package download. */
  download_timeout: number;
}

export interface LbConfig {
  /** Address load balancers listen on. */
  bind_address: string;
  /** HAProxy's config, sockets and logs; empty: <state_dir>/<host_id>/lb. */
  run_dir: string;
  sozu: {
    /** sozu's command socket (a sozu dedicated to pf9-lb). */
    socket: string;
  };
}

export interface ControlConfig {
  /** Unix socket of the local control API; empty: off. */
  socket: string;
}

export interface MetricsConfig {
  /** host:port of the Prometheus endpoint; empty: off. */
  listen: string;
}

export interface ServicesConfig {
  driver: 'auto' | 'systemd' | 'supervisor';
}

export interface AgentConfig {
  amqp: AmqpConfig;
  hostagent: HostagentConfig;
  packages: PackagesConfig;
  services: ServicesConfig;
  lb: LbConfig;
  control: ControlConfig;
  metrics: MetricsConfig;
  log: { level: LogLevel };
}

export type DeepReadonly<T> = { readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K] };

export type FrozenConfig = DeepReadonly<AgentConfig>;
