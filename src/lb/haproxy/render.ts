/**
 * The load-balancer state as an HAProxy 2.6 configuration: a pure function
 * of (state, paths), so the same state always gives the same bytes and the
 * engine can tell "nothing to do" by comparing text.
 *
 * Layout: one `frontend` and one `backend` per load balancer, both named by
 * its id (HAProxy keeps frontends and backends in separate namespaces), so
 * the runtime API addresses servers as `<lb id>/<node id>`. A separate
 * frontend lets SUSPEND disable the listener while the backend keeps its
 * health checks and stays visible in `show stat`.
 *
 * Values end up as words of a config line, where a space, `#`, a quote or a
 * backslash would change what HAProxy reads; rather than quote, anything
 * outside a safe alphabet is refused with LB_INVALID naming the field.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { LbError } from '../../errors.js';
import type { LbMonitor, LbNode, LbState, LoadBalancer } from '../model.js';

export interface RenderOptions {
  /** Address every frontend binds (`lb.bind_address`). */
  bindAddress: string;
  /** Holds admin.sock and tls/. */
  runDir: string;
  /** `server-state-file`: written from `show servers state` before each reload. */
  stateFile: string;
  /**
   * HAProxy's log target. The engine passes `stdout`: HAProxy's stdout is a
   * file the engine owns and splits per load balancer (see log-capture.ts).
   */
  logTarget: string;
  /** Old workers still serving long connections after a reload are stopped after this. Default 5 min. */
  hardStopAfterMs?: number;
}

/** HAProxy's alphabet for proxy and server names (also safe as a cookie value, log tag and file name). */
const NAME_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** RFC 3986 path characters, minus the single quote HAProxy 2.x reads as a quote. */
const PATH_RE = /^\/[A-Za-z0-9._~!$&()*+,;=:@%/-]*$/;
const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const ADDRESS_RE = /^[A-Za-z0-9.:-]+$/;

const invalid = (field: string, problem: string): LbError => new LbError('LB_INVALID', `${field}: ${problem}`);

export function isValidName(name: string): boolean {
  return NAME_RE.test(name);
}

