import { describe, expect, it } from 'vitest';
import { buildReply, failReply, isSecretField, maskSecrets, passReply } from '../../../src/protocol/libra/reply.js';

describe('buildReply', () => {
  it('is the request as sent plus hpcs_response on PASS', () => {
    const request = { HPCS_Action: 'Discover', Extra: { Keep: [1, 'two'] } };
    expect(passReply(request, { version: '1.0', agent_version: '9.9.9' })).toEqual({
      HPCS_Action: 'Discover',
      Extra: { Keep: [1, 'two'] },
      version: '1.0',
      agent_version: '9.9.9',
      hpcs_response: 'PASS',
    });
    // The request itself is not changed.
    expect(request).toEqual({ HPCS_Action: 'Discover', Extra: { Keep: [1, 'two'] } });
  });

  it('adds hpcs_error and hpcs_error_code on FAIL', () => {
    expect(failReply({ hpcs_action: 'UPDATE' }, 'loadBalancers: missing', 'LB_REQUEST_INVALID')).toEqual({
      hpcs_action: 'UPDATE',
      hpcs_response: 'FAIL',
      hpcs_error: 'loadBalancers: missing',
      hpcs_error_code: 'LB_REQUEST_INVALID',
    });
    expect(buildReply({ hpcs_action: 'X' }, { response: 'FAIL', error: 'e' })).toEqual({
      hpcs_action: 'X',
      hpcs_response: 'FAIL',
      hpcs_error: 'e',
    });
  });

  it('replaces a request field that an added one names in another case', () => {
    const reply = passReply({ hpcs_action: 'STATS', loadBalancers: ['old'], HPCS_RESPONSE: 'stale' }, { loadbalancers: [] });
    expect(reply).toEqual({ hpcs_action: 'STATS', loadbalancers: [], hpcs_response: 'PASS' });
  });

  it('masks the object-store token and TLS keys, in any case and at any depth', () => {
    const request = {
      hpcs_action: 'ARCHIVE',
      HPCS_OBJECT_STORE_TOKEN: 'tok-123',
      loadBalancers: [{ id: '1', TLS: { Certificate: '-----BEGIN CERTIFICATE-----', KEY: '-----BEGIN PRIVATE KEY-----' } }],
    };
    expect(passReply(request)).toEqual({
      hpcs_action: 'ARCHIVE',
      HPCS_OBJECT_STORE_TOKEN: '*****',
      loadBalancers: [{ id: '1', TLS: { Certificate: '-----BEGIN CERTIFICATE-----', KEY: '*****' } }],
      hpcs_response: 'PASS',
    });
  });
});

describe('maskSecrets', () => {
  it.each([
    ['hpcs_object_store_token', true],
    ['Token', true],
    ['key', true],
    ['private_key', true],
    ['password', true],
    ['monkey', false],
    ['certificate', false],
    ['certificate_chain', false],
    ['hpcs_object_store_endpoint', false],
  ])('%s is secret: %s', (name, secret) => {
    expect(isSecretField(name)).toBe(secret);
  });

  it('leaves empty and null secrets visible (nothing to hide, and it shows they were missing)', () => {
    expect(maskSecrets({ token: '', key: null, a: [{ password: 5 }] })).toEqual({ token: '', key: null, a: [{ password: '*****' }] });
  });

  it('masks a secret field whole, whatever its value', () => {
    expect(maskSecrets({ tls: { key: { pem: 'x' } } })).toEqual({ tls: { key: '*****' } });
  });
});
