/**
 * The load-balancer model -> the SozuState it should produce (pure).
 *
 * Mapping: one sozu application per load balancer (`app_id` = its id), one
 * listener per load balancer port on the bind address, one backend per
 * ENABLED node (sozu 0.x has no maintenance state, so a DISABLED node is
 * simply not a backend), one front per load balancer, unless suspended:
 * SUSPEND removes the fronts and keeps everything else, so ENABLE is cheap.
 * HTTP fronts route by hostname + path prefix; sozu has no "any host"
 * front, so an HTTP load balancer needs a hostname on this engine.
 * Monitors, retries and timeouts have no per-application order in sozu
 * 0.x's command protocol and are not sent (sozu has no active health checks).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { LbError } from '../../errors.js';
import type { SozuApplication } from '../../protocol/sozu/messages.js';
import { emptySozuState, type SozuState } from '../../protocol/sozu/state.js';
import type { LbState, LoadBalancer } from '../model.js';

/** sozu's LoadBalancingParams.weight is a u8. */
const MAX_SOZU_WEIGHT = 255;

/** Throws LB_INVALID (naming the field) for what sozu cannot run. */
export function checkSozuCompatible(state: LbState): void {
  state.loadBalancers.forEach((lb, i) => {
    if (lb.protocol === 'HTTP' && (lb.hostname === undefined || lb.hostname === '' || lb.hostname === '*')) {
      throw new LbError(
        'LB_INVALID',
        `loadBalancers[${i}].hostname is required for HTTP load balancers on the sozu engine (sozu routes HTTP by host name and has no catch-all "*")`,
      );
    }
  });
}

/** "ip:port", bracketing IPv6 as sozu's SocketAddr expects. */
export function listenerAddress(bindAddress: string, port: number): string {
  return bindAddress.includes(':') ? `[${bindAddress}]:${port}` : `${bindAddress}:${port}`;
}

/** Hex SHA-256 of the certificate's DER, as sozu names certificates. */
export function certificateFingerprint(pem: string): string {
  let der: Buffer;
  try {
    der = new X509Certificate(pem).raw;
  } catch (err) {
    throw new LbError('LB_INVALID', `TLS certificate does not parse: ${(err as Error).message}`, { cause: err });
  }
  return createHash('sha256').update(der).digest('hex');
}

/** A PEM bundle -> its certificates, one PEM string each (sozu takes the chain as a list). */
export function splitPemChain(bundle: string | undefined): string[] {
  if (!bundle) return [];
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? [];
}

export function desiredSozuState(state: LbState, bindAddress: string): SozuState {
  checkSozuCompatible(state);
  const out = emptySozuState();
  for (const lb of state.loadBalancers) addLoadBalancer(out, lb, bindAddress, state.suspended);
  return out;
}

function addLoadBalancer(out: SozuState, lb: LoadBalancer, bindAddress: string, suspended: boolean): void {
  const address = listenerAddress(bindAddress, lb.port);
  const proxy = lb.protocol === 'TCP' ? 'tcp' : lb.tls ? 'https' : 'http';
  out.listeners.push({ address, proxy, active: true });
  out.applications.push({ app_id: lb.id, sticky_session: false, https_redirect: false, load_balancing_policy: policy(lb.algorithm) });
  for (const n of lb.nodes) {
    if (n.condition !== 'ENABLED') continue;
    out.backends.push({
      app_id: lb.id,
      backend_id: n.id,
      ip_address: n.address,
      port: n.port,
      load_balancing_parameters: { weight: Math.min(n.weight, MAX_SOZU_WEIGHT) },
      backup: n.backup,
    });
  }
  let fingerprint: string | undefined;
  if (lb.tls) {
    fingerprint = certificateFingerprint(lb.tls.certificate);
    if (!out.certificates.some((c) => c.fingerprint === fingerprint)) {
      out.certificates.push({
        fingerprint,
        material: { certificate: lb.tls.certificate, certificate_chain: splitPemChain(lb.tls.certificateChain), key: lb.tls.key },
      });
    }
  }
  if (suspended) return;
  if (lb.protocol === 'TCP') {
    out.tcp_fronts.push({ app_id: lb.id, address });
    return;
  }
  const front = { app_id: lb.id, address, hostname: lb.hostname ?? '', path_begin: lb.pathBegin ?? '/' };
  if (fingerprint !== undefined) out.https_fronts.push({ ...front, fingerprint });
  else out.http_fronts.push(front);
}

function policy(algorithm: LoadBalancer['algorithm']): SozuApplication['load_balancing_policy'] {
  // sozu 0.x's LeastLoaded picks the backend with the fewest active connections.
  return algorithm === 'LEAST_CONNECTIONS' ? 'leastloaded' : 'roundrobin';
}
