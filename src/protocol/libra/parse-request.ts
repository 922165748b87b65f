/**
 * Libra worker requests -> typed values, or an LbError (LB_REQUEST_INVALID)
 * whose message names the field. Pure: no I/O, no clock.
 *
 * Libra's field names and values are case-insensitive and extra fields are
 * ignored, so every parser here first lower-cases keys (`normalizeKeys`)
 * and then reads only the fields it knows. Error messages spell fields the
 * way Libra documents them (`loadBalancers[0].nodes[1].weight`).
 */
import { maskUrl } from '../../config/mask.js';
import { LbError } from '../../errors.js';
import type { LbProtocol, LoadBalancer } from './model.js';
import { id, invalid, isPlainObject, show } from './fields.js';
import { parseLoadBalancer, PROTOCOLS } from './parse-load-balancer.js';

export const LIBRA_ACTIONS = [
  'UPDATE',
  'SUSPEND',
  'ENABLE',
  'DELETE',
  'DISCOVER',
  'ARCHIVE',
  'STATS',
  'METRICS',
  'DIAGNOSTICS',
] as const;
export type LibraAction = (typeof LIBRA_ACTIONS)[number];

/** What an ARCHIVE asks for; the token is a secret and must never reach a log or a reply. */
export interface ArchiveRequest {
  storeType: 'swift';
  /** http(s) URL of the Swift account, e.g. https://swift.example.com/v1/AUTH_acct (no trailing slash). */
  endpoint: string;
  /** The container (optionally followed by a prefix), without leading or trailing slashes. */
  basepath: string;
  token: string;
  /** The load balancer whose logs are archived (loadBalancers[0]). */
  lbId: string;
  lbName: string | undefined;
}

/**
 * A copy of `value` with every object key lower-cased, at every depth.
 * Two keys that differ only in case are ambiguous, so they are refused
 * rather than one silently winning. Built with Object.fromEntries so a
 * `__proto__` key stays a plain key and never becomes a prototype.
 */
export function normalizeKeys(value: unknown, at = ''): unknown {
  if (Array.isArray(value)) return value.map((item, i) => normalizeKeys(item, `${at}[${i}]`));
  if (!isPlainObject(value)) return value;
  const seen = new Map<string, string>();
  const entries = Object.entries(value).map(([key, child]): [string, unknown] => {
    const lower = key.toLowerCase();
    const path = at === '' ? key : `${at}.${key}`;
    const other = seen.get(lower);
    if (other !== undefined) {
      throw new LbError('LB_REQUEST_INVALID', `${path}: field given twice (as "${other}" and "${key}"; names are case-insensitive)`);
    }
    seen.set(lower, key);
    return [lower, normalizeKeys(child, path)];
  });
  return Object.fromEntries(entries);
}

function normalized(req: Record<string, unknown>): Record<string, unknown> {
  return normalizeKeys(req) as Record<string, unknown>;
}

export function parseLibraAction(req: Record<string, unknown>): LibraAction {
  const value = normalized(req).hpcs_action;
  if (value === undefined) throw invalid('hpcs_action', 'missing');
  const upper = typeof value === 'string' ? value.trim().toUpperCase() : undefined;
  const action = LIBRA_ACTIONS.find((a) => a === upper);
  if (action === undefined) {
    throw invalid('hpcs_action', `unknown action ${show(value)}; expected one of ${LIBRA_ACTIONS.join(', ')}`);
  }
  return action;
}

/**
 * The load balancers of an UPDATE: one, or two of which one is HTTP and one
 * TCP (Libra's device model: at most one LB per protocol, on one address).
 */
