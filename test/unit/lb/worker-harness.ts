/**
 * A LibraWorker over the real state store in a temp dir, a FakeEngine, a
 * settable clock and captured log lines (parsed JSON), for the worker tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { HttpPut } from '../../../src/lb/http-put.js';
import { LibraWorker } from '../../../src/lb/libra-worker.js';
import type { TcpProbe } from '../../../src/lb/tcp-probe.js';
import { createLogger } from '../../../src/logger.js';
import { LbStateStore } from '../../../src/state/lb-state-store.js';
import { FakeEngine } from './fake-engine.js';

export interface Harness {
  dir: string;
  store: LbStateStore;
  engine: FakeEngine;
  worker: LibraWorker;
  logs: Array<Record<string, unknown>>;
  clock: { now: Date };
  cleanup(): Promise<void>;
}

export async function makeHarness(
  opts: { engine?: FakeEngine | null; store?: (dir: string) => LbStateStore; http?: HttpPut; probe?: TcpProbe; dir?: string } = {},
): Promise<Harness> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'pf9-libra-')));
  const store = opts.store ? opts.store(dir) : new LbStateStore(dir, 'H1');
  const engine = opts.engine ?? new FakeEngine();
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().trim().split('\n')) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const clock = { now: new Date('2026-01-01T00:00:00.000Z') };
  const worker = new LibraWorker({
    engine: opts.engine === null ? undefined : engine,
    store,
    logger: createLogger({ level: 'debug', destination: sink }),
    agentVersion: '9.9.9',
    now: () => clock.now,
    ...(opts.http ? { http: opts.http } : {}),
    ...(opts.probe ? { probe: opts.probe } : {}),
    probeTimeoutMs: 500,
  });
  return { dir, store, engine, worker, logs, clock, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A Libra UPDATE as the API server would send it (mixed case on purpose). */
export function httpUpdate(
  nodes: Array<Record<string, unknown>> = [{ id: 1, address: '127.0.0.1', port: '9001', weight: 2 }],
): Record<string, unknown> {
  return {
    hpcs_action: 'UPDATE',
    loadBalancers: [{ id: 10, name: 'web', protocol: 'HTTP', port: '8080', nodes }],
    extra_field: 'kept',
  };
}

export function tcpAndHttpUpdate(): Record<string, unknown> {
  return {
    HPCS_ACTION: 'update',
    LoadBalancers: [
      { id: 'w', name: 'web', protocol: 'http', port: 8080, nodes: [{ id: 'a', address: '127.0.0.1', port: 9001 }] },
      { id: 'd', name: 'db', protocol: 'tcp', port: 3306, nodes: [{ id: 'b', address: '127.0.0.2', port: 3306 }] },
    ],
  };
}
