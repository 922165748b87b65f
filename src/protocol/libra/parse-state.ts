/**
 * The persisted load-balancer state (`lb_state.json`) -> LbState, checked as
 * strictly as a request: the file is rendered into proxy config at start,
 * so a hand-edited or half-written file must not slip an id with a newline
 * (config injection) or a port of 0 past the checks UPDATE applies.
 */
import type { LbMonitor, LbNode, LbState, LoadBalancer } from './model.js';
import { address, boolean, hostName, id, integer, invalid, oneOf, pem, requireObject, show, text, urlPath } from './fields.js';
import { ALGORITHMS, CONDITIONS, MONITOR_TYPES, PROTOCOLS } from './parse-load-balancer.js';

/** Bumped when the file's shape changes incompatibly, so an older agent refuses a newer file instead of misreading it. */
export const LB_STATE_FORMAT = 1;

export interface LbStateFile {
  format: typeof LB_STATE_FORMAT;
  suspended: boolean;
  loadBalancers: LoadBalancer[];
}

export function toLbStateFile(state: LbState): LbStateFile {
  return { format: LB_STATE_FORMAT, suspended: state.suspended, loadBalancers: state.loadBalancers };
}

export function parseLbStateFile(value: unknown): LbState {
  const file = requireObject(value, 'lb_state');
  if (file.format !== LB_STATE_FORMAT) throw invalid('lb_state.format', `must be ${LB_STATE_FORMAT}, got ${show(file.format)}`);
  if (typeof file.suspended !== 'boolean') throw invalid('lb_state.suspended', `must be true or false, got ${show(file.suspended)}`);
  if (!Array.isArray(file.loadBalancers) || file.loadBalancers.length > 2) {
    throw invalid('lb_state.loadBalancers', `must be a list of at most two load balancers, got ${show(file.loadBalancers)}`);
  }
  return {
    suspended: file.suspended,
    loadBalancers: file.loadBalancers.map((lb: unknown, i) => parseStoredLb(lb, `lb_state.loadBalancers[${i}]`)),
  };
}

function parseStoredLb(value: unknown, at: string): LoadBalancer {
  const lb = requireObject(value, at);
  if (!Array.isArray(lb.nodes)) throw invalid(`${at}.nodes`, `must be a list, got ${show(lb.nodes)}`);
  const timeouts = requireObject(lb.timeouts, `${at}.timeouts`);
  const ms = (name: 'client' | 'server' | 'connect'): number => integer(timeouts[name], `${at}.timeouts.${name}`, 1, 86_400_000);
  const result: LoadBalancer = {
    id: id(lb.id, `${at}.id`),
    name: text(lb.name, `${at}.name`),
    protocol: oneOf(lb.protocol, `${at}.protocol`, PROTOCOLS, 'protocol'),
    port: integer(lb.port, `${at}.port`, 1, 65535),
    algorithm: oneOf(lb.algorithm, `${at}.algorithm`, ALGORITHMS, 'algorithm'),
    nodes: lb.nodes.map((n: unknown, i) => parseStoredNode(n, `${at}.nodes[${i}]`)),
    timeouts: { client: ms('client'), server: ms('server'), connect: ms('connect') },
    retries: integer(lb.retries, `${at}.retries`, 0, 100),
  };
  if (lb.monitor !== undefined) result.monitor = parseStoredMonitor(lb.monitor, `${at}.monitor`);
  if (lb.hostname !== undefined) result.hostname = hostName(lb.hostname, `${at}.hostname`);
  if (lb.pathBegin !== undefined) result.pathBegin = urlPath(lb.pathBegin, `${at}.pathBegin`);
  if (lb.tls !== undefined) {
    const tls = requireObject(lb.tls, `${at}.tls`);
    result.tls = { certificate: pem(tls.certificate, `${at}.tls.certificate`), key: pem(tls.key, `${at}.tls.key`) };
    if (tls.certificateChain !== undefined) result.tls.certificateChain = pem(tls.certificateChain, `${at}.tls.certificateChain`);
  }
  return result;
}

function parseStoredNode(value: unknown, at: string): LbNode {
  const n = requireObject(value, at);
  if (typeof n.backup !== 'boolean') throw invalid(`${at}.backup`, `must be true or false, got ${show(n.backup)}`);
  return {
    id: id(n.id, `${at}.id`),
    address: address(n.address, `${at}.address`),
    port: integer(n.port, `${at}.port`, 1, 65535),
    weight: integer(n.weight, `${at}.weight`, 1, 256),
    backup: boolean(n.backup, `${at}.backup`, false),
    condition: oneOf(n.condition, `${at}.condition`, CONDITIONS, 'condition'),
  };
}

function parseStoredMonitor(value: unknown, at: string): LbMonitor {
  const m = requireObject(value, at);
  const monitor: LbMonitor = {
    type: oneOf(m.type, `${at}.type`, MONITOR_TYPES, 'monitor type'),
    delay: integer(m.delay, `${at}.delay`, 1, 3600),
    timeout: integer(m.timeout, `${at}.timeout`, 1, 3600),
    attempts: integer(m.attempts, `${at}.attempts`, 1, 10),
  };
  if (m.path !== undefined) monitor.path = urlPath(m.path, `${at}.path`);
  return monitor;
}
