/**
 * The rendered configuration, compared as exact text: what HAProxy reads is
 * the contract, and a diff here shows what a change does to every host's
 * proxy. (Each text below was also checked with `haproxy -c`.)
 */
import { describe, expect, it } from 'vitest';
import { checkRenderable, duration, hostPort, listeningPorts, renderHaproxyConfig, tlsPemPath } from '../../../../src/lb/haproxy/render.js';
import type { LbState, LoadBalancer } from '../../../../src/lb/model.js';

const opts = { bindAddress: '127.0.0.1', runDir: '/run/lb', stateFile: '/run/lb/server-state', logTarget: 'stdout' };

const HEAD = `# Written by pf9-hostagent from its load-balancer state; edits are overwritten by the next change.
global
    master-worker
    stats socket /run/lb/admin.sock mode 600 level admin expose-fd listeners
    server-state-file /run/lb/server-state
    log stdout format rfc5424 local0
    hard-stop-after 300s

defaults
    log global
    load-server-state-from-file global
    option dontlognull
    option redispatch
`;

const web: LoadBalancer = {
  id: '10',
  name: 'web',
  protocol: 'HTTP',
  port: 8080,
  algorithm: 'ROUND_ROBIN',
  nodes: [
    { id: '1', address: '10.0.0.1', port: 80, weight: 1, backup: false, condition: 'ENABLED' },
    { id: '2', address: 'fd00::2', port: 8080, weight: 256, backup: true, condition: 'DISABLED' },
  ],
  monitor: { type: 'HTTP', delay: 5, timeout: 2.5, attempts: 3, path: '/health' },
  hostname: 'www.example.com',
  pathBegin: '/api',
  tls: { certificate: 'CERT', key: 'KEY' },
  timeouts: { client: 30_000, server: 45_000, connect: 1500 },
  retries: 3,
};

const db: LoadBalancer = {
  id: 'db-1',
  name: 'db',
  protocol: 'TCP',
  port: 3306,
  algorithm: 'LEAST_CONNECTIONS',
  nodes: [{ id: 'n1', address: '10.0.0.7', port: 3306, weight: 10, backup: false, condition: 'ENABLED' }],
  monitor: { type: 'CONNECT', delay: 1, timeout: 1, attempts: 2 },
  timeouts: { client: 30_000, server: 30_000, connect: 5000 },
  retries: 3,
};

describe('renderHaproxyConfig', () => {
  it('renders nothing but global and defaults for an empty state', () => {
    expect(renderHaproxyConfig({ loadBalancers: [], suspended: false }, opts)).toBe(HEAD);
  });

  it('renders an HTTPS load balancer with host and path ACLs, an HTTP monitor, a backup and a disabled node', () => {
    expect(renderHaproxyConfig({ loadBalancers: [web], suspended: false }, opts)).toBe(`${HEAD}
frontend 10
    mode http
    bind 127.0.0.1:8080 ssl crt ${tlsPemPath('/run/lb', web)}
    log-tag 10
    option httplog
    option idle-close-on-response
    timeout client 30s
    http-request set-header X-Forwarded-Proto https
    acl lb_host req.hdr(host),field(1,:) -i www.example.com
    acl lb_path path_beg /api
    http-request deny deny_status 404 unless lb_host lb_path
    default_backend 10

backend 10
    mode http
    log-tag 10
    balance roundrobin
    cookie SERVERID insert indirect nocache
    option forwardfor
    retries 3
    timeout connect 1500ms
    timeout server 45s
    option httpchk GET /health
    timeout check 2500ms
    server 1 10.0.0.1:80 weight 1 cookie 1 check inter 5s fall 3 rise 3
    server 2 [fd00::2]:8080 weight 256 backup disabled cookie 2 check inter 5s fall 3 rise 3
`);
  });

  it('renders a TCP load balancer (stick on source, leastconn, connect monitor) and SUSPEND as disabled frontends', () => {
    const plain = { ...web, tls: undefined, hostname: undefined, pathBegin: undefined, monitor: undefined, nodes: [web.nodes[0]!] };
    expect(renderHaproxyConfig({ loadBalancers: [plain, db], suspended: true }, { ...opts, bindAddress: '::', hardStopAfterMs: 60_000 }))
      .toBe(`${HEAD.replace('hard-stop-after 300s', 'hard-stop-after 60s')}
frontend 10
    mode http
    bind [::]:8080
    disabled
    log-tag 10
    option httplog
    option idle-close-on-response
    timeout client 30s
    default_backend 10

backend 10
    mode http
    log-tag 10
    balance roundrobin
    cookie SERVERID insert indirect nocache
    option forwardfor
    retries 3
    timeout connect 1500ms
    timeout server 45s
    server 1 10.0.0.1:80 weight 1 cookie 1

frontend db-1
    mode tcp
    bind [::]:3306
    disabled
    log-tag db-1
    option tcplog
    timeout client 30s
    default_backend db-1

backend db-1
    mode tcp
    log-tag db-1
    balance leastconn
    stick-table type ip size 100k expire 30m
    stick on src
    retries 3
    timeout connect 5s
    timeout server 30s
    timeout check 1s
    server n1 10.0.0.7:3306 weight 10 check inter 1s fall 2 rise 2
`);
  });

  it('names the PEM file by its content, so a new certificate is a new file', () => {
    const a = tlsPemPath('/run/lb', web);
    expect(a).toMatch(/^\/run\/lb\/tls\/10-[0-9a-f]{16}\.pem$/);
    expect(tlsPemPath('/run/lb', web)).toBe(a);
    expect(tlsPemPath('/run/lb', { ...web, tls: { certificate: 'CERT2', key: 'KEY' } })).not.toBe(a);
    expect(tlsPemPath('/run/lb', db)).toBeUndefined();
  });
});

