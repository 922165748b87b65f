import { get, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startMetrics, type AgentMetrics } from '../../../src/metrics/metrics.js';
import { createLogger } from '../../../src/logger.js';

const logger = createLogger({ level: 'silent' });
let metrics: AgentMetrics | undefined;

afterEach(async () => {
  await metrics?.close();
  metrics = undefined;
});

function fetchText(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The Prometheus text format, sample lines only: `name{labels} value` -> value. */
function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)/.exec(line);
    if (!match?.[1] || match[2] === undefined) throw new Error(`not a sample line: ${line}`);
    samples.set(match[1], Number(match[2]));
  }
  return samples;
}

describe('metrics endpoint', () => {
  it('serves the agent metrics and default process metrics on GET /metrics', async () => {
    metrics = await startMetrics({ listen: '127.0.0.1:0', logger });
    const port = metrics.address()?.port ?? 0;
    expect(port).toBeGreaterThan(0);

    metrics.messageReceived('ping');
    metrics.messageReceived('ping');
    metrics.messageReceived('set_config');
    metrics.messageReceived('Weird Opcode!');
    metrics.convergeFinished(0.3, 'ok');
    metrics.convergeFinished(42, 'errors');
    metrics.appsByState({ running: 3, stopped: 1, failed: 2 });
    metrics.publishConfirmed();
    metrics.publishConfirmed();
    metrics.publishFailed();
    metrics.brokerConnected(true);
    metrics.reconnected();

    const res = await fetchText(port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const s = parseSamples(res.body);
    expect(s.get('pf9_hostagent_messages_received_total{opcode="ping"}')).toBe(2);
    expect(s.get('pf9_hostagent_messages_received_total{opcode="set_config"}')).toBe(1);
    expect(s.get('pf9_hostagent_messages_received_total{opcode="other"}')).toBe(1);
    expect(s.get('pf9_hostagent_converges_total{result="ok"}')).toBe(1);
    expect(s.get('pf9_hostagent_converges_total{result="errors"}')).toBe(1);
    expect(s.get('pf9_hostagent_converge_duration_seconds_count{result="ok"}')).toBe(1);
    expect(s.get('pf9_hostagent_converge_duration_seconds_sum{result="errors"}')).toBe(42);
    expect(s.get('pf9_hostagent_converge_duration_seconds_bucket{le="0.5",result="ok"}')).toBe(1);
    expect(s.get('pf9_hostagent_converge_duration_seconds_bucket{le="30",result="errors"}')).toBe(0);
    expect(s.get('pf9_hostagent_apps{state="running"}')).toBe(3);
    expect(s.get('pf9_hostagent_apps{state="stopped"}')).toBe(1);
    expect(s.get('pf9_hostagent_apps{state="failed"}')).toBe(2);
    expect(s.get('pf9_hostagent_publish_confirms_total')).toBe(2);
    expect(s.get('pf9_hostagent_publish_failures_total')).toBe(1);
    expect(s.get('pf9_hostagent_broker_connected')).toBe(1);
    expect(s.get('pf9_hostagent_reconnects_total')).toBe(1);
    // Default process metrics, under the same prefix.
    expect(s.get('pf9_hostagent_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(s.has('pf9_hostagent_nodejs_eventloop_lag_seconds')).toBe(true);

    metrics.brokerConnected(false);
    const again = parseSamples((await fetchText(port, '/metrics')).body);
    expect(again.get('pf9_hostagent_broker_connected')).toBe(0);
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    metrics = await startMetrics({ listen: '127.0.0.1:0', logger });
    const port = metrics.address()?.port ?? 0;
    expect((await fetchText(port, '/')).status).toBe(404);
    expect((await fetchText(port, '/metrics', 'POST')).status).toBe(405);
    expect((await fetchText(port, '/metrics?x=1')).status).toBe(200);
  });

  it('close() stops the endpoint', async () => {
    const m = await startMetrics({ listen: '127.0.0.1:0', logger });
    const port = m.address()?.port ?? 0;
    await m.close();
    await expect(new Promise((resolve, reject) => get({ host: '127.0.0.1', port, path: '/metrics' }, resolve).on('error', reject))).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('names metrics.listen when it cannot listen', async () => {
    metrics = await startMetrics({ listen: '127.0.0.1:0', logger });
    const port = metrics.address()?.port ?? 0;
    await expect(startMetrics({ listen: `127.0.0.1:${port}`, logger })).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE \(check metrics\.listen\)/);
  });
});
