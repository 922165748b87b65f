/**
 * What STATS and DIAGNOSTICS report, built from the model and what the
 * proxy (or the network) says. The model decides what is listed and in
 * which order: the master asked for those load balancers and nodes, and a
 * node the proxy does not report is not serving, so it shows as DOWN.
 */
import type { LbNode, LbNodeStats, LoadBalancer, NodeStatus } from './model.js';
import type { TcpProbe } from './tcp-probe.js';

export interface LbStatsEntry {
  id: string;
  name: string;
  protocol: LoadBalancer['protocol'];
  nodes: Array<{ id: string; address: string; port: number; status: NodeStatus }>;
}

export function joinStats(
  model: readonly LoadBalancer[],
  seen: ReadonlyArray<{ id: string; nodes: readonly LbNodeStats[] }>,
): LbStatsEntry[] {
  const byLb = new Map(seen.map((lb) => [lb.id, new Map(lb.nodes.map((n) => [n.id, n.status]))]));
  return model.map((lb) => ({
    id: lb.id,
    name: lb.name,
    protocol: lb.protocol,
    nodes: lb.nodes.map((n) => ({ id: n.id, address: n.address, port: n.port, status: byLb.get(lb.id)?.get(n.id) ?? 'DOWN' })),
  }));
}

/** One TCP connect check per node, all at once (each bounded by `timeoutMs`). */
export async function probeNodes(
  nodes: readonly LbNode[],
  probe: TcpProbe,
  timeoutMs: number,
): Promise<Array<{ id: string; address: string; port: number; reachable: boolean }>> {
  const reachable = await Promise.all(nodes.map((n) => probe(n.address, n.port, timeoutMs).catch(() => false)));
  return nodes.map((n, i) => ({ id: n.id, address: n.address, port: n.port, reachable: reachable[i] ?? false }));
}
