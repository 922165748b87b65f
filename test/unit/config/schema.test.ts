import { describe, expect, it } from 'vitest';
import { keySchema, SCHEMA_KEYS } from '../../../src/config/schema.js';
import { resolveConfig } from '../../../src/config/load-config.js';

function expectedEnv(key: string): string {
  const name = key.toUpperCase().replace(/\./g, '_');
  return name.startsWith('HOSTAGENT_') ? name : `HOSTAGENT_${name}`;
}

describe('schema', () => {
  it('covers every key of AgentConfig', () => {
    const { config } = resolveConfig({ env: {}, sets: [] });
    const leaves: string[] = [];
    const walk = (node: object, prefix: string) => {
      for (const [name, child] of Object.entries(node)) {
        if (child !== null && typeof child === 'object' && !Array.isArray(child)) walk(child as object, `${prefix}${name}.`);
        else leaves.push(`${prefix}${name}`);
      }
    };
    walk(config, '');
    expect([...SCHEMA_KEYS].sort()).toEqual(leaves.sort());
  });

  it.each(SCHEMA_KEYS)('%s has a doc, a format and the env name of the naming rule', (key) => {
    const schema = keySchema(key);
    expect(schema.doc.length).toBeGreaterThan(10);
    expect(typeof schema.format).toBe('function');
    expect(schema.env).toBe(expectedEnv(key));
  });

  it('names hostagent keys without a doubled prefix', () => {
    expect(keySchema('hostagent.host_id').env).toBe('HOSTAGENT_HOST_ID');
    expect(keySchema('hostagent.heartbeat_period').env).toBe('HOSTAGENT_HEARTBEAT_PERIOD');
    expect(keySchema('amqp.tls.ca').env).toBe('HOSTAGENT_AMQP_TLS_CA');
  });

  it('has the documented defaults', () => {
    const { config } = resolveConfig({ env: {}, sets: [] });
    expect(config).toEqual({
      amqp: {
        url: 'amqp://guest:guest@localhost:5672/',
        tls: { enabled: false, ca: '', cert: '', key: '', verify: true },
        exchange: 'pf9-bbone',
        queue_name: '',
        durable: false,
        queue_type: 'classic',
        connect_timeout: 10,
        heartbeat: 30,
        prefetch: 16,
      },
      hostagent: {
        host_id: '',
        heartbeat_period: 60,
        connection_retry_period: 10,
        connection_retry_max: 300,
        max_converge_attempts: 30,
        state_dir: '/var/opt/pf9/hostagent',
        drift_check_period: 600,
        hook_timeout: 60,
      },
      packages: {
        cache_dir: '/var/cache/pf9apps',
        backend: 'auto',
        root: '/',
        require_checksum: false,
        allowed_url_prefixes: [],
        download_timeout: 300,
      },
      services: { driver: 'auto' },
      lb: { bind_address: '0.0.0.0', run_dir: '', sozu: { socket: '/run/sozu/sozu.sock' } },
      control: { socket: '/run/pf9/hostagent.sock' },
      metrics: { listen: '' },
      log: { level: 'info' },
    });
  });
});
