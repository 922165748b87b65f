/**
 * What a sozu runs, as one normalized value: the planner compares two of
 * these, the engine reads one from DUMP_STATE, the simulator answers with
 * one. Listeners, applications, backends, fronts and certificates are flat
 * lists; certificates carry their key material only on the desired side
 * (a dump is read for fingerprints, and nothing from it is logged).
 */
import { MessageError } from '../../errors.js';
import { isPlainObject } from '../json-value.js';
import type {
  ListenerProxy,
  SozuApplication,
  SozuBackend,
  SozuCertificateAndKey,
  SozuHttpFront,
  SozuHttpsFront,
  SozuTcpFront,
} from './messages.js';

export interface SozuListener {
  address: string;
  proxy: ListenerProxy;
  active: boolean;
}

export interface SozuCertificate {
  fingerprint: string;
  /** Present on the desired side only. */
  material?: SozuCertificateAndKey;
}

export interface SozuState {
  listeners: SozuListener[];
  applications: SozuApplication[];
  backends: SozuBackend[];
  http_fronts: SozuHttpFront[];
  https_fronts: SozuHttpsFront[];
  tcp_fronts: SozuTcpFront[];
  certificates: SozuCertificate[];
}

export function emptySozuState(): SozuState {
  return { listeners: [], applications: [], backends: [], http_fronts: [], https_fronts: [], tcp_fronts: [], certificates: [] };
}

/** The `data` of a DUMP_STATE answer (`{type: "STATE", data: {...}}`) -> a SozuState. */
export function parseDumpedState(data: unknown): SozuState {
  const inner = isPlainObject(data) && data.type === 'STATE' ? data.data : data;
  if (!isPlainObject(inner)) throw new MessageError('MESSAGE_INVALID', 'sozu DUMP_STATE answer: data is not a state object', 'data');
  const list = (key: keyof SozuState): Array<Record<string, unknown>> => {
    const v = inner[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every(isPlainObject)) throw new MessageError('MESSAGE_INVALID', `sozu DUMP_STATE answer: ${key} must be a list of objects`, `data.${key}`);
    return v;
  };
  const str = (o: Record<string, unknown>, k: string, at: string): string => {
    const v = o[k];
    if (typeof v !== 'string') throw new MessageError('MESSAGE_INVALID', `sozu DUMP_STATE answer: ${at}.${k} must be a string`, `data.${at}.${k}`);
    return v;
  };
  const num = (o: Record<string, unknown>, k: string, at: string): number => {
    const v = o[k];
    if (typeof v !== 'number') throw new MessageError('MESSAGE_INVALID', `sozu DUMP_STATE answer: ${at}.${k} must be a number`, `data.${at}.${k}`);
    return v;
  };
  const front = (o: Record<string, unknown>, at: string): SozuHttpFront => ({
    app_id: str(o, 'app_id', at),
    address: str(o, 'address', at),
    hostname: str(o, 'hostname', at),
    path_begin: str(o, 'path_begin', at),
  });
  return {
    listeners: list('listeners').map((o) => ({ address: str(o, 'address', 'listeners'), proxy: str(o, 'proxy', 'listeners') as ListenerProxy, active: o.active === true })),
    applications: list('applications').map((o) => ({
      app_id: str(o, 'app_id', 'applications'),
      sticky_session: o.sticky_session === true,
      https_redirect: o.https_redirect === true,
      load_balancing_policy: (typeof o.load_balancing_policy === 'string' ? o.load_balancing_policy : 'roundrobin') as SozuApplication['load_balancing_policy'],
    })),
    backends: list('backends').map((o) => {
      const b: SozuBackend = { app_id: str(o, 'app_id', 'backends'), backend_id: str(o, 'backend_id', 'backends'), ip_address: str(o, 'ip_address', 'backends'), port: num(o, 'port', 'backends') };
      const lbp = o.load_balancing_parameters;
      if (isPlainObject(lbp) && typeof lbp.weight === 'number') b.load_balancing_parameters = { weight: lbp.weight };
      if (typeof o.backup === 'boolean') b.backup = o.backup;
      return b;
    }),
    http_fronts: list('http_fronts').map((o) => front(o, 'http_fronts')),
    https_fronts: list('https_fronts').map((o) => ({ ...front(o, 'https_fronts'), fingerprint: str(o, 'fingerprint', 'https_fronts') })),
    tcp_fronts: list('tcp_fronts').map((o) => ({ app_id: str(o, 'app_id', 'tcp_fronts'), address: str(o, 'address', 'tcp_fronts') })),
    certificates: list('certificates').map((o) => ({ fingerprint: str(o, 'fingerprint', 'certificates') })),
  };
}

