import { describe, expect, it } from 'vitest';
import type { LoadBalancer } from '../../../src/lb/model.js';
import {
  normalizeKeys,
  parseArchiveRequest,
  parseLibraAction,
  parseLoadBalancers,
} from '../../../src/protocol/libra/parse-request.js';

const httpLb = {
  name: 'web',
  id: '10',
  protocol: 'HTTP',
  port: 8080,
  nodes: [
    { id: '1', address: '10.0.0.1', port: 80 },
    { id: '2', address: 'app2.example.com', port: 80, weight: 5, backup: true, condition: 'DISABLED' },
  ],
};

const expectedHttp: LoadBalancer = {
  id: '10',
  name: 'web',
  protocol: 'HTTP',
  port: 8080,
  algorithm: 'ROUND_ROBIN',
  nodes: [
    { id: '1', address: '10.0.0.1', port: 80, weight: 1, backup: false, condition: 'ENABLED' },
    { id: '2', address: 'app2.example.com', port: 80, weight: 5, backup: true, condition: 'DISABLED' },
  ],
  timeouts: { client: 30000, server: 30000, connect: 30000 },
  retries: 3,
};

function update(...lbs: unknown[]): Record<string, unknown> {
  return { hpcs_action: 'UPDATE', loadBalancers: lbs };
}

/** Deep copy of httpLb with `patch` applied to it (or its first node via `node`). */
function lbWith(patch: Record<string, unknown>, node?: Record<string, unknown>): Record<string, unknown> {
  const lb: Record<string, unknown> = { ...structuredClone(httpLb), ...patch };
  if (node) (lb.nodes as Array<Record<string, unknown>>)[1] = { ...httpLb.nodes[1], ...node };
  return lb;
}

