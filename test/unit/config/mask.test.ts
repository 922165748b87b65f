import { describe, expect, it } from 'vitest';
import { isSecretKey, maskedConfig, maskUrl, maskValue } from '../../../src/config/mask.js';
import { formatConfig } from '../../../src/config/print-config.js';
import { resolveConfig } from '../../../src/config/load-config.js';
import { parseIni } from '../../../src/config/ini-file.js';

describe('maskUrl', () => {
  it.each([
    ['amqp://guest:guest@localhost:5672/', 'amqp://guest:*****@localhost:5672/'],
    ['amqps://u:p%40ss@h/vh', 'amqps://u:*****@h/vh'],
    ['amqp://user:pa@ss@host', 'amqp://user:*****@host'],
    ['amqp://user:@host', 'amqp://user:*****@host'],
    ['not a url u:secret@h', 'not a url u:secret@h'],
  ])('%s -> %s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });

  it('leaves URLs without a password alone', () => {
    expect(maskUrl('amqp://localhost:5672/')).toBe('amqp://localhost:5672/');
    expect(maskUrl('amqp://user@localhost/')).toBe('amqp://user@localhost/');
  });

  it('masks a password even in a URL that does not parse', () => {
    expect(maskUrl('amqp://u:topsecret@')).not.toContain('topsecret');
    expect(maskUrl('amqp://u:top secret@host name')).not.toContain('top secret');
  });
});

describe('isSecretKey', () => {
  it('knows passwords, tokens and secrets by name', () => {
    expect(isSecretKey('amqp.password')).toBe(true);
    expect(isSecretKey('api.token')).toBe(true);
    expect(isSecretKey('x.client_secret')).toBe(true);
  });

  it('does not take paths or the URL for secrets', () => {
    expect(isSecretKey('amqp.tls.key')).toBe(false);
    expect(isSecretKey('amqp.url')).toBe(false);
    expect(isSecretKey('hostagent.host_id')).toBe(false);
  });

  it('maskValue hides secret values whole and URL passwords only', () => {
    expect(maskValue('db.password', 'hunter2')).toBe('*****');
    expect(maskValue('db.password', '')).toBe('');
    expect(maskValue('amqp.url', 'amqp://a:b@c/')).toBe('amqp://a:*****@c/');
    expect(maskValue('amqp.tls.key', '/etc/key.pem')).toBe('/etc/key.pem');
  });
});

describe('maskedConfig and formatConfig', () => {
  const loaded = resolveConfig({
    env: { HOSTAGENT_AMQP_URL: 'amqp://agent:Zx9-very-secret@broker:5672/pf9' },
    sets: ['amqp.tls.key=/etc/pf9/key.pem'],
  });

  it('maskedConfig is a plain copy with the password masked', () => {
    const masked = maskedConfig(loaded.config);
    expect(Object.isFrozen(masked)).toBe(false);
    expect(masked.amqp).toMatchObject({ url: 'amqp://agent:*****@broker:5672/pf9', tls: { key: '/etc/pf9/key.pem' } });
    expect(JSON.stringify(masked)).not.toContain('Zx9-very-secret');
    expect(loaded.config.amqp.url).toContain('Zx9-very-secret');
  });

  it('formatConfig prints every key once with its origin and never the password', () => {
    const text = formatConfig(loaded.config, loaded.origins);
    expect(text).not.toContain('Zx9-very-secret');
    expect(text).toContain('url = amqp://agent:*****@broker:5672/pf9  ; from env HOSTAGENT_AMQP_URL');
    expect(text).toContain('key = /etc/pf9/key.pem  ; from --set');
    expect(text).toContain('exchange = pf9-bbone  ; from default');
    expect(text).toContain('level = info  ; from default');
    expect(text.match(/^\[amqp\]$/gm)).toHaveLength(1);
  });

  it('formatConfig output reads back as the same values, masked password aside', () => {
    const text = formatConfig(loaded.config, loaded.origins);
    const entries = parseIni(text, 'printed').entries;
    expect(entries).toHaveLength(Object.keys(loaded.origins).length);
    expect(entries).toContainEqual({ section: 'amqp.tls', key: 'key', value: '/etc/pf9/key.pem' });
    expect(entries).toContainEqual({ section: 'hostagent', key: 'connection_retry_max', value: '300' });
    expect(entries).toContainEqual({ section: 'amqp', key: 'queue_name', value: '' });
  });
});
