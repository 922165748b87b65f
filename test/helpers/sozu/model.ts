/** Load balancers for sozu tests (the model as the Libra parser produces it). */
import type { LbNode, LoadBalancer } from '../../../src/protocol/libra/model.js';

export function node(id: string, port: number, extra: Partial<LbNode> = {}): LbNode {
  return { id, address: '127.0.0.1', port, weight: 1, backup: false, condition: 'ENABLED', ...extra };
}

export function httpLb(id: string, port: number, nodes: LbNode[], extra: Partial<LoadBalancer> = {}): LoadBalancer {
  return {
    id,
    name: `lb-${id}`,
    protocol: 'HTTP',
    port,
    algorithm: 'ROUND_ROBIN',
    nodes,
    hostname: 'app.example.test',
    timeouts: { client: 30_000, server: 30_000, connect: 5_000 },
    retries: 3,
    ...extra,
  };
}

export function tcpLb(id: string, port: number, nodes: LbNode[]): LoadBalancer {
  const lb: LoadBalancer = { ...httpLb(id, port, nodes), protocol: 'TCP' };
  delete lb.hostname;
  return lb;
}