describe('checkRenderable', () => {
  const bad = (lb: Partial<LoadBalancer>, more: LoadBalancer[] = []): LbState => ({ loadBalancers: [{ ...web, ...lb }, ...more], suspended: false });

  it.each([
    [{ id: 'a b' }, /^loadBalancers\[0\]\.id: "a b" must be/],
    [{ hostname: 'evil.com\n    bind :1' }, /^loadBalancers\[0\]\.hostname: .* is not a host name/],
    [{ pathBegin: '/a #b' }, /^loadBalancers\[0\]\.path_begin: /],
    [{ monitor: { type: 'HTTP' as const, delay: 1, timeout: 1, attempts: 1, path: "/x'y" } }, /^loadBalancers\[0\]\.monitor\.path: /],
    [{ nodes: [{ ...web.nodes[0]!, id: 'x;y' }] }, /^loadBalancers\[0\]\.nodes\[0\]\.id: /],
    [{ nodes: [web.nodes[0]!, web.nodes[0]!] }, /^loadBalancers\[0\]\.nodes\[1\]\.id: duplicate node id 1/],
    [{ nodes: [{ ...web.nodes[0]!, address: '10.0.0.1 backup' }] }, /^loadBalancers\[0\]\.nodes\[0\]\.address: /],
    [{ protocol: 'TCP' as const }, /^loadBalancers\[0\]\.hostname: hostname and path_begin apply to HTTP load balancers only/],
  ])('refuses %j', (lb, message) => {
    expect(() => checkRenderable(bad(lb))).toThrow(message);
    expect(() => checkRenderable(bad(lb))).toThrow(expect.objectContaining({ code: 'LB_INVALID' }) as Error);
  });

  it('refuses two load balancers on one port, or with one id', () => {
    expect(() => checkRenderable(bad({}, [{ ...db, port: 8080 }]))).toThrow('loadBalancers[1].port: port 8080 is already used by load balancer 10');
    expect(() => checkRenderable(bad({}, [{ ...db, id: '10' }]))).toThrow('loadBalancers[1].id: duplicate load balancer id 10');
  });
});

describe('helpers', () => {
  it('formats durations and addresses as HAProxy reads them', () => {
    expect([duration(30_000), duration(1500), duration(0), duration(2.4)]).toEqual(['30s', '1500ms', '0ms', '2ms']);
    expect([hostPort('10.0.0.1', 80), hostPort('::1', 80)]).toEqual(['10.0.0.1:80', '[::1]:80']);
  });

  it('lists the ports a rendered config listens on, skipping disabled frontends', () => {
    const both = { loadBalancers: [{ ...web, tls: undefined }, db], suspended: false };
    expect(listeningPorts(renderHaproxyConfig(both, opts))).toEqual(new Set([8080, 3306]));
    expect(listeningPorts(renderHaproxyConfig({ ...both, suspended: true }, opts))).toEqual(new Set());
  });
});
