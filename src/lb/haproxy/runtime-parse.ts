/**
 * Parsers for what HAProxy 2.6's command sockets print. Pure, so they are
 * tested on captured output; field names come from the output's own header
 * line rather than fixed positions, since `show stat` grows columns from one
 * HAProxy release to the next.
 */
import type { NodeStatus } from '../model.js';

/** One `show stat` line keyed by its header names (pxname, svname, status, scur, bin, ...). */
export type StatRow = Record<string, string>;

export function parseShowStat(csv: string): StatRow[] {
  const lines = csv.split('\n');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return [];
  const names = header.slice(2).split(',');
  const rows: StatRow[] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    const values = line.split(',');
    const row: StatRow = {};
    names.forEach((name, i) => {
      if (name !== '' && name !== '-') row[name] = values[i] ?? '';
    });
    rows.push(row);
  }
  return rows;
}

/**
 * A server's `status` as Libra reports it. HAProxy says "UP", "UP 1/3"
 * (up, failing checks), "DOWN", "DOWN 1/2" (down, passing checks), "NOLB",
 * "DRAIN", "MAINT", "MAINT (via x/y)", "MAINT (resolution)", or "no check"
 * for a server without health checks (always in rotation).
 */
export function nodeStatus(status: string): NodeStatus {
  if (status.startsWith('MAINT') || status.startsWith('DRAIN')) return 'MAINT';
  if (status.startsWith('DOWN')) return 'DOWN';
  return 'UP';
}

/** `addr` is `host:port`, IPv6 in brackets. */
export function splitAddr(addr: string): { address: string; port: number } {
  const colon = addr.lastIndexOf(':');
  if (colon < 0) return { address: addr, port: 0 };
  const host = addr.slice(0, colon);
  return { address: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host, port: Number(addr.slice(colon + 1)) };
}

export function parseShowInfo(text: string): Record<string, string> {
  const info: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) info[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return info;
}

export interface ProcEntry {
  pid: number;
  /** Reloads this process has lived through (a worker at 0 is the newest). */
  reloads: number;
}

export interface ProcList {
  master: ProcEntry & { failedReloads: number };
  /** Current workers (serving the config on disk). */
  workers: ProcEntry[];
  /** Workers of earlier configs still finishing their connections. */
  oldWorkers: ProcEntry[];
}

/**
 * The master CLI's `show proc` in 2.6:
 *
 *     #<PID>          <type>          <reloads>       <uptime>        <version>
 *     32721           master          1 [failed: 0]   0d00h00m10s     2.6.12-1
 *     # workers
 *     366             worker          0               0d00h00m00s     2.6.12-1
 *     # old workers
 *     32724           worker          1               0d00h00m10s     2.6.12-1
 *     # programs
 */
export function parseShowProc(text: string): ProcList {
  let section: 'master' | 'workers' | 'old' | 'other' = 'master';
  let master: ProcList['master'] | undefined;
  const workers: ProcEntry[] = [];
  const oldWorkers: ProcEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# workers')) section = 'workers';
    else if (line.startsWith('# old workers')) section = 'old';
    else if (line.startsWith('# ')) section = 'other';
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^(\d+)\s+(\S+)\s+(\d+)(?:\s+\[failed: (\d+)\])?/.exec(line);
    if (!m) continue;
    const entry = { pid: Number(m[1]), reloads: Number(m[3]) };
    if (m[2] === 'master') master = { ...entry, failedReloads: Number(m[4] ?? 0) };
    else if (m[2] === 'worker' && section === 'workers') workers.push(entry);
    else if (m[2] === 'worker' && section === 'old') oldWorkers.push(entry);
  }
  if (!master) throw new Error(`show proc: no master line in ${JSON.stringify(text.slice(0, 200))}`);
  return { master, workers, oldWorkers };
}

/** srv_admin_state bits for maintenance (HAProxy's SRV_ADMF_FMAINT, IMAINT, CMAINT, RMAINT). */
const ADMIN_MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20;

/**
 * `show servers state` output minus the servers in maintenance, for the
 * `server-state-file` a reload loads.
 *
 * Why: a server in maintenance is saved with operational state "stopped".
 * When the new config enables it, HAProxy 2.6 clears the maintenance but
 * keeps that "stopped", and a server without health checks then never comes
 * back up (seen here: srv_op_state 0, srv_admin_state 0 after the reload,
 * and no traffic). Left out of the file, the server starts as the config
 * says, which is what the engine wants, since the config always matches
 * what the runtime API did.
 */
export function withoutMaintServers(state: string): string {
  const lines = state.split('\n');
  let adminCol = -1;
  return lines
    .filter((line) => {
      if (line.startsWith('#')) {
        adminCol = line.slice(1).trim().split(/\s+/).indexOf('srv_admin_state');
        return true;
      }
      const fields = line.split(' ');
      if (adminCol < 0 || fields.length <= adminCol) return true;
      return (Number(fields[adminCol]) & ADMIN_MAINT_BITS) === 0;
    })
    .join('\n');
}
