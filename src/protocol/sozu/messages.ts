/**
 * The messages of sozu's 0.x command socket (JSON flavour, app_id era), as
 * typed values. Master messages are flat (`{id, version: 0, type, data?}`);
 * proxy orders travel inside `{type: "PROXY", data: {type, data}}`. Each
 * request gets one or more responses with the same id: `Processing` while
 * the work goes on, then `Ok` or `Error` (whose `message` says why).
 */
import { MessageError } from '../../errors.js';

export type ListenerProxy = 'http' | 'https' | 'tcp';

export interface SozuBackend {
  app_id: string;
  backend_id: string;
  ip_address: string;
  port: number;
  load_balancing_parameters?: { weight: number };
  backup?: boolean;
}

export interface SozuHttpFront {
  app_id: string;
  /** The listener it hangs on, "ip:port". */
  address: string;
  hostname: string;
  path_begin: string;
}

export interface SozuHttpsFront extends SozuHttpFront {
  /** Hex SHA-256 of the certificate's DER. */
  fingerprint: string;
}

export interface SozuTcpFront {
  app_id: string;
  address: string;
}

export interface SozuCertificateAndKey {
  certificate: string;
  certificate_chain: string[];
  key: string;
}

export interface SozuApplication {
  app_id: string;
  sticky_session: boolean;
  https_redirect: boolean;
  load_balancing_policy: 'roundrobin' | 'leastloaded' | 'random' | 'poweroftwo';
}

/** Every proxy order this project sends, by type. */
export interface SozuOrderData {
  ADD_HTTP_LISTENER: { front: string; public_address: null; answer_404: string; answer_503: string; expect_proxy: boolean; sticky_name: string };
  ADD_HTTPS_LISTENER: { front: string; public_address: null; answer_404: string; answer_503: string; expect_proxy: boolean; sticky_name: string; versions: string[]; cipher_list: string; rustls_cipher_list: string[]; tls_provider: 'rustls' | 'openssl' };
  ADD_TCP_LISTENER: { front: string; public_address: null; expect_proxy: boolean };
  ACTIVATE_LISTENER: { front: string; proxy: ListenerProxy; from_scm: boolean };
  DEACTIVATE_LISTENER: { front: string; proxy: ListenerProxy; to_scm: boolean };
  REMOVE_LISTENER: { front: string; proxy: ListenerProxy };
  ADD_APPLICATION: SozuApplication;
  /** sozu takes the bare app_id here. */
  REMOVE_APPLICATION: string;
  ADD_BACKEND: SozuBackend;
  REMOVE_BACKEND: Pick<SozuBackend, 'app_id' | 'backend_id' | 'ip_address' | 'port'>;
  ADD_CERTIFICATE: { certificate: SozuCertificateAndKey; names: string[] };
  REMOVE_CERTIFICATE: { fingerprint: string; names: string[] };
  ADD_HTTP_FRONT: SozuHttpFront;
  REMOVE_HTTP_FRONT: SozuHttpFront;
  ADD_HTTPS_FRONT: SozuHttpsFront;
  REMOVE_HTTPS_FRONT: SozuHttpsFront;
  ADD_TCP_FRONT: SozuTcpFront;
  REMOVE_TCP_FRONT: SozuTcpFront;
}

export type SozuOrderType = keyof SozuOrderData;
export type SozuOrder = { [K in SozuOrderType]: { type: K; data: SozuOrderData[K] } }[SozuOrderType];

export const ORDER_TYPES: readonly SozuOrderType[] = [
  'ADD_HTTP_LISTENER', 'ADD_HTTPS_LISTENER', 'ADD_TCP_LISTENER', 'ACTIVATE_LISTENER', 'DEACTIVATE_LISTENER', 'REMOVE_LISTENER',
  'ADD_APPLICATION', 'REMOVE_APPLICATION', 'ADD_BACKEND', 'REMOVE_BACKEND', 'ADD_CERTIFICATE', 'REMOVE_CERTIFICATE',
  'ADD_HTTP_FRONT', 'REMOVE_HTTP_FRONT', 'ADD_HTTPS_FRONT', 'REMOVE_HTTPS_FRONT', 'ADD_TCP_FRONT', 'REMOVE_TCP_FRONT',
];

