/**
 * The host's identity on the bus: `host_id` names its queue
 * (`bbslave-q-<host_id>`), its routing key and its state directory, so it
 * must be the same on every start of the same host and differ between hosts.
 *
 * The rule (DESIGN.md, "The bus contract"): the MAC address, upper-case and
 * colon-separated, of the first network interface in alphabetical order that
 * has a real MAC. An operator may override it (`hostagent.host_id`, env
 * HOSTAGENT_HOST_ID), which is the answer for cloned images and for hosts
 * whose first interface is a bridge or veth with a random MAC; see
 * docs/host-identity.md.
 *
 * Interfaces are read from sysfs rather than through systeminformation: it
 * is exact (no parsing of `ip` output) and avoids the few MB of memory that
 * library keeps in an otherwise idle agent.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError, ConfigError } from '../errors.js';

export interface NetInterface {
  name: string;
  /** As the kernel prints it (`/sys/class/net/<name>/address`); null when absent or unreadable. */
  mac: string | null;
}

export const DEFAULT_SYS_CLASS_NET = '/sys/class/net';

const HEX_BYTE = /^[0-9a-f]{2}$/i;

/**
 * Normalises a MAC to `AA:BB:CC:DD:EE:FF`, or returns null when it is not a
 * real Ethernet-style address: missing, not 6 bytes (ip6tnl prints 16 bytes,
 * infiniband 20, ipip/sit 4), all zeros (`lo`, tunnels) or all ones (the
 * broadcast address, which would be the same on every host).
 */
export function normalizeMac(mac: string | null | undefined): string | null {
  if (mac === null || mac === undefined) return null;
  const bytes = mac.trim().split(':');
  if (bytes.length !== 6 || !bytes.every((b) => HEX_BYTE.test(b))) return null;
  const upper = bytes.map((b) => b.toUpperCase());
  if (upper.every((b) => b === '00') || upper.every((b) => b === 'FF')) return null;
  return upper.join(':');
}

/** Plain UTF-16 code-unit order, independent of locale: `Eth0` < `docker0` < `eth0`. */
function byName(a: NetInterface, b: NetInterface): number {
  if (a.name < b.name) return -1;
  if (a.name > b.name) return 1;
  return 0;
}

/**
 * The MAC of the first interface, in alphabetical order of name, that has a
 * real MAC; null when none has. Pure: the order of `interfaces` does not
 * matter. Note that `docker0` or `br-...` sort before `eth0` and are chosen
 * when present: that is the rule, kept for compatibility with the historical
 * agent; hosts where it gives an unstable id need the override.
 */
export function selectHostId(interfaces: readonly NetInterface[]): string | null {
  for (const iface of [...interfaces].sort(byName)) {
    const mac = normalizeMac(iface.mac);
    if (mac !== null) return mac;
  }
  return null;
}

function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * Lists the interfaces under `sysClassNet` with the content of their
 * `address` file. An entry without a readable `address` (e.g. the
 * `bonding_masters` file, or an interface removed while we read) gets
 * `mac: null` rather than failing the whole read.
 */
export async function readInterfaces(sysClassNet: string = DEFAULT_SYS_CLASS_NET): Promise<NetInterface[]> {
  let names: string[];
  try {
    names = await readdir(sysClassNet);
  } catch (err) {
    throw new AgentError(
      'HOST_ID_UNAVAILABLE',
      `cannot list network interfaces in ${sysClassNet} (${errorCode(err) ?? String(err)}); ` +
        'set hostagent.host_id (env HOSTAGENT_HOST_ID) to give this host an id',
      { cause: err },
    );
  }
  return Promise.all(
    names.map(async (name): Promise<NetInterface> => {
      try {
        const text = (await readFile(join(sysClassNet, name, 'address'), 'utf8')).trim();
        return { name, mac: text === '' ? null : text };
      } catch {
        return { name, mac: null };
      }
    }),
  );
}

/** Characters safe in a queue name, a topic routing-key word and a directory name. */
const HOST_ID_OVERRIDE = /^[A-Za-z0-9:._-]{1,128}$/;

export interface ResolveHostIdOptions {
  /** `hostagent.host_id` from config; empty means derive from the MAC. */
  override: string;
  /** Where to read interfaces; tests point it at a temp tree. */
  sysClassNet?: string;
}

/**
 * The host_id to use: the configured override when non-empty (validated),
 * else the MAC chosen by `selectHostId`.
 *
 * @throws ConfigError (CONFIG_INVALID) when the override has characters other
 *   than `[A-Za-z0-9:._-]` or is longer than 128.
 * @throws AgentError HOST_ID_UNAVAILABLE when no interface has a real MAC.
 */
export async function resolveHostId(opts: ResolveHostIdOptions): Promise<string> {
  const { override } = opts;
  if (override !== '') {
    if (!HOST_ID_OVERRIDE.test(override)) {
      throw new ConfigError(
        `hostagent.host_id (env HOSTAGENT_HOST_ID) is ${JSON.stringify(override)}: ` +
          'it must be 1 to 128 characters among A-Z a-z 0-9 : . _ -',
      );
    }
    return override;
  }
  const dir = opts.sysClassNet ?? DEFAULT_SYS_CLASS_NET;
  const interfaces = await readInterfaces(dir);
  const hostId = selectHostId(interfaces);
  if (hostId === null) {
    const seen = interfaces.length === 0 ? 'none' : interfaces.map((i) => i.name).sort().join(', ');
    throw new AgentError(
      'HOST_ID_UNAVAILABLE',
      `no network interface in ${dir} has a real MAC address (interfaces: ${seen}); ` +
        'set hostagent.host_id (env HOSTAGENT_HOST_ID) to give this host an id',
    );
  }
  return hostId;
}
