/**
 * Shared by the HAProxy engine tests: load-balancer models on free loopback
 * ports, engines on a temporary run dir, the master CLI to count reloads,
 * and a cleanup that stops every HAProxy a test started (a leaked HAProxy
 * keeps ports and outlives the test run).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../../src/logger.js';
import { HaproxyEngine, type HaproxyEngineOptions } from '../../../../src/lb/haproxy/haproxy-engine.js';
import { MasterCli } from '../../../../src/lb/haproxy/runtime-api.js';
import type { LbNode, LoadBalancer } from '../../../../src/lb/model.js';
import { freePort, httpGet, type TestBackend } from '../../../helpers/http-backends.js';

export const logger = createLogger({ level: 'silent' });

export interface EngineFixture {
  runDir: string;
  engine: HaproxyEngine;
  /** Another engine on the same run dir (an agent restart). */
  reopen(): HaproxyEngine;
  /** Master's reload count and current worker pids. */
  reloads(): Promise<{ reloads: number; workers: number[] }>;
  cleanup(): Promise<void>;
}

export async function engineFixture(opts: Partial<HaproxyEngineOptions> = {}): Promise<EngineFixture> {
  const runDir = await mkdtemp(join(tmpdir(), 'pf9-haproxy-'));
  const engines: HaproxyEngine[] = [];
  const make = (): HaproxyEngine => {
    const e = new HaproxyEngine({ runDir, bindAddress: '127.0.0.1', logger, reloadTimeoutMs: 10_000, drainTimeoutMs: 2000, ...opts });
    engines.push(e);
    return e;
  };
  const engine = make();
  const master = new MasterCli(join(runDir, 'master.sock'));
  return {
    runDir,
    engine,
    reopen: make,
    async reloads() {
      const p = await master.showProc();
      return { reloads: p.master.reloads, workers: p.workers.map((w) => w.pid) };
    },
    async cleanup() {
      // destroy() through any engine stops the one HAProxy of this run dir.
      await engine.destroy();
      for (const e of engines) await e.close();
      await rm(runDir, { recursive: true, force: true });
    },
  };
}

export function node(backend: TestBackend, over: Partial<LbNode> = {}): LbNode {
  return { id: backend.id, address: backend.address, port: backend.port, weight: 1, backup: false, condition: 'ENABLED', ...over };
}

export async function makeLb(id: string, protocol: 'HTTP' | 'TCP', nodes: LbNode[], over: Partial<LoadBalancer> = {}): Promise<LoadBalancer> {
  return {
    id,
    name: `lb-${id}`,
    protocol,
    port: await freePort(),
    algorithm: 'ROUND_ROBIN',
    nodes,
    timeouts: { client: 30_000, server: 30_000, connect: 5000 },
    retries: 3,
    ...over,
  };
}

/** `n` GETs, one connection each; how many each backend id answered. */
export async function spread(port: number, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await httpGet(port, '/');
    const key = r.status === 200 ? r.body : `status ${r.status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
