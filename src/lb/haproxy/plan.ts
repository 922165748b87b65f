/**
 * Which path takes the running HAProxy from one state to the next: a pure
 * planner, so the choice is tested without a process.
 *
 * - runtime: only server-level changes the admin socket can make without a
 *   reload: weight, ENABLED/DISABLED, a node added to a TCP backend, a node
 *   removed. Steps are ordered as sozu orders its diff: add first (new
 *   capacity before anything leaves), then changes, removals last.
 * - reload: anything else, validated first. HTTP backends add nodes this
 *   way because HAProxy 2.6 refuses `cookie` on `add server` ("'cookie'
 *   option is not accepted for dynamic server"), and a server without one
 *   would break SERVERID persistence for its clients.
 */
import type { LbNode, LbState, LoadBalancer } from '../model.js';

export type RuntimeStep =
  | { kind: 'add'; lb: LoadBalancer; node: LbNode }
  | { kind: 'weight'; lbId: string; nodeId: string; weight: number }
  | { kind: 'enable'; lbId: string; nodeId: string }
  | { kind: 'disable'; lbId: string; nodeId: string }
  | { kind: 'remove'; lbId: string; nodeId: string };

export type ChangePlan =
  | { kind: 'none' }
  | { kind: 'runtime'; steps: RuntimeStep[] }
  | { kind: 'reload'; reason: string };

const ORDER: Record<RuntimeStep['kind'], number> = { add: 0, weight: 1, enable: 2, disable: 3, remove: 4 };

/** Everything of a load balancer but its nodes, in a form that compares with `===`. */
function shape(lb: LoadBalancer): string {
  return stableJson({ ...lb, nodes: undefined });
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function planNodes(before: LoadBalancer, after: LoadBalancer): RuntimeStep[] | string {
  const steps: RuntimeStep[] = [];
  const old = new Map(before.nodes.map((n) => [n.id, n]));
  const lbId = after.id;
  for (const node of after.nodes) {
    const prev = old.get(node.id);
    if (!prev) {
      if (after.protocol === 'HTTP') return `node ${lbId}/${node.id} added to an HTTP backend (no cookie on add server)`;
      steps.push({ kind: 'add', lb: after, node });
      continue;
    }
    if (prev.address !== node.address || prev.port !== node.port || prev.backup !== node.backup) {
      return `node ${lbId}/${node.id} changed address, port or backup`;
    }
    if (prev.weight !== node.weight) steps.push({ kind: 'weight', lbId, nodeId: node.id, weight: node.weight });
    if (prev.condition !== node.condition) {
      steps.push({ kind: node.condition === 'DISABLED' ? 'disable' : 'enable', lbId, nodeId: node.id });
    }
  }
  const kept = new Set(after.nodes.map((n) => n.id));
  for (const node of before.nodes) if (!kept.has(node.id)) steps.push({ kind: 'remove', lbId, nodeId: node.id });
  return steps;
}

export function planChange(current: LbState, next: LbState): ChangePlan {
  if (current.suspended !== next.suspended) return { kind: 'reload', reason: next.suspended ? 'suspend' : 'enable' };
  if (current.loadBalancers.length !== next.loadBalancers.length) return { kind: 'reload', reason: 'load balancers added or removed' };
  const steps: RuntimeStep[] = [];
  for (const [i, after] of next.loadBalancers.entries()) {
    const before = current.loadBalancers[i];
    if (!before || before.id !== after.id) return { kind: 'reload', reason: 'load balancers added, removed or reordered' };
    if (shape(before) !== shape(after)) return { kind: 'reload', reason: `load balancer ${after.id} changed beyond its nodes` };
    const nodeSteps = planNodes(before, after);
    if (typeof nodeSteps === 'string') return { kind: 'reload', reason: nodeSteps };
    steps.push(...nodeSteps);
  }
  if (steps.length === 0) return { kind: 'none' };
  steps.sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
  return { kind: 'runtime', steps };
}
