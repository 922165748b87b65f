/**
 * Optional Prometheus endpoint (`metrics.listen`, off by default).
 *
 * prom-client is imported only inside startMetrics: an agent without metrics
 * never loads it (it and its default collectors cost memory an idle agent
 * should not pay; see docs/architecture.md, "Runtime and memory"). The agent
 * always holds an AgentMetrics and calls it unconditionally; when metrics are
 * off that is NO_METRICS, whose methods do nothing.
 *
 * Every metric lives in a registry of its own rather than prom-client's
 * global one, so two agents in one process (tests) do not collide.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as PromClient from 'prom-client';
import { AgentError } from '../errors.js';
import type { Logger } from '../logger.js';

export type ConvergeResult = 'ok' | 'errors';

export interface AppsByState {
  running: number;
  stopped: number;
  failed: number;
}

export interface AgentMetrics {
  readonly enabled: boolean;
  /** seconds may be NaN when the duration is unknown: the converge is counted, the histogram left alone. */
  convergeFinished(seconds: number, result: ConvergeResult): void;
  appsByState(counts: AppsByState): void;
  messageReceived(opcode: string): void;
  publishConfirmed(): void;
  publishFailed(): void;
  brokerConnected(connected: boolean): void;
  reconnected(): void;
  /** Where the endpoint listens (null when off); with port 0 this tells the port chosen. */
  address(): { host: string; port: number } | null;
  close(): Promise<void>;
}

export const NO_METRICS: AgentMetrics = Object.freeze({
  enabled: false,
  convergeFinished: () => undefined,
  appsByState: () => undefined,
  messageReceived: () => undefined,
  publishConfirmed: () => undefined,
  publishFailed: () => undefined,
  brokerConnected: () => undefined,
  reconnected: () => undefined,
  address: () => null,
  close: () => Promise.resolve(),
});

export const METRIC_PREFIX = 'pf9_hostagent_';

/** Label values of `opcode` come from the agent's parsed message kinds; a cap keeps a bug from exploding the series count. */
const MAX_OPCODES = 32;
const OPCODE = /^[a-z][a-z0-9_]{0,31}$/;

/** Converges range from "nothing to do" (ms) to big package transactions (minutes). */
const CONVERGE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface StartMetricsOptions {
  /** `host:port`, `[v6]:port`; port 0 picks a free one. */
  listen: string;
  logger: Logger;
}

export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new AgentError('CONFIG_INVALID', `metrics.listen must be host:port (e.g. 127.0.0.1:9469), got "${listen}"`);
  }
  // An empty host would mean every interface; say so explicitly instead of guessing.
  const host = match[1] ?? match[2] ?? '';
  if (host === '') throw new AgentError('CONFIG_INVALID', `metrics.listen needs a host (e.g. 127.0.0.1:9469 or 0.0.0.0:9469), got "${listen}"`);
  return { host, port };
}

export async function startMetrics(opts: StartMetricsOptions): Promise<AgentMetrics> {
  const { host, port } = parseListen(opts.listen);
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const m = createMetrics(prom, registry);

  const server = createServer((req, res) => {
    serve(registry, req, res).catch((err: unknown) => {
      opts.logger.warn({ event: 'metrics.scrape_failed', error: (err as Error).message }, 'metrics scrape failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('metrics collection failed\n');
    });
  });
  await listen(server, host, port);
  const bound = server.address() as AddressInfo;
  opts.logger.info({ event: 'metrics.listening', host, port: bound.port }, 'metrics endpoint listening');

  const opcodes = new Set<string>();
  return {
    enabled: true,
    convergeFinished(seconds, result) {
      // An unknown duration (NaN) still counts the converge; the histogram only takes real ones.
      if (Number.isFinite(seconds)) m.convergeDuration.observe({ result }, Math.max(0, seconds));
      m.converges.inc({ result });
    },
    appsByState(counts) {
      for (const state of ['running', 'stopped', 'failed'] as const) m.apps.set({ state }, counts[state]);
    },
    messageReceived(opcode) {
      let label = OPCODE.test(opcode) ? opcode : 'other';
      if (!opcodes.has(label)) {
        if (opcodes.size >= MAX_OPCODES) label = 'other';
        else opcodes.add(label);
      }
      m.messages.inc({ opcode: label });
    },
    publishConfirmed: () => m.publishConfirms.inc(),
    publishFailed: () => m.publishFailures.inc(),
    brokerConnected: (connected) => m.brokerConnected.set(connected ? 1 : 0),
    reconnected: () => m.reconnects.inc(),
    address: () => ({ host, port: bound.port }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      registry.clear();
    },
  };
}

function createMetrics(prom: typeof PromClient, registry: PromClient.Registry) {
  const registers = [registry];
  return {
    convergeDuration: new prom.Histogram({
      name: `${METRIC_PREFIX}converge_duration_seconds`,
      help: 'Time from the start of a converge (observe, plan, apply) to its end.',
      labelNames: ['result'] as const,
      buckets: CONVERGE_BUCKETS,
      registers,
    }),
    converges: new prom.Counter({
      name: `${METRIC_PREFIX}converges_total`,
      help: 'Converges ended, by result (ok: actual equals desired; errors: an app failed).',
      labelNames: ['result'] as const,
      registers,
    }),
    apps: new prom.Gauge({
      name: `${METRIC_PREFIX}apps`,
      help: 'Apps on this host by state, as of the last observation.',
      labelNames: ['state'] as const,
      registers,
    }),
    messages: new prom.Counter({
      name: `${METRIC_PREFIX}messages_received_total`,
      help: 'Messages received from the bus, by opcode (invalid: refused as malformed).',
      labelNames: ['opcode'] as const,
      registers,
    }),
    publishConfirms: new prom.Counter({ name: `${METRIC_PREFIX}publish_confirms_total`, help: 'Publishes confirmed by the broker.', registers }),
    publishFailures: new prom.Counter({ name: `${METRIC_PREFIX}publish_failures_total`, help: 'Publishes nacked or not sent.', registers }),
    brokerConnected: new prom.Gauge({ name: `${METRIC_PREFIX}broker_connected`, help: '1 while connected to the broker, else 0.', registers }),
    reconnects: new prom.Counter({ name: `${METRIC_PREFIX}reconnects_total`, help: 'Connections to the broker after the first.', registers }),
  };
}

async function serve(registry: PromClient.Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found; metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    res.end('method not allowed\n');
    return;
  }
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new AgentError('CONFIG_INVALID', `metrics endpoint cannot listen on ${host}:${port}: ${err.code ?? err.message} (check metrics.listen)`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
