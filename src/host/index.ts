export {
  DEFAULT_SYS_CLASS_NET,
  normalizeMac,
  readInterfaces,
  resolveHostId,
  selectHostId,
  type NetInterface,
  type ResolveHostIdOptions,
} from './host-id.js';
export {
  OS_RELEASE_PATHS,
  formatOsInfo,
  parseOsRelease,
  readHostInfo,
  type HostInfo,
  type ReadHostInfoOptions,
} from './host-info.js';
export { createHostIdentity, type HostIdentity, type HostIdentityOptions } from './host-identity.js';
