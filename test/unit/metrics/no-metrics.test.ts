import { describe, expect, it, vi } from 'vitest';

// If metrics.ts imported prom-client at load time (statically), this factory would run.
const loaded = vi.hoisted(() => ({ promClient: false }));
vi.mock('prom-client', () => {
  loaded.promClient = true;
  return {};
});

const { NO_METRICS, parseListen } = await import('../../../src/metrics/metrics.js');

describe('NO_METRICS', () => {
  it('does nothing, and loading the module did not load prom-client', async () => {
    NO_METRICS.messageReceived('ping');
    NO_METRICS.convergeFinished(1, 'ok');
    NO_METRICS.appsByState({ running: 1, stopped: 0, failed: 0 });
    NO_METRICS.publishConfirmed();
    NO_METRICS.publishFailed();
    NO_METRICS.brokerConnected(true);
    NO_METRICS.reconnected();
    await NO_METRICS.close();
    expect(NO_METRICS.enabled).toBe(false);
    expect(NO_METRICS.address()).toBeNull();
    expect(loaded.promClient).toBe(false);
  });
});

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:9469', { host: '127.0.0.1', port: 9469 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['[::1]:9469', { host: '::1', port: 9469 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
  ])('%s', (listen, expected) => {
    expect(parseListen(listen)).toEqual(expected);
  });

  it.each(['9469', ':9469', '127.0.0.1', '127.0.0.1:99999', '::1:9469', 'host:port'])('refuses %s', (listen) => {
    expect(() => parseListen(listen)).toThrow(/metrics\.listen/);
  });
});

describe('the guard above', () => {
  it('would notice an import of prom-client', async () => {
    await import('prom-client');
    expect(loaded.promClient).toBe(true);
  });
});
