/** Load balancers shared by the lb tests, in model form. */
import type { LbState } from '../../../src/lb/model.js';

export const sampleState: LbState = {
  suspended: false,
  loadBalancers: [
    {
      id: '10',
      name: 'web',
      protocol: 'HTTP',
      port: 8080,
      algorithm: 'ROUND_ROBIN',
      nodes: [{ id: '1', address: '127.0.0.1', port: 9001, weight: 2, backup: false, condition: 'ENABLED' }],
      monitor: { type: 'HTTP', delay: 5, timeout: 2, attempts: 3, path: '/health' },
      tls: { certificate: '-----BEGIN CERTIFICATE-----\nA\n', key: '-----BEGIN PRIVATE KEY-----\nB\n' },
      timeouts: { client: 30000, server: 30000, connect: 30000 },
      retries: 3,
    },
  ],
};
