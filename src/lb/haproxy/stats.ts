/**
 * `show stat` rows as the Libra handler wants them: per load balancer (a
 * backend named by its id) the nodes with UP/DOWN/MAINT, and per frontend
 * the raw cumulative counters. HAProxy's own proxies (`<HTTPCLIENT>`, the
 * stats socket's `GLOBAL` frontend) are left out.
 */
import type { LbCounters, LbNodeStats } from '../model.js';
import { nodeStatus, splitAddr, type StatRow } from './runtime-parse.js';

/** `show stat`'s `type` column. */
const FRONTEND = '0';
const BACKEND = '1';
const SERVER = '2';

const ours = (r: StatRow): boolean => !!r.pxname && r.pxname !== 'GLOBAL' && !r.pxname.startsWith('<');

export function nodeStatsFromRows(rows: readonly StatRow[]): Array<{ id: string; nodes: LbNodeStats[] }> {
  const byLb = new Map<string, LbNodeStats[]>();
  for (const r of rows) {
    if (r.type === BACKEND && ours(r)) byLb.set(r.pxname ?? '', byLb.get(r.pxname ?? '') ?? []);
  }
  for (const r of rows) {
    const nodes = r.type === SERVER ? byLb.get(r.pxname ?? '') : undefined;
    nodes?.push({ id: r.svname ?? '', ...splitAddr(r.addr ?? ''), status: nodeStatus(r.status ?? '') });
  }
  return [...byLb].map(([id, nodes]) => ({ id, nodes }));
}

export function countersFromRows(rows: readonly StatRow[]): LbCounters[] {
  return rows
    .filter((r) => r.type === FRONTEND && ours(r))
    .map((r) => ({
      id: r.pxname ?? '',
      protocol: r.mode === 'http' ? ('HTTP' as const) : ('TCP' as const),
      bytes_in: Number(r.bin || 0),
      bytes_out: Number(r.bout || 0),
      current_sessions: Number(r.scur || 0),
      total_sessions: Number(r.stot || 0),
    }));
}
