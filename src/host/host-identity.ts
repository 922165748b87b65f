/**
 * Host id and host info computed once per agent process and shared by
 * whoever needs them (bus topology, status messages, state paths). Neither
 * changes while the agent runs in any way the agent should follow: a new
 * host_id would mean a new queue and a new state directory, which only a
 * restart should bring.
 */
import { resolveHostId } from './host-id.js';
import { readHostInfo, type HostInfo } from './host-info.js';

export interface HostIdentityOptions {
  /** `hostagent.host_id`; empty means derive from the MAC. */
  override: string;
  sysClassNet?: string;
  osReleasePath?: string;
}

export interface HostIdentity {
  /** Resolves to the same value on every call; rejects with HOST_ID_UNAVAILABLE or CONFIG_INVALID. */
  hostId(): Promise<string>;
  info(): Promise<HostInfo>;
}

/**
 * Memoises a promise-returning function. A rejection is not kept, so a later
 * call tries again (e.g. sysfs read at a bad moment) instead of failing
 * forever.
 */
function once<T>(compute: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (pending === undefined) {
      const p = compute();
      pending = p;
      p.catch(() => {
        if (pending === p) pending = undefined;
      });
    }
    return pending;
  };
}

export function createHostIdentity(opts: HostIdentityOptions): HostIdentity {
  const { override, sysClassNet, osReleasePath } = opts;
  return {
    hostId: once(() => resolveHostId({ override, sysClassNet })),
    info: once(() => readHostInfo({ osReleasePath })),
  };
}
