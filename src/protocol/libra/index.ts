/** The Libra worker protocol: request parsing, replies with secrets masked, the persisted LB state format. */
export {
  LIBRA_ACTIONS,
  normalizeKeys,
  parseArchiveRequest,
  parseLibraAction,
  parseLoadBalancers,
  type ArchiveRequest,
  type LibraAction,
} from './parse-request.js';
export { DEFAULT_RETRIES, DEFAULT_TIMEOUTS, parseLoadBalancer } from './parse-load-balancer.js';
export { buildReply, failReply, isSecretField, MASK, maskSecrets, passReply, type ReplyOutcome } from './reply.js';
export { LB_STATE_FORMAT, parseLbStateFile, toLbStateFile, type LbStateFile } from './parse-state.js';