/** `host:port` as HAProxy reads it; IPv6 literals in brackets. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** HAProxy time: whole seconds as `Ns` (readable), otherwise `Nms`. */
export function duration(ms: number): string {
  const n = Math.max(0, Math.round(ms));
  return n > 0 && n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

/** What HAProxy's `crt` file holds: certificate, chain, then key. */
export function tlsPem(lb: LoadBalancer): string | undefined {
  if (!lb.tls) return undefined;
  const part = (s: string): string => (s.endsWith('\n') ? s : `${s}\n`);
  const { certificate, certificateChain, key } = lb.tls;
  return part(certificate) + (certificateChain ? part(certificateChain) : '') + part(key);
}

/**
 * The PEM file's path is named by its content's hash: a new certificate is a
 * new file, so `haproxy -c` can check a candidate config while the running
 * one still points at the old file, and a rejected one leaves it untouched.
 */
export function tlsPemPath(runDir: string, lb: LoadBalancer): string | undefined {
  const pem = tlsPem(lb);
  if (pem === undefined) return undefined;
  const hash = createHash('sha256').update(pem).digest('hex').slice(0, 16);
  return join(runDir, 'tls', `${lb.id}-${hash}.pem`);
}

/** Throws LB_INVALID for what HAProxy could misread or what would collide at run time. */
export function checkRenderable(state: LbState): void {
  const ids = new Set<string>();
  const ports = new Map<number, string>();
  state.loadBalancers.forEach((lb, i) => {
    const at = `loadBalancers[${i}]`;
    if (!isValidName(lb.id)) throw invalid(`${at}.id`, `${JSON.stringify(lb.id)} must be 1-64 of A-Z a-z 0-9 _ . : -`);
    if (ids.has(lb.id)) throw invalid(`${at}.id`, `duplicate load balancer id ${lb.id}`);
    ids.add(lb.id);
    const other = ports.get(lb.port);
    if (other !== undefined) throw invalid(`${at}.port`, `port ${lb.port} is already used by load balancer ${other}`);
    ports.set(lb.port, lb.id);
    if (lb.protocol === 'TCP' && (lb.hostname !== undefined || lb.pathBegin !== undefined)) {
      throw invalid(`${at}.hostname`, 'hostname and path_begin apply to HTTP load balancers only');
    }
    if (lb.hostname !== undefined && !HOST_RE.test(lb.hostname)) throw invalid(`${at}.hostname`, `${JSON.stringify(lb.hostname)} is not a host name`);
    if (lb.pathBegin !== undefined && !PATH_RE.test(lb.pathBegin)) throw invalid(`${at}.path_begin`, `${JSON.stringify(lb.pathBegin)} is not a URL path`);
    if (lb.monitor?.path !== undefined && !PATH_RE.test(lb.monitor.path)) throw invalid(`${at}.monitor.path`, `${JSON.stringify(lb.monitor.path)} is not a URL path`);
    const nodeIds = new Set<string>();
    lb.nodes.forEach((node, j) => {
      const nat = `${at}.nodes[${j}]`;
      if (!isValidName(node.id)) throw invalid(`${nat}.id`, `${JSON.stringify(node.id)} must be 1-64 of A-Z a-z 0-9 _ . : -`);
      if (nodeIds.has(node.id)) throw invalid(`${nat}.id`, `duplicate node id ${node.id}`);
      nodeIds.add(node.id);
      if (!ADDRESS_RE.test(node.address)) throw invalid(`${nat}.address`, `${JSON.stringify(node.address)} is not an address`);
    });
  });
}

/** The `check ...` words of a server line, shared with `add server` at run time. */
export function checkWords(monitor: LbMonitor | undefined): string[] {
  if (!monitor) return [];
  // Rise equals fall, as Libra configured it: a node needs as many good checks to come back as bad ones to leave.
  const attempts = Math.max(1, Math.round(monitor.attempts));
  return ['check', 'inter', duration(monitor.delay * 1000), 'fall', String(attempts), 'rise', String(attempts)];
}

/** A server line's words after `server <name>`; `add server` takes the same ones (except cookie). */
export function serverWords(lb: LoadBalancer, node: LbNode, opts: { cookie: boolean }): string[] {
  const words = [hostPort(node.address, node.port), 'weight', String(node.weight)];
  if (node.backup) words.push('backup');
  if (node.condition === 'DISABLED') words.push('disabled');
  if (opts.cookie) words.push('cookie', node.id);
  words.push(...checkWords(lb.monitor));
  return words;
}

function renderFrontend(lb: LoadBalancer, state: LbState, opts: RenderOptions): string[] {
  const http = lb.protocol === 'HTTP';
  const pem = tlsPemPath(opts.runDir, lb);
  const lines = [`frontend ${lb.id}`, `    mode ${http ? 'http' : 'tcp'}`];
  lines.push(`    bind ${hostPort(opts.bindAddress, lb.port)}${pem ? ` ssl crt ${pem}` : ''}`);
  if (state.suspended) lines.push('    disabled');
  lines.push(`    log-tag ${lb.id}`, `    option ${http ? 'httplog' : 'tcplog'}`);
  // Measured here (DESIGN.md): without it a reload drops requests that keep-alive clients send on idle connections the old worker closes.
  if (http) lines.push('    option idle-close-on-response');
  lines.push(`    timeout client ${duration(lb.timeouts.client)}`);
  if (http && pem) lines.push('    http-request set-header X-Forwarded-Proto https');
  const acls: string[] = [];
  if (lb.hostname !== undefined) {
    // Host may carry a port ("example.com:8080"); compare the name only.
    lines.push(`    acl lb_host req.hdr(host),field(1,:) -i ${lb.hostname}`);
    acls.push('lb_host');
  }
  if (lb.pathBegin !== undefined) {
    lines.push(`    acl lb_path path_beg ${lb.pathBegin}`);
    acls.push('lb_path');
  }
  if (acls.length > 0) lines.push(`    http-request deny deny_status 404 unless ${acls.join(' ')}`);
  lines.push(`    default_backend ${lb.id}`);
  return lines;
}

function renderBackend(lb: LoadBalancer): string[] {
  const http = lb.protocol === 'HTTP';
  const lines = [`backend ${lb.id}`, `    mode ${http ? 'http' : 'tcp'}`, `    log-tag ${lb.id}`];
  lines.push(`    balance ${lb.algorithm === 'LEAST_CONNECTIONS' ? 'leastconn' : 'roundrobin'}`);
  if (http) lines.push('    cookie SERVERID insert indirect nocache', '    option forwardfor');
  else lines.push('    stick-table type ip size 100k expire 30m', '    stick on src');
  lines.push(`    retries ${lb.retries}`);
  lines.push(`    timeout connect ${duration(lb.timeouts.connect)}`, `    timeout server ${duration(lb.timeouts.server)}`);
  if (lb.monitor) {
    if (lb.monitor.type === 'HTTP') lines.push(`    option httpchk GET ${lb.monitor.path ?? '/'}`);
    lines.push(`    timeout check ${duration(lb.monitor.timeout * 1000)}`);
  }
  for (const node of lb.nodes) lines.push(`    server ${node.id} ${serverWords(lb, node, { cookie: http }).join(' ')}`);
  return lines;
}

export function renderHaproxyConfig(state: LbState, opts: RenderOptions): string {
  checkRenderable(state);
  const out = [
    '# Written by pf9-hostagent from its load-balancer state; edits are overwritten by the next change.',
    'global',
    '    master-worker',
    // expose-fd lets a new worker take the listening sockets over from the old one (no refused connections on reload).
    `    stats socket ${join(opts.runDir, 'admin.sock')} mode 600 level admin expose-fd listeners`,
    `    server-state-file ${opts.stateFile}`,
    // rfc5424 carries the year and the proxy's log-tag as its own field, which is what the log capture splits on.
    `    log ${opts.logTarget} format rfc5424 local0`,
    `    hard-stop-after ${duration(opts.hardStopAfterMs ?? 300_000)}`,
    '',
    'defaults',
    '    log global',
    '    load-server-state-from-file global',
    '    option dontlognull',
    '    option redispatch',
  ];
  for (const lb of state.loadBalancers) out.push('', ...renderFrontend(lb, state, opts), '', ...renderBackend(lb));
  return `${out.join('\n')}\n`;
}

/** Ports the frontends of a rendered config listen on (frontends marked `disabled` do not). */
export function listeningPorts(config: string): Set<number> {
  const ports = new Set<number>();
  let pending: number[] = [];
  let disabled = false;
  const flush = (): void => {
    if (!disabled) for (const p of pending) ports.add(p);
    pending = [];
    disabled = false;
  };
  for (const line of config.split('\n')) {
    if (/^\S/.test(line)) flush();
    const bind = /^\s+bind \S*:(\d+)(\s|$)/.exec(line);
    if (bind) pending.push(Number(bind[1]));
    if (/^\s+disabled\s*$/.test(line)) disabled = true;
  }
  flush();
  return ports;
}