describe('normalizeKeys', () => {
  it('lower-cases keys at every depth and leaves values alone', () => {
    expect(normalizeKeys({ HPCS_Action: 'Update', LoadBalancers: [{ NODES: [{ Address: 'A.example' }] }] })).toEqual({
      hpcs_action: 'Update',
      loadbalancers: [{ nodes: [{ address: 'A.example' }] }],
    });
  });

  it('refuses two keys that differ only in case, naming them', () => {
    expect(() => normalizeKeys({ lb: { Port: 1, port: 2 } })).toThrow('lb.port: field given twice (as "Port" and "port"');
  });

  it('keeps a __proto__ key a plain key', () => {
    const out = normalizeKeys(JSON.parse('{"__PROTO__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.polluted).toBeUndefined();
    expect(Object.keys(out)).toEqual(['__proto__']);
  });
});

describe('parseLibraAction', () => {
  it.each([
    ['UPDATE', 'UPDATE'],
    ['update', 'UPDATE'],
    [' Stats ', 'STATS'],
    ['metrics', 'METRICS'],
    ['Diagnostics', 'DIAGNOSTICS'],
  ])('reads %j as %s', (value, action) => {
    expect(parseLibraAction({ hpcs_action: value })).toBe(action);
  });

  it('finds the field in any case', () => {
    expect(parseLibraAction({ HPCS_ACTION: 'discover' })).toBe('DISCOVER');
  });

  it.each([
    [{ hpcs_action: 'PING' }, 'hpcs_action: unknown action "PING"; expected one of UPDATE, SUSPEND'],
    [{ hpcs_action: 7 }, 'hpcs_action: unknown action 7'],
    [{}, 'hpcs_action: missing'],
  ])('refuses %j', (req, message) => {
    expect(() => parseLibraAction(req)).toThrow(message);
    expect(() => parseLibraAction(req)).toThrow(expect.objectContaining({ code: 'LB_REQUEST_INVALID' }) as Error);
  });
});

describe('parseLoadBalancers', () => {
  it('fills Libra defaults', () => {
    expect(parseLoadBalancers(update(httpLb))).toEqual([expectedHttp]);
  });

  it('takes field names and values in any case, numbers as strings, and ignores extra fields', () => {
    const req = {
      HPCS_ACTION: 'update',
      LOADBALANCERS: [
        {
          NAME: 'web',
          Id: 10,
          Protocol: 'http',
          PORT: '8080',
          Algorithm: 'least_connections',
          Color: 'blue',
          Nodes: [
            { ID: 1, ADDRESS: '10.0.0.1', PORT: '80', Weight: '1', Extra: { deep: true } },
            { id: '2', address: 'app2.example.com', port: 80, weight: 5, backup: 'TRUE', condition: 'disabled' },
          ],
          Options: { Client_Timeout: '1000', SERVER_TIMEOUT: 2000, connect_timeout: '300', Connect_Retries: '0' },
          Monitor: { Type: 'http', DELAY: '10', timeout: 5, attempts: '2', path: 'health' },
        },
      ],
      unknown_top: 1,
    };
    expect(parseLoadBalancers(req)).toEqual([
      {
        ...expectedHttp,
        algorithm: 'LEAST_CONNECTIONS',
        timeouts: { client: 1000, server: 2000, connect: 300 },
        retries: 0,
        monitor: { type: 'HTTP', delay: 10, timeout: 5, attempts: 2, path: '/health' },
      },
    ]);
  });

  it('accepts timeouts at the top level of a load balancer too', () => {
    const [lb] = parseLoadBalancers(update(lbWith({ client_timeout: 5, connect_retries: '7' })));
    expect(lb?.timeouts.client).toBe(5);
    expect(lb?.retries).toBe(7);
  });

  it('defaults an HTTP port to 80, an id to the protocol and a name to the id', () => {
    const [lb] = parseLoadBalancers(update({ protocol: 'HTTP', nodes: httpLb.nodes }));
    expect(lb).toMatchObject({ id: 'http', name: 'http', port: 80 });
  });

  it('takes HTTP and TCP together, in either order', () => {
    const tcp = { id: 'db', name: 'db', protocol: 'tcp', port: 3306, nodes: [{ id: 'n', address: '::1', port: 3306 }] };
    const lbs = parseLoadBalancers(update(tcp, httpLb));
    expect(lbs.map((l) => [l.id, l.protocol, l.port])).toEqual([
      ['db', 'TCP', 3306],
      ['10', 'HTTP', 8080],
    ]);
  });

  it('keeps monitor, hostname, path_begin and tls', () => {
    const tls = { certificate: '-----BEGIN CERTIFICATE-----x', key: '-----BEGIN PRIVATE KEY-----y', certificate_chain: '-----BEGIN CERTIFICATE-----z' };
    const [lb] = parseLoadBalancers(
      update(lbWith({ hostname: 'www.example.com', path_begin: '/api', tls, monitor: { type: 'CONNECT', delay: 3, timeout: 3, attempts: 1 } })),
    );
    expect(lb).toMatchObject({
      hostname: 'www.example.com',
      pathBegin: '/api',
      tls: { certificate: tls.certificate, key: tls.key, certificateChain: tls.certificate_chain },
      monitor: { type: 'CONNECT', delay: 3, timeout: 3, attempts: 1 },
    });
    expect(lb?.monitor?.path).toBeUndefined();
  });

  const tcpLb = { protocol: 'TCP', port: 22, nodes: [{ id: 1, address: '10.0.0.9', port: 22 }] };

  it.each<[string, Record<string, unknown>, string]>([
    ['no loadBalancers', { hpcs_action: 'UPDATE' }, 'loadBalancers: missing (an UPDATE carries one or two load balancers)'],
    ['loadBalancers not a list', { loadBalancers: { a: 1 } }, 'loadBalancers: must be a list of one or two load balancers, got an object'],
    ['no load balancer', update(), 'loadBalancers: must hold one or two load balancers, got 0'],
    ['three load balancers', update(httpLb, tcpLb, tcpLb), 'loadBalancers: must hold one or two load balancers, got 3'],
    ['two HTTP', update(httpLb, { ...httpLb, port: 81 }), 'loadBalancers: two load balancers must be one HTTP and one TCP, got HTTP and HTTP'],
    ['two on one port', update(httpLb, { ...tcpLb, port: 8080 }), 'loadBalancers[1].port: 8080 is already used by loadBalancers[0]'],
    ['two with one id', update(httpLb, { ...tcpLb, id: '10' }), 'loadBalancers[1].id: duplicate id "10" (also loadBalancers[0])'],
    ['an LB not an object', update('x'), 'loadBalancers[0]: must be an object, got "x"'],
    ['missing nodes', update(lbWith({ nodes: undefined })), 'loadBalancers[0].nodes: missing (a load balancer needs at least one node)'],
    ['empty nodes', update(lbWith({ nodes: [] })), 'loadBalancers[0].nodes: must hold at least one node, got an empty list'],
    ['missing protocol', update(lbWith({ protocol: undefined })), 'loadBalancers[0].protocol: unknown protocol nothing; expected HTTP or TCP'],
    ['unknown protocol', update(lbWith({ protocol: 'UDP' })), 'loadBalancers[0].protocol: unknown protocol "UDP"; expected HTTP or TCP'],
    ['TCP without port', update({ ...tcpLb, port: undefined }), 'loadBalancers[0].port: missing (a TCP load balancer needs a port)'],
    ['port 0', update(lbWith({ port: 0 })), 'loadBalancers[0].port: must be an integer 1..65535, got 0'],
    ['port 70000', update(lbWith({ port: '70000' })), 'loadBalancers[0].port: must be an integer 1..65535, got "70000"'],
    ['port not a number', update(lbWith({ port: '8o' })), 'loadBalancers[0].port: must be an integer 1..65535, got "8o"'],
    ['unknown algorithm', update(lbWith({ algorithm: 'RANDOM' })), 'loadBalancers[0].algorithm: unknown algorithm "RANDOM"; expected ROUND_ROBIN or LEAST_CONNECTIONS'],
    ['bad LB id', update(lbWith({ id: 'a b' })), 'loadBalancers[0].id: must be 1-64 letters'],
    ['bad name', update(lbWith({ name: 'a\nb' })), 'loadBalancers[0].name: must be a non-empty string'],
    ['weight 300', update(lbWith({}, { weight: 300 })), 'loadBalancers[0].nodes[1].weight: must be an integer 1..256, got 300'],
    ['weight 0', update(lbWith({}, { weight: '0' })), 'loadBalancers[0].nodes[1].weight: must be an integer 1..256, got "0"'],
    ['weight 1.5', update(lbWith({}, { weight: 1.5 })), 'loadBalancers[0].nodes[1].weight: must be an integer 1..256, got 1.5'],
    ['node port missing', update(lbWith({}, { port: undefined })), 'loadBalancers[0].nodes[1].port: missing'],
    ['node port out of range', update(lbWith({}, { port: 65536 })), 'loadBalancers[0].nodes[1].port: must be an integer 1..65535, got 65536'],
    ['node address missing', update(lbWith({}, { address: undefined })), 'loadBalancers[0].nodes[1].address: missing'],
    ['node address bad', update(lbWith({}, { address: 'not a host' })), 'loadBalancers[0].nodes[1].address: must be an IP address or host name, got "not a host"'],
    ['node address bad IP', update(lbWith({}, { address: '999.1.1.1' })), 'loadBalancers[0].nodes[1].address: must be an IP address or host name'],
    ['node id missing', update(lbWith({}, { id: '' })), 'loadBalancers[0].nodes[1].id: missing'],
    ['node id duplicate', update(lbWith({}, { id: '1' })), 'loadBalancers[0].nodes[1].id: duplicate id "1" (also loadBalancers[0].nodes[0])'],
    ['node not an object', update(lbWith({ nodes: [7] })), 'loadBalancers[0].nodes[0]: must be an object, got 7'],
    ['backup not boolean', update(lbWith({}, { backup: 'yes' })), 'loadBalancers[0].nodes[1].backup: must be true or false, got "yes"'],
    ['unknown condition', update(lbWith({}, { condition: 'DRAINING' })), 'loadBalancers[0].nodes[1].condition: unknown condition "DRAINING"; expected ENABLED or DISABLED'],
    ['monitor missing delay', update(lbWith({ monitor: { type: 'CONNECT', timeout: 1, attempts: 1 } })), 'loadBalancers[0].monitor.delay: missing'],
    ['monitor type', update(lbWith({ monitor: { type: 'PING', delay: 1, timeout: 1, attempts: 1 } })), 'loadBalancers[0].monitor.type: unknown monitor type "PING"'],
    ['monitor timeout > delay', update(lbWith({ monitor: { type: 'CONNECT', delay: 5, timeout: 6, attempts: 1 } })), 'loadBalancers[0].monitor.timeout: must not exceed delay (5), got 6'],
    ['monitor path with space', update(lbWith({ monitor: { type: 'HTTP', delay: 5, timeout: 5, attempts: 1, path: '/a b' } })), 'loadBalancers[0].monitor.path: must be a path starting with "/"'],
    ['timeout as text', update(lbWith({ options: { client_timeout: 'long' } })), 'loadBalancers[0].options.client_timeout: must be an integer 1..86400000, got "long"'],
    ['retries negative', update(lbWith({ options: { connect_retries: -1 } })), 'loadBalancers[0].options.connect_retries: must be an integer 0..100, got -1'],
    ['options not an object', update(lbWith({ options: 'fast' })), 'loadBalancers[0].options: must be an object, got "fast"'],
    ['hostname on TCP', update({ ...tcpLb, hostname: 'a.example' }), 'loadBalancers[0].hostname: only HTTP load balancers route by host name'],
    ['bad hostname', update(lbWith({ hostname: 'a_b' })), 'loadBalancers[0].hostname: must be a host name, got "a_b"'],
    ['path_begin without slash', update(lbWith({ path_begin: 'api' })), 'loadBalancers[0].path_begin: must be a path starting with "/"'],
    ['tls key not PEM', update(lbWith({ tls: { certificate: '-----BEGIN CERTIFICATE-----', key: 'secret-key-text' } })), 'loadBalancers[0].tls.key: must be PEM text'],
  ])('%s -> names the field', (_name, req, message) => {
    let error: unknown;
    try {
      parseLoadBalancers(req);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'LB_REQUEST_INVALID' });
    expect((error as Error).message).toContain(message);
  });

  it('never echoes a TLS key that is not PEM', () => {
    expect(() => parseLoadBalancers(update(lbWith({ tls: { certificate: '-----BEGIN C', key: 'hunter2' } })))).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') as string }) as Error,
    );
  });
});

