/**
 * The convict schema: one entry per key of AgentConfig with its doc, default,
 * format check and env name. Values reach convict already typed (see
 * coerce.ts), so each `format` only checks ranges and enums; its message is
 * the "why" part of a ConfigError line and never repeats the value, because
 * the loader adds the value (masked when secret) and where it came from.
 */
import type convict from 'convict';
import type { AgentConfig, LogLevel } from './types.js';

type Check = (value: unknown) => void;

export interface KeySchema<T> extends convict.SchemaObj<T> {
  doc: string;
  default: T;
  format: Check;
  env: string;
  /** Maps accepted alternative spellings onto the canonical value before `format` runs. */
  normalize?: (raw: string) => string;
}

type SchemaOf<T> = {
  [K in keyof T]: T[K] extends string | number | boolean | readonly unknown[] ? KeySchema<T[K]> : SchemaOf<T[K]>;
};

type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string | number | boolean | readonly unknown[]
    ? `${P}${K}`
    : Leaves<T[K], `${P}${K}.`>;
}[keyof T & string];

/** A dotted key of AgentConfig, e.g. `amqp.tls.ca`. */
export type ConfigKey = Leaves<AgentConfig>;

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Python logging names used by the historical agent's `log_level_name`. */
const PYTHON_LOG_LEVELS: Readonly<Record<string, LogLevel>> = {
  warning: 'warn',
  critical: 'fatal',
};

export function normalizeLogLevel(raw: string): string {
  const lower = raw.trim().toLowerCase();
  return PYTHON_LOG_LEVELS[lower] ?? lower;
}

function fail(message: string): never {
  throw new Error(message);
}

export function integerIn(min: number, max?: number): Check {
  return (value) => {
    const ok = typeof value === 'number' && Number.isInteger(value) && value >= min && (max === undefined || value <= max);
    if (!ok) fail(max === undefined ? `must be an integer >= ${min}` : `must be an integer from ${min} to ${max}`);
  };
}

export function numberAbove(min: number): Check {
  return (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= min) fail(`must be a number > ${min}`);
  };
}

export function oneOf(values: readonly string[], hint = ''): Check {
  return (value) => {
    if (typeof value !== 'string' || !values.includes(value)) fail(`must be one of ${values.join(', ')}${hint}`);
  };
}

const anyString: Check = (value) => {
  if (typeof value !== 'string') fail('must be a string');
};

const nonEmptyString: Check = (value) => {
  if (typeof value !== 'string' || value === '') fail('must not be empty');
};

const aBoolean: Check = (value) => {
  if (typeof value !== 'boolean') fail('must be a boolean');
};

const stringList: Check = (value) => {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) fail('must be a comma-separated list');
};

const amqpUrl: Check = (value) => {
  if (typeof value !== 'string') fail('must be a string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail('is not a valid URL');
  }
  if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') fail('must start with amqp:// or amqps://');
  if (url.hostname === '') fail('has no host');
};

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@localhost:5672/';