export function parseLoadBalancers(req: Record<string, unknown>): LoadBalancer[] {
  const list = normalized(req).loadbalancers;
  if (list === undefined || list === null) throw invalid('loadBalancers', 'missing (an UPDATE carries one or two load balancers)');
  if (!Array.isArray(list)) throw invalid('loadBalancers', `must be a list of one or two load balancers, got ${show(list)}`);
  if (list.length < 1 || list.length > 2) {
    throw invalid('loadBalancers', `must hold one or two load balancers, got ${list.length}`);
  }
  const lbs = list.map((entry: unknown, i) => {
    const at = `loadBalancers[${i}]`;
    if (!isPlainObject(entry)) throw invalid(at, `must be an object, got ${show(entry)}`);
    return parseLoadBalancer(entry, at);
  });
  const [a, b] = lbs;
  if (a !== undefined && b !== undefined) {
    if (a.protocol === b.protocol) {
      throw invalid('loadBalancers', `two load balancers must be one HTTP and one TCP, got ${a.protocol} and ${b.protocol}`);
    }
    // Both bind the same address: the same port twice would fail only when the proxy starts, not at validation.
    if (a.port === b.port) throw invalid('loadBalancers[1].port', `${b.port} is already used by loadBalancers[0]`);
    if (a.id === b.id) throw invalid('loadBalancers[1].id', `duplicate id ${show(b.id)} (also loadBalancers[0])`);
  }
  return lbs;
}

/** The fields of an ARCHIVE (Libra: swift only, container = basepath, object under the LB id). */
export function parseArchiveRequest(req: Record<string, unknown>): ArchiveRequest {
  const r = normalized(req);
  const type = r.hpcs_object_store_type;
  if (type === undefined || type === null) throw invalid('hpcs_object_store_type', 'missing');
  if (typeof type !== 'string' || type.trim().toLowerCase() !== 'swift') {
    throw new LbError('LB_NOT_SUPPORTED', `hpcs_object_store_type: ${show(type)} is not a supported object store type (swift only)`);
  }
  const endpoint = r.hpcs_object_store_endpoint;
  if (typeof endpoint !== 'string' || !isHttpUrl(endpoint.trim())) {
    throw invalid('hpcs_object_store_endpoint', `must be an http:// or https:// URL without credentials or query, got ${show(typeof endpoint === 'string' ? maskUrl(endpoint) : endpoint)}`);
  }
  const basepath = typeof r.hpcs_object_store_basepath === 'string' ? r.hpcs_object_store_basepath.replace(/^\/+|\/+$/g, '') : '';
  if (basepath === '' || !/^[!-~]+$/.test(basepath) || basepath.includes('?') || basepath.includes('#')) {
    throw invalid('hpcs_object_store_basepath', `must name a container (no spaces, "?" or "#"), got ${show(r.hpcs_object_store_basepath)}`);
  }
  const token = r.hpcs_object_store_token;
  // Never show the token, even a malformed one.
  if (typeof token !== 'string' || token === '') throw invalid('hpcs_object_store_token', 'must be a non-empty string');
  if (/[\r\n]/.test(token)) throw invalid('hpcs_object_store_token', 'must not contain line breaks');

  const list = r.loadbalancers;
  if (!Array.isArray(list) || list.length === 0) {
    throw invalid('loadBalancers', `must name the load balancer to archive (a list of one), got ${show(list)}`);
  }
  const first: unknown = list[0];
  if (!isPlainObject(first)) throw invalid('loadBalancers[0]', `must be an object, got ${show(first)}`);
  const lbId = first.id === undefined || first.id === null || first.id === '' ? protocolId(first.protocol) : id(first.id, 'loadBalancers[0].id');
  const lbName = typeof first.name === 'string' && first.name.trim() !== '' ? first.name : undefined;
  return { storeType: 'swift', endpoint: endpoint.trim().replace(/\/+$/, ''), basepath, token, lbId, lbName };
}

/** An LB created without an id got its protocol's name (see parseLoadBalancer); ARCHIVE finds it the same way. */
function protocolId(protocol: unknown): string {
  const upper = typeof protocol === 'string' ? protocol.trim().toUpperCase() : undefined;
  const found: LbProtocol | undefined = PROTOCOLS.find((p) => p === upper);
  if (found === undefined) throw invalid('loadBalancers[0].id', 'missing');
  return found.toLowerCase();
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    // Credentials in the URL would end up in logs and error messages; Swift authenticates by token.
    const plain = url.username === '' && url.password === '' && url.search === '' && url.hash === '';
    return (url.protocol === 'http:' || url.protocol === 'https:') && plain;
  } catch {
    return false;
  }
}