export const MASTER_TYPES = ['SAVE_STATE', 'LOAD_STATE', 'DUMP_STATE', 'STATUS', 'METRICS', 'SOFT_STOP', 'HARD_STOP', 'UPGRADE_MASTER', 'PROXY'] as const;
export type SozuRequestType = (typeof MASTER_TYPES)[number];

export interface SozuRequest {
  id: string;
  version: 0;
  worker_id?: number;
  type: SozuRequestType;
  data?: unknown;
}

export type SozuStatus = 'Ok' | 'Error' | 'Processing';

export interface SozuResponse {
  id: string;
  version: number;
  status: SozuStatus;
  message: string;
  data?: unknown;
}

/** The flat or wrapped request for `type`/`data`; orders go inside PROXY. */
export function makeRequest(id: string, type: Exclude<SozuRequestType, 'PROXY'>, data?: unknown): SozuRequest {
  return data === undefined ? { id, version: 0, type } : { id, version: 0, type, data };
}

export function makeProxyRequest(id: string, order: SozuOrder, workerId?: number): SozuRequest {
  return { id, version: 0, ...(workerId === undefined ? {} : { worker_id: workerId }), type: 'PROXY', data: order };
}

/** A decoded frame -> a response, or MessageError naming the bad field. */
export function parseResponse(value: Record<string, unknown>): SozuResponse {
  const { id, version, status, message, data } = value;
  if (typeof id !== 'string' || id === '') throw new MessageError('MESSAGE_INVALID', 'sozu response: id must be a non-empty string', 'id');
  if (typeof version !== 'number') throw new MessageError('MESSAGE_INVALID', `sozu response ${id}: version must be a number`, 'version');
  if (status !== 'Ok' && status !== 'Error' && status !== 'Processing') {
    throw new MessageError('MESSAGE_INVALID', `sozu response ${id}: status must be Ok, Error or Processing`, 'status');
  }
  // sozu sends "" when it has nothing to say; a missing message is read the same way.
  if (message !== undefined && typeof message !== 'string') throw new MessageError('MESSAGE_INVALID', `sozu response ${id}: message must be a string`, 'message');
  return { id, version, status, message: message ?? '', ...(data === undefined || data === null ? {} : { data }) };
}

/** A decoded frame -> a request (the simulator's side), or MessageError. */
export function parseRequest(value: Record<string, unknown>): SozuRequest {
  const { id, version, type, data, worker_id: workerId } = value;
  if (typeof id !== 'string' || id === '') throw new MessageError('MESSAGE_INVALID', 'sozu request: id must be a non-empty string', 'id');
  if (version !== 0) throw new MessageError('MESSAGE_INVALID', `sozu request ${id}: version must be 0`, 'version');
  if (typeof type !== 'string' || !(MASTER_TYPES as readonly string[]).includes(type)) {
    throw new MessageError('MESSAGE_INVALID', `sozu request ${id}: unknown type ${JSON.stringify(type)}`, 'type');
  }
  const req: SozuRequest = { id, version: 0, type: type as SozuRequestType };
  if (typeof workerId === 'number') req.worker_id = workerId;
  if (data !== undefined && data !== null) req.data = data;
  return req;
}

/** The order inside a PROXY request, checked for a known type (fields are the receiver's business). */
export function parseOrder(value: unknown): SozuOrder {
  if (typeof value !== 'object' || value === null) throw new MessageError('MESSAGE_INVALID', 'sozu PROXY request: data must be an order object', 'data');
  const { type, data } = value as Record<string, unknown>;
  if (typeof type !== 'string' || !(ORDER_TYPES as readonly string[]).includes(type)) {
    throw new MessageError('MESSAGE_INVALID', `sozu PROXY request: unknown order ${JSON.stringify(type)}`, 'data.type');
  }
  return { type, data } as SozuOrder;
}

/** For logs: an order without certificate or key material. */
export function describeOrder(order: SozuOrder): Record<string, unknown> {
  if (order.type === 'ADD_CERTIFICATE') return { type: order.type, names: order.data.names };
  if (typeof order.data === 'string') return { type: order.type, app_id: order.data };
  return { type: order.type, ...order.data };
}
