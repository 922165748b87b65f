/**
 * One load balancer of an UPDATE (keys already lower-cased) -> the model.
 * Defaults and checks follow Libra's worker and its HAProxy driver:
 * algorithm ROUND_ROBIN; HTTP port 80 when absent while TCP needs one; node
 * id, address and port required; weight 1 by default and at most 256;
 * monitor type, delay, timeout and attempts required, path "/" by default and
 * prefixed with "/", timeout not above delay; timeouts from `options`
 * (client_timeout, server_timeout, connect_timeout in ms, 30000 each, and
 * connect_retries, 3).
 */
import type { LbMonitor, LbNode, LbTls, LoadBalancer } from './model.js';
import {
  address,
  boolean,
  hostName,
  id,
  integer,
  invalid,
  isPlainObject,
  oneOf,
  optionalInteger,
  pem,
  requireObject,
  show,
  text,
  urlPath,
} from './fields.js';

export const PROTOCOLS = ['HTTP', 'TCP'] as const;
export const ALGORITHMS = ['ROUND_ROBIN', 'LEAST_CONNECTIONS'] as const;
export const CONDITIONS = ['ENABLED', 'DISABLED'] as const;
export const MONITOR_TYPES = ['CONNECT', 'HTTP'] as const;

/** Libra's defaults (controller `_set_lb_options`), milliseconds. */
export const DEFAULT_TIMEOUTS = { client: 30_000, server: 30_000, connect: 30_000 } as const;
export const DEFAULT_RETRIES = 3;
/** HAProxy's timers top out near 24.8 days; a day is more than any sane LB timeout. */
const MAX_TIMEOUT_MS = 86_400_000;

/** `lb` has lower-case keys (see normalizeKeys); `at` is its path for errors, e.g. `loadBalancers[0]`. */
export function parseLoadBalancer(lb: Record<string, unknown>, at: string): LoadBalancer {
  const protocol = oneOf(lb.protocol, `${at}.protocol`, PROTOCOLS, 'protocol');
  if ((lb.port === undefined || lb.port === null) && protocol === 'TCP') {
    throw invalid(`${at}.port`, 'missing (a TCP load balancer needs a port)');
  }
  const port = optionalInteger(lb.port, `${at}.port`, 1, 65535, 80);
  // Libra's UPDATE never needed an id (one LB per protocol); the protocol name stands in, unique within one UPDATE.
  const lbId = lb.id === undefined || lb.id === null || lb.id === '' ? protocol.toLowerCase() : id(lb.id, `${at}.id`);
  const name = lb.name === undefined || lb.name === null ? lbId : text(lb.name, `${at}.name`);
  const algorithm = lb.algorithm === undefined ? 'ROUND_ROBIN' : oneOf(lb.algorithm, `${at}.algorithm`, ALGORITHMS, 'algorithm');

  const result: LoadBalancer = {
    id: lbId,
    name,
    protocol,
    port,
    algorithm,
    nodes: parseNodes(lb.nodes, `${at}.nodes`),
    ...parseOptions(lb, at),
  };
  if (lb.monitor !== undefined && lb.monitor !== null) result.monitor = parseMonitor(lb.monitor, `${at}.monitor`);
  if (lb.hostname !== undefined && lb.hostname !== null) {
    if (protocol !== 'HTTP') throw invalid(`${at}.hostname`, 'only HTTP load balancers route by host name');
    result.hostname = hostName(lb.hostname, `${at}.hostname`);
  }
  if (lb.path_begin !== undefined && lb.path_begin !== null) {
    if (protocol !== 'HTTP') throw invalid(`${at}.path_begin`, 'only HTTP load balancers route by path');
    result.pathBegin = urlPath(lb.path_begin, `${at}.path_begin`);
  }
  if (lb.tls !== undefined && lb.tls !== null) result.tls = parseTls(lb.tls, `${at}.tls`);
  return result;
}