describe('parseArchiveRequest', () => {
  const archive = {
    hpcs_action: 'ARCHIVE',
    hpcs_object_store_type: 'Swift',
    hpcs_object_store_endpoint: 'https://swift.example.com/v1/AUTH_1/',
    hpcs_object_store_basepath: '/lbaaslogs/',
    hpcs_object_store_token: 'tok',
    loadBalancers: [{ id: 15, name: 'web', protocol: 'HTTP' }],
  };

  it('reads the store fields in any case and the LB from loadBalancers[0]', () => {
    const upper = Object.fromEntries(Object.entries(archive).map(([k, v]) => [k.toUpperCase(), v]));
    expect(parseArchiveRequest(upper)).toEqual({
      storeType: 'swift',
      endpoint: 'https://swift.example.com/v1/AUTH_1',
      basepath: 'lbaaslogs',
      token: 'tok',
      lbId: '15',
      lbName: 'web',
    });
  });

  it('falls back to the protocol as id, as UPDATE does', () => {
    expect(parseArchiveRequest({ ...archive, loadBalancers: [{ protocol: 'tcp' }] }).lbId).toBe('tcp');
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['no type', { hpcs_object_store_type: undefined }, 'LB_REQUEST_INVALID', 'hpcs_object_store_type: missing'],
    ['s3', { hpcs_object_store_type: 's3' }, 'LB_NOT_SUPPORTED', 'hpcs_object_store_type: "s3" is not a supported object store type (swift only)'],
    ['ftp endpoint', { hpcs_object_store_endpoint: 'ftp://x' }, 'LB_REQUEST_INVALID', 'hpcs_object_store_endpoint: must be an http:// or https:// URL'],
    ['endpoint with password', { hpcs_object_store_endpoint: 'https://u:pw@x/v1' }, 'LB_REQUEST_INVALID', 'got "https://u:*****@x/v1"'],
    ['no basepath', { hpcs_object_store_basepath: '/' }, 'LB_REQUEST_INVALID', 'hpcs_object_store_basepath: must name a container'],
    ['no token', { hpcs_object_store_token: '' }, 'LB_REQUEST_INVALID', 'hpcs_object_store_token: must be a non-empty string'],
    ['no loadBalancers', { loadBalancers: undefined }, 'LB_REQUEST_INVALID', 'loadBalancers: must name the load balancer to archive'],
    ['no id', { loadBalancers: [{ name: 'x' }] }, 'LB_REQUEST_INVALID', 'loadBalancers[0].id: missing'],
  ])('%s -> %s naming the field', (_name, patch, code, message) => {
    expect(() => parseArchiveRequest({ ...archive, ...patch })).toThrow(expect.objectContaining({ code }) as Error);
    expect(() => parseArchiveRequest({ ...archive, ...patch })).toThrow(message);
  });
});