export const configSchema: SchemaOf<AgentConfig> = {
  amqp: {
    url: {
      doc: 'Broker URL, credentials included; amqps:// for TLS. Historical files give [amqp] host, port, username, password, virtual_host instead.',
      default: DEFAULT_AMQP_URL,
      format: amqpUrl,
      env: 'HOSTAGENT_AMQP_URL',
      // convict's own toString() hides it whole; our printers mask only the password (mask.ts).
      sensitive: true,
    },
    tls: {
      enabled: {
        doc: 'Use TLS to the broker. Kept consistent with the URL scheme (amqps:// means enabled).',
        default: false,
        format: aBoolean,
        env: 'HOSTAGENT_AMQP_TLS_ENABLED',
      },
      ca: { doc: 'Path of the CA bundle (PEM); empty: system CAs.', default: '', format: anyString, env: 'HOSTAGENT_AMQP_TLS_CA' },
      cert: { doc: 'Path of the client certificate (PEM); empty: none.', default: '', format: anyString, env: 'HOSTAGENT_AMQP_TLS_CERT' },
      key: { doc: 'Path of the client private key (PEM); empty: none.', default: '', format: anyString, env: 'HOSTAGENT_AMQP_TLS_KEY' },
      verify: {
        doc: "Verify the broker's certificate and host name.",
        default: true,
        format: aBoolean,
        env: 'HOSTAGENT_AMQP_TLS_VERIFY',
      },
    },
    exchange: { doc: 'Topic exchange of the backbone.', default: 'pf9-bbone', format: nonEmptyString, env: 'HOSTAGENT_AMQP_EXCHANGE' },
    queue_name: {
      doc: 'Queue of this host; empty means bbslave-q-<host_id>.',
      default: '',
      format: anyString,
      env: 'HOSTAGENT_AMQP_QUEUE_NAME',
    },
    durable: {
      doc: 'Declare the queue durable. The historical master declares it non-durable; both sides must agree.',
      default: false,
      format: aBoolean,
      env: 'HOSTAGENT_AMQP_DURABLE',
    },
    queue_type: {
      doc: 'RabbitMQ queue type (quorum queues are always durable).',
      default: 'classic',
      format: oneOf(['classic', 'quorum']),
      env: 'HOSTAGENT_AMQP_QUEUE_TYPE',
    },
    connect_timeout: {
      doc: 'Seconds to wait for the broker connection to open.',
      default: 10,
      format: numberAbove(0),
      env: 'HOSTAGENT_AMQP_CONNECT_TIMEOUT',
    },
    heartbeat: {
      doc: 'AMQP heartbeat in seconds; 0 disables it.',
      default: 30,
      format: integerIn(0, 65535),
      env: 'HOSTAGENT_AMQP_HEARTBEAT',
    },
    prefetch: {
      doc: 'Unacknowledged messages the broker may push at once.',
      default: 16,
      format: integerIn(1, 65535),
      env: 'HOSTAGENT_AMQP_PREFETCH',
    },
  },
  hostagent: {
    // The section's own keys drop the doubled prefix: the historical agent read HOSTAGENT_HOST_ID.
    host_id: {
      doc: 'Id of this host; empty means derived from the MAC address.',
      default: '',
      format: anyString,
      env: 'HOSTAGENT_HOST_ID',
    },
    heartbeat_period: {
      // Whole seconds: the heartbeat is scheduled with second granularity.
      doc: 'Seconds between status messages to the master.',
      default: 60,
      format: integerIn(1),
      env: 'HOSTAGENT_HEARTBEAT_PERIOD',
    },
    connection_retry_period: {
      doc: 'Base of the reconnect backoff, seconds (fractions allowed).',
      default: 10,
      format: numberAbove(0),
      env: 'HOSTAGENT_CONNECTION_RETRY_PERIOD',
    },
    connection_retry_max: {
      doc: 'Cap of the reconnect backoff, seconds; at least connection_retry_period.',
      default: 300,
      format: numberAbove(0),
      env: 'HOSTAGENT_CONNECTION_RETRY_MAX',
    },
    max_converge_attempts: {
      doc: 'Converge attempts for one desired state before reporting failure.',
      default: 30,
      format: integerIn(1),
      env: 'HOSTAGENT_MAX_CONVERGE_ATTEMPTS',
    },
    state_dir: {
      doc: 'Directory of durable state (desired_apps.json per host id).',
      default: '/var/opt/pf9/hostagent',
      format: nonEmptyString,
      env: 'HOSTAGENT_STATE_DIR',
    },
    drift_check_period: {
      doc: 'Seconds between full re-reads of app configs through their hooks; heartbeats in between compare with what was last set.',
      default: 600,
      format: numberAbove(0),
      env: 'HOSTAGENT_DRIFT_CHECK_PERIOD',
    },
    hook_timeout: {
      doc: 'Seconds an app hook (/opt/pf9/<app>/config) may run before it is killed and the app reported failed.',
      default: 60,
      format: numberAbove(0),
      env: 'HOSTAGENT_HOOK_TIMEOUT',
    },
  },
  packages: {
    cache_dir: {
      doc: 'Directory of downloaded app packages.',
      default: '/var/cache/pf9apps',
      format: nonEmptyString,
      env: 'HOSTAGENT_PACKAGES_CACHE_DIR',
    },
    backend: {
      doc: 'Package backend: rpm, deb, or auto (by the OS family in /etc/os-release, not by which tools exist).',
      default: 'auto',
      format: oneOf(['auto', 'rpm', 'deb']),
      env: 'HOSTAGENT_PACKAGES_BACKEND',
    },
    root: {
      doc: 'Install root with its own package database; / is the host itself (other roots: tests, image builders).',
      default: '/',
      format: nonEmptyString,
      env: 'HOSTAGENT_PACKAGES_ROOT',
    },
    require_checksum: {
      doc: 'Refuse an app whose desired entry has no sha256.',
      default: false,
      format: aBoolean,
      env: 'HOSTAGENT_PACKAGES_REQUIRE_CHECKSUM',
    },
    allowed_url_prefixes: {
      doc: 'Comma-separated URL prefixes packages may be downloaded from (redirects included); empty: any http(s) URL.',
      default: [],
      format: stringList,
      env: 'HOSTAGENT_PACKAGES_ALLOWED_URL_PREFIXES',
    },
    download_timeout: {
      doc: 'Seconds one package download may take.',
      default: 300,
      format: numberAbove(0),
      env: 'HOSTAGENT_PACKAGES_DOWNLOAD_TIMEOUT',
    },
  },
  services: {
    driver: {
      doc: 'Service manager: systemd, supervisor (built in, for hosts without systemd), or auto (systemd when it runs and packages.root is /).',
      default: 'auto',
      format: oneOf(['auto', 'systemd', 'supervisor']),
      env: 'HOSTAGENT_SERVICES_DRIVER',
    },
  },
  lb: {
    bind_address: {
      doc: 'Address the load balancers of the pf9-lb app listen on.',
      default: '0.0.0.0',
      format: nonEmptyString,
      env: 'HOSTAGENT_LB_BIND_ADDRESS',
    },
    run_dir: {
      doc: "Directory of the load balancer's config, sockets, state and logs; empty: <state_dir>/<host_id>/lb.",
      default: '',
      format: anyString,
      env: 'HOSTAGENT_LB_RUN_DIR',
    },
    sozu: {
      socket: {
        doc: "sozu's command socket, for config.engine = sozu (a sozu dedicated to pf9-lb: the agent owns everything it routes).",
        default: '/run/sozu/sozu.sock',
        format: nonEmptyString,
        env: 'HOSTAGENT_LB_SOZU_SOCKET',
      },
    },
  },
  control: {
    socket: {
      doc: 'Unix socket of the local control API (teeth JSON lines; pf9-hostagent ctl), mode 0600; empty: off.',
      default: '/run/pf9/hostagent.sock',
      format: anyString,
      env: 'HOSTAGENT_CONTROL_SOCKET',
    },
  },
  metrics: {
    listen: {
      doc: 'host:port of the Prometheus endpoint (GET /metrics), e.g. 127.0.0.1:9469; empty: off.',
      default: '',
      format: anyString,
      env: 'HOSTAGENT_METRICS_LISTEN',
    },
  },
  log: {
    level: {
      doc: 'pino level; the Python names INFO, WARN, WARNING, DEBUG, ERROR, CRITICAL are accepted (any case).',
      default: 'info',
      format: oneOf(LOG_LEVELS, ' (or a Python level name: WARNING, CRITICAL, ...)'),
      env: 'HOSTAGENT_LOG_LEVEL',
      normalize: normalizeLogLevel,
    },
  },
};

function isKeySchema(node: object): node is KeySchema<unknown> {
  return 'default' in node;
}

function collectLeaves(node: object, prefix: string, out: Map<string, KeySchema<unknown>>): void {
  for (const [name, child] of Object.entries(node) as [string, object][]) {
    const key = `${prefix}${name}`;
    if (isKeySchema(child)) out.set(key, child);
    else collectLeaves(child, `${key}.`, out);
  }
}

const leaves = new Map<string, KeySchema<unknown>>();
collectLeaves(configSchema, '', leaves);

/** Every key, in schema order (the order of --print-config and of error lines). */
export const SCHEMA_KEYS: readonly ConfigKey[] = [...leaves.keys()] as ConfigKey[];

export function isConfigKey(key: string): key is ConfigKey {
  return leaves.has(key);
}

export function keySchema(key: ConfigKey): KeySchema<unknown> {
  const leaf = leaves.get(key);
  if (leaf === undefined) throw new Error(`no schema for ${key}`);
  return leaf;
}