function parseNodes(value: unknown, at: string): LbNode[] {
  if (value === undefined || value === null) throw invalid(at, 'missing (a load balancer needs at least one node)');
  if (!Array.isArray(value)) throw invalid(at, `must be a list of nodes, got ${show(value)}`);
  if (value.length === 0) throw invalid(at, 'must hold at least one node, got an empty list');
  const seen = new Map<string, number>();
  return value.map((entry: unknown, i) => {
    const node = parseNode(entry, `${at}[${i}]`);
    const first = seen.get(node.id);
    // Node ids name proxy servers: two alike would make one of them unaddressable.
    if (first !== undefined) throw invalid(`${at}[${i}].id`, `duplicate id ${show(node.id)} (also ${at}[${first}])`);
    seen.set(node.id, i);
    return node;
  });
}

function parseNode(value: unknown, at: string): LbNode {
  const node = requireObject(value, at);
  if (node.port === undefined) throw invalid(`${at}.port`, 'missing');
  if (node.address === undefined) throw invalid(`${at}.address`, 'missing');
  return {
    id: id(node.id, `${at}.id`),
    address: address(node.address, `${at}.address`),
    port: integer(node.port, `${at}.port`, 1, 65535),
    weight: optionalInteger(node.weight, `${at}.weight`, 1, 256, 1),
    backup: boolean(node.backup, `${at}.backup`, false),
    condition: node.condition === undefined ? 'ENABLED' : oneOf(node.condition, `${at}.condition`, CONDITIONS, 'condition'),
  };
}

function parseMonitor(value: unknown, at: string): LbMonitor {
  const m = requireObject(value, at);
  for (const field of ['type', 'delay', 'timeout', 'attempts']) {
    if (m[field] === undefined || m[field] === null) throw invalid(`${at}.${field}`, 'missing');
  }
  const type = oneOf(m.type, `${at}.type`, MONITOR_TYPES, 'monitor type');
  const delay = integer(m.delay, `${at}.delay`, 1, 3600);
  const timeout = integer(m.timeout, `${at}.timeout`, 1, 3600);
  const attempts = integer(m.attempts, `${at}.attempts`, 1, 10);
  // A check that may outlast its interval would overlap the next one (Libra refused it too).
  if (timeout > delay) throw invalid(`${at}.timeout`, `must not exceed delay (${delay}), got ${timeout}`);
  const monitor: LbMonitor = { type, delay, timeout, attempts };
  if (type === 'HTTP') {
    const raw = m.path === undefined || m.path === null || m.path === '' ? '/' : m.path;
    monitor.path = urlPath(typeof raw === 'string' && !raw.startsWith('/') ? `/${raw}` : raw, `${at}.path`);
  }
  return monitor;
}

function parseTls(value: unknown, at: string): LbTls {
  const t = requireObject(value, at);
  const tls: LbTls = { certificate: pem(t.certificate, `${at}.certificate`), key: pem(t.key, `${at}.key`) };
  if (t.certificate_chain !== undefined && t.certificate_chain !== null && t.certificate_chain !== '') {
    tls.certificateChain = pem(t.certificate_chain, `${at}.certificate_chain`);
  }
  return tls;
}

/** Libra carries timeouts in `options`; the same names at the load balancer's top level are accepted too. */
function parseOptions(lb: Record<string, unknown>, at: string): Pick<LoadBalancer, 'timeouts' | 'retries'> {
  const options = lb.options === undefined || lb.options === null ? {} : requireObject(lb.options, `${at}.options`);
  const pick = (name: string): { value: unknown; at: string } =>
    isPlainObject(options) && options[name] !== undefined
      ? { value: options[name], at: `${at}.options.${name}` }
      : { value: lb[name], at: `${at}.${name}` };
  const ms = (name: string, dflt: number): number => {
    const { value, at: where } = pick(name);
    return optionalInteger(value, where, 1, MAX_TIMEOUT_MS, dflt);
  };
  const retries = pick('connect_retries');
  return {
    timeouts: {
      client: ms('client_timeout', DEFAULT_TIMEOUTS.client),
      server: ms('server_timeout', DEFAULT_TIMEOUTS.server),
      connect: ms('connect_timeout', DEFAULT_TIMEOUTS.connect),
    },
    retries: optionalInteger(retries.value, retries.at, 0, 100, DEFAULT_RETRIES),
  };
}
