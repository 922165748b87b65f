/**
 * diffSozuState(current, desired) -> the orders that turn one into the
 * other (pure). The order of the steps is what keeps traffic flowing:
 *
 *  1. new listeners are added and activated (a port that cannot be bound
 *     fails first, before anything else changed);
 *  2. applications, then certificates, then backends are added (a changed
 *     backend is removed and added again, its siblings keep serving):
 *     a front never points at an application without backends, and an
 *     HTTPS front never names a certificate sozu does not have yet;
 *  3. fronts that go are removed, a listener that changes kind on the same
 *     address is swapped, then new fronts are added;
 *  4. then what nothing points at any more goes: backends, certificates,
 *     applications, and last the listeners (deactivated, then removed).
 *
 * Certificates and keys are only ever in ADD_CERTIFICATE orders.
 */
import type { SozuOrder, SozuOrderData } from '../../protocol/sozu/messages.js';
import type { SozuListener, SozuState } from '../../protocol/sozu/state.js';

const ANSWER_404 = 'HTTP/1.1 404 Not Found\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const ANSWER_503 = 'HTTP/1.1 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

export function diffSozuState(current: SozuState, desired: SozuState): SozuOrder[] {
  const orders: SozuOrder[] = [];
  const curListeners = byKey(current.listeners, (l) => l.address);
  const wantListeners = byKey(desired.listeners, (l) => l.address);
  const swapped = [...wantListeners.values()].filter((l) => {
    const c = curListeners.get(l.address);
    return c !== undefined && c.proxy !== l.proxy;
  });

  // 1. listeners
  for (const l of wantListeners.values()) {
    const c = curListeners.get(l.address);
    if (c === undefined) orders.push(...addListener(l));
    else if (c.proxy === l.proxy && !c.active && l.active) orders.push(activate(l));
  }

  // 2. applications, certificates, backends
  const curApps = byKey(current.applications, (a) => a.app_id);
  for (const a of desired.applications) {
    if (!same(curApps.get(a.app_id), a)) orders.push({ type: 'ADD_APPLICATION', data: a });
  }
  const curCerts = new Set(current.certificates.map((c) => c.fingerprint));
  for (const c of desired.certificates) {
    if (!curCerts.has(c.fingerprint) && c.material) orders.push({ type: 'ADD_CERTIFICATE', data: { certificate: c.material, names: [] } });
  }
  const backendKey = (b: { app_id: string; backend_id: string }): string => `${b.app_id}\u0000${b.backend_id}`;
  const curBackends = byKey(current.backends, backendKey);
  const wantBackends = byKey(desired.backends, backendKey);
  for (const b of desired.backends) {
    const c = curBackends.get(backendKey(b));
    if (same(c, b)) continue;
    if (c) orders.push({ type: 'REMOVE_BACKEND', data: removeBackend(c) });
    orders.push({ type: 'ADD_BACKEND', data: b });
  }

  // 3. fronts (and listeners that change kind in between)
  // Fronts have no id: one is its whole value. `missing(a, b)` = what a has and b has not.
  const removeFronts = <T>(cur: T[], want: T[]): T[] => {
    const keep = new Set(want.map(canonical));
    return cur.filter((f) => !keep.has(canonical(f)));
  };
  for (const f of removeFronts(current.http_fronts, desired.http_fronts)) orders.push({ type: 'REMOVE_HTTP_FRONT', data: f });
  for (const f of removeFronts(current.https_fronts, desired.https_fronts)) orders.push({ type: 'REMOVE_HTTPS_FRONT', data: f });
  for (const f of removeFronts(current.tcp_fronts, desired.tcp_fronts)) orders.push({ type: 'REMOVE_TCP_FRONT', data: f });
  for (const l of swapped) {
    const old = curListeners.get(l.address);
    if (old) orders.push(...dropListener(old));
    orders.push(...addListener(l));
  }
  for (const f of removeFronts(desired.http_fronts, current.http_fronts)) orders.push({ type: 'ADD_HTTP_FRONT', data: f });
  for (const f of removeFronts(desired.https_fronts, current.https_fronts)) orders.push({ type: 'ADD_HTTPS_FRONT', data: f });
  for (const f of removeFronts(desired.tcp_fronts, current.tcp_fronts)) orders.push({ type: 'ADD_TCP_FRONT', data: f });

  // 4. what nothing points at any more
  for (const b of current.backends) {
    if (!wantBackends.has(backendKey(b))) orders.push({ type: 'REMOVE_BACKEND', data: removeBackend(b) });
  }
  const wantCerts = new Set(desired.certificates.map((c) => c.fingerprint));
  for (const c of current.certificates) {
    if (!wantCerts.has(c.fingerprint)) orders.push({ type: 'REMOVE_CERTIFICATE', data: { fingerprint: c.fingerprint, names: [] } });
  }
  const wantApps = new Set(desired.applications.map((a) => a.app_id));
  for (const a of current.applications) {
    if (!wantApps.has(a.app_id)) orders.push({ type: 'REMOVE_APPLICATION', data: a.app_id });
  }
  for (const l of current.listeners) {
    const w = wantListeners.get(l.address);
    if (w === undefined) orders.push(...dropListener(l));
    else if (w.proxy === l.proxy && l.active && !w.active) orders.push({ type: 'DEACTIVATE_LISTENER', data: { front: l.address, proxy: l.proxy, to_scm: false } });
  }
  return orders;
}

function addListener(l: SozuListener): SozuOrder[] {
  const base = { front: l.address, public_address: null, expect_proxy: false };
  const http = { ...base, answer_404: ANSWER_404, answer_503: ANSWER_503, sticky_name: 'SOZUBALANCEID' };
  const add: SozuOrder =
    l.proxy === 'tcp'
      ? { type: 'ADD_TCP_LISTENER', data: base }
      : l.proxy === 'https'
        ? { type: 'ADD_HTTPS_LISTENER', data: { ...http, versions: ['TLSv1.2', 'TLSv1.3'], cipher_list: '', rustls_cipher_list: [], tls_provider: 'rustls' } }
        : { type: 'ADD_HTTP_LISTENER', data: http };
  return l.active ? [add, activate(l)] : [add];
}

function activate(l: SozuListener): SozuOrder {
  return { type: 'ACTIVATE_LISTENER', data: { front: l.address, proxy: l.proxy, from_scm: false } };
}

function dropListener(l: SozuListener): SozuOrder[] {
  const remove: SozuOrder = { type: 'REMOVE_LISTENER', data: { front: l.address, proxy: l.proxy } };
  return l.active ? [{ type: 'DEACTIVATE_LISTENER', data: { front: l.address, proxy: l.proxy, to_scm: false } }, remove] : [remove];
}

function removeBackend(b: SozuOrderData['ADD_BACKEND']): SozuOrderData['REMOVE_BACKEND'] {
  return { app_id: b.app_id, backend_id: b.backend_id, ip_address: b.ip_address, port: b.port };
}

function byKey<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((i) => [key(i), i]));
}

/** Field-by-field equality that ignores key order (a dump may list fields in another order). */
function same<T extends object>(a: T | undefined, b: T): boolean {
  return a !== undefined && canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
