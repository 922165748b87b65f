import { describe, expect, it } from 'vitest';
import { resolveConfig, type ResolveInput } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';

function errorOf(input: Partial<ResolveInput>): ConfigError {
  try {
    resolveConfig({ env: {}, sets: [], ...input });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const file = (text: string) => ({ file: { path: '/etc/h.conf', text } });

describe('a bad value names the key, the value, why, and where it came from', () => {
  it('for a number from env', () => {
    const err = errorOf({ env: { HOSTAGENT_HEARTBEAT_PERIOD: 'abc' } });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe('hostagent.heartbeat_period: "abc" is not a number (from env HOSTAGENT_HEARTBEAT_PERIOD)');
  });

  it('for a boolean from the file', () => {
    expect(errorOf(file('[amqp]\ndurable = maybe\n')).message).toBe(
      'amqp.durable: "maybe" is not a boolean (true/false, yes/no, on/off, 1/0) (from file /etc/h.conf [amqp] durable)',
    );
  });

  it('for an alias, naming the historical spelling', () => {
    expect(errorOf(file('[ssl]\ndisable = sometimes\n')).message).toBe(
      'amqp.tls.enabled: "sometimes" is not a boolean (true/false, yes/no, on/off, 1/0) (from file /etc/h.conf [ssl] disable)',
    );
  });

  it('for a range checked by the schema', () => {
    expect(errorOf({ sets: ['amqp.prefetch=0'] }).message).toBe('amqp.prefetch: "0" must be an integer from 1 to 65535 (from --set)');
    expect(errorOf({ sets: ['amqp.prefetch=1.5'] }).message).toBe('amqp.prefetch: "1.5" must be an integer from 1 to 65535 (from --set)');
    expect(errorOf({ sets: ['amqp.heartbeat=-1'] }).message).toMatch(/^amqp.heartbeat: "-1" must be an integer from 0 to 65535/);
    expect(errorOf({ sets: ['hostagent.heartbeat_period=0'] }).message).toMatch(/^hostagent.heartbeat_period: "0" must be an integer >= 1/);
    expect(errorOf({ sets: ['hostagent.max_converge_attempts=0'] }).message).toMatch(/must be an integer >= 1/);
    expect(errorOf({ sets: ['hostagent.connection_retry_period=0'] }).message).toMatch(/"0" must be a number > 0/);
  });

  it('for an enum', () => {
    expect(errorOf({ env: { HOSTAGENT_AMQP_QUEUE_TYPE: 'stream' } }).message).toBe(
      'amqp.queue_type: "stream" must be one of classic, quorum (from env HOSTAGENT_AMQP_QUEUE_TYPE)',
    );
    expect(errorOf({ env: { HOSTAGENT_LOG_LEVEL: 'verbose' } }).message).toMatch(/^log.level: "verbose" must be one of trace, debug, info/);
  });

  it('for connection_retry_max below connection_retry_period, naming both origins', () => {
    expect(errorOf({ ...file('[hostagent]\nconnection_retry_period = 60\n'), sets: ['hostagent.connection_retry_max=30'] }).message).toBe(
      'hostagent.connection_retry_max: "30" must be >= hostagent.connection_retry_period (60) ' +
        '(from --set; hostagent.connection_retry_period from file /etc/h.conf [hostagent] connection_retry_period)',
    );
  });

  it('for a bad port among the historical URL parts', () => {
    expect(errorOf(file('[amqp]\nhost = h\nport = 70000\n')).message).toBe(
      'amqp.url: port "70000" is not an integer from 1 to 65535 (from file /etc/h.conf [amqp] port)',
    );
  });

  it('for --set without "=" or with an unknown key', () => {
    expect(errorOf({ sets: ['amqp.prefetch'] }).message).toBe('--set "amqp.prefetch" is not key=value');
    expect(errorOf({ sets: ['amqp.nope=1'] }).message).toMatch(/^--set "amqp.nope": unknown config key/);
  });
});

describe('several bad values', () => {
  it('are all reported in one error, one per line, in schema order', () => {
    const err = errorOf({
      ...file('[amqp]\nprefetch = lots\n'),
      env: { HOSTAGENT_HEARTBEAT_PERIOD: 'abc', HOSTAGENT_AMQP_QUEUE_TYPE: 'stream' },
      sets: ['log.level=loud'],
    });
    expect(err.message.split('\n')).toEqual([
      'amqp.queue_type: "stream" must be one of classic, quorum (from env HOSTAGENT_AMQP_QUEUE_TYPE)',
      'amqp.prefetch: "lots" is not a number (from file /etc/h.conf [amqp] prefetch)',
      'hostagent.heartbeat_period: "abc" is not a number (from env HOSTAGENT_HEARTBEAT_PERIOD)',
      expect.stringMatching(/^log.level: "loud" must be one of .* \(from --set\)$/),
    ]);
  });
});

describe('secrets in errors', () => {
  const password = 'Pa55-do-not-print';

  it('an invalid URL is shown with its password masked', () => {
    const err = errorOf({ env: { HOSTAGENT_AMQP_URL: `http://agent:${password}@broker/` } });
    expect(err.message).toBe('amqp.url: "http://agent:*****@broker/" must start with amqp:// or amqps:// (from env HOSTAGENT_AMQP_URL)');
  });

  it('an unparsable URL is masked too', () => {
    const err = errorOf({ sets: [`amqp.url=amqp://agent:${password}@`] });
    expect(err.message).toMatch(/^amqp.url: "amqp:\/\/agent:\*\*\*\*\*@" /);
    expect(err.message).not.toContain(password);
  });

  it('a URL composed from the historical parts never shows the password', () => {
    const err = errorOf(file(`[amqp]\nhost = bad host name\nusername = agent\npassword = ${password}\n`));
    expect(err.message).toMatch(/^amqp.url: "amqp:\/\/agent:\*\*\*\*\*@bad host name:5672\/" is not a valid URL/);
    expect(err.message).not.toContain(password);
  });

  it('a --set mistake does not echo the value', () => {
    expect(errorOf({ sets: [`amqp.urll=amqp://a:${password}@h/`] }).message).not.toContain(password);
    expect(errorOf({ sets: [`amqp.url amqp://a:${password}@h/`] }).message).not.toContain(password);
  });
});
