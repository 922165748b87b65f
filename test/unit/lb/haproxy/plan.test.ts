/** Which path a change takes: runtime commands (and which, in which order), a reload, or nothing. */
import { describe, expect, it } from 'vitest';
import { planChange } from '../../../../src/lb/haproxy/plan.js';
import type { LbNode, LbState, LoadBalancer } from '../../../../src/lb/model.js';

const n = (id: string, over: Partial<LbNode> = {}): LbNode => ({
  id, address: '10.0.0.1', port: 80, weight: 1, backup: false, condition: 'ENABLED', ...over,
});
const lb = (id: string, protocol: 'HTTP' | 'TCP', nodes: LbNode[], over: Partial<LoadBalancer> = {}): LoadBalancer => ({
  id, name: id, protocol, port: protocol === 'HTTP' ? 80 : 3306, algorithm: 'ROUND_ROBIN', nodes,
  timeouts: { client: 30_000, server: 30_000, connect: 5000 }, retries: 3, ...over,
});
const st = (...lbs: LoadBalancer[]): LbState => ({ loadBalancers: lbs, suspended: false });

const http = lb('10', 'HTTP', [n('a'), n('b'), n('c')]);
const tcp = lb('11', 'TCP', [n('t1')]);

describe('planChange', () => {
  it('finds nothing to do for an equal state (key order does not matter)', () => {
    const reordered = { ...http, timeouts: { connect: 5000, server: 30_000, client: 30_000 } };
    expect(planChange(st(http, tcp), st(reordered, tcp))).toEqual({ kind: 'none' });
  });

  it('changes weights and conditions through the runtime API', () => {
    const next = { ...http, nodes: [n('a', { weight: 5 }), n('b', { condition: 'DISABLED' }), n('c')] };
    expect(planChange(st(http), st(next))).toEqual({
      kind: 'runtime',
      steps: [
        { kind: 'weight', lbId: '10', nodeId: 'a', weight: 5 },
        { kind: 'disable', lbId: '10', nodeId: 'b' },
      ],
    });
    expect(planChange(st(next), st(http)).kind).toBe('runtime');
  });

  it('adds a TCP node at run time, first; removes nodes at run time, last', () => {
    const next = { ...tcp, nodes: [n('t2', { port: 81 })] };
    expect(planChange(st(http, tcp), st({ ...http, nodes: [n('a', { weight: 2 }), n('b')] }, next))).toEqual({
      kind: 'runtime',
      steps: [
        { kind: 'add', lb: next, node: n('t2', { port: 81 }) },
        { kind: 'weight', lbId: '10', nodeId: 'a', weight: 2 },
        { kind: 'remove', lbId: '10', nodeId: 'c' },
        { kind: 'remove', lbId: '11', nodeId: 't1' },
      ],
    });
  });

  it.each([
    ['a node added to an HTTP backend (no cookie on add server)', st({ ...http, nodes: [...http.nodes, n('d')] }), /HTTP backend/],
    ['a node moved', st({ ...http, nodes: [n('a', { port: 81 }), n('b'), n('c')] }), /address, port or backup/],
    ['a node made backup', st({ ...http, nodes: [n('a', { backup: true }), n('b'), n('c')] }), /address, port or backup/],
    ['a timeout changed', st({ ...http, timeouts: { ...http.timeouts, server: 1 } }), /changed beyond its nodes/],
    ['a monitor added', st({ ...http, monitor: { type: 'CONNECT', delay: 1, timeout: 1, attempts: 1 } }), /changed beyond its nodes/],
    ['a load balancer added', st(http, tcp), /added or removed/],
    ['another load balancer in its place', st({ ...http, id: '12' }), /reordered/],
    ['suspend', { ...st(http), suspended: true }, /suspend/],
  ])('reloads for %s', (_what, next, reason) => {
    const plan = planChange(st(http), next);
    expect(plan.kind).toBe('reload');
    expect(plan.kind === 'reload' && plan.reason).toMatch(reason);
  });
});
