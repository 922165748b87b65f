/** Parsers and mappings over output captured from HAProxy 2.6.12 (fixtures/). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeStatus, parseShowInfo, parseShowProc, parseShowStat, splitAddr, withoutMaintServers } from '../../../../src/lb/haproxy/runtime-parse.js';
import { countersFromRows, nodeStatsFromRows } from '../../../../src/lb/haproxy/stats.js';

const fixture = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

describe('show stat', () => {
  const rows = parseShowStat(fixture('show-stat.csv'));

  it('keys each line by the header names', () => {
    expect(rows).toHaveLength(8);
    expect(rows[1]).toMatchObject({ pxname: '10', svname: 'a', status: 'UP', weight: '2', type: '2', addr: '127.0.0.1:42787', mode: 'http' });
    expect(Object.keys(rows[0] ?? {})).not.toContain('-');
  });

  it('maps servers to Libra node statuses, per load balancer', () => {
    expect(nodeStatsFromRows(rows)).toEqual([
      {
        id: '10',
        nodes: [
          { id: 'a', address: '127.0.0.1', port: 42787, status: 'UP' },
          { id: 'b', address: '127.0.0.1', port: 1, status: 'DOWN' },
          { id: 'c', address: '127.0.0.1', port: 42787, status: 'MAINT' },
        ],
      },
      { id: '11', nodes: [{ id: 't1', address: '::1', port: 42787, status: 'UP' }] },
    ]);
  });

  it('gives raw counters per frontend', () => {
    expect(countersFromRows(rows)).toEqual([
      { id: '10', protocol: 'HTTP', bytes_in: 82, bytes_out: 1708, current_sessions: 0, total_sessions: 1 },
      { id: '11', protocol: 'TCP', bytes_in: 0, bytes_out: 0, current_sessions: 0, total_sessions: 0 },
    ]);
  });

  it.each([
    ['UP', 'UP'], ['UP 1/3', 'UP'], ['no check', 'UP'], ['NOLB', 'UP'], ['DOWN', 'DOWN'], ['DOWN 1/2', 'DOWN'],
    ['MAINT', 'MAINT'], ['MAINT (via 10/a)', 'MAINT'], ['MAINT (resolution)', 'MAINT'], ['DRAIN', 'MAINT'],
  ])('status %s is %s', (status, expected) => {
    expect(nodeStatus(status)).toBe(expected);
  });

  it('splits addresses, IPv6 in brackets', () => {
    expect(splitAddr('[fd00::1]:8080')).toEqual({ address: 'fd00::1', port: 8080 });
    expect(splitAddr('10.0.0.1:80')).toEqual({ address: '10.0.0.1', port: 80 });
  });
});

describe('show proc', () => {
  it('reads master reloads, failures, current and old workers', () => {
    const text = `#<PID>          <type>          <reloads>       <uptime>        <version>
32721           master          6 [failed: 1]   0d00h01m51s     2.6.12-1+deb12u4
# workers
782             worker          1               0d00h00m06s     2.6.12-1+deb12u4
# old workers
771             worker          2               0d00h00m20s     2.6.12-1+deb12u4
# programs

`;
    expect(parseShowProc(text)).toEqual({
      master: { pid: 32721, reloads: 6, failedReloads: 1 },
      workers: [{ pid: 782, reloads: 1 }],
      oldWorkers: [{ pid: 771, reloads: 2 }],
    });
  });

  it('refuses text without a master line', () => {
    expect(() => parseShowProc('Unknown command\n')).toThrow(/no master line/);
  });
});

describe('show info / servers state', () => {
  it('reads show info as a map', () => {
    expect(parseShowInfo('Name: HAProxy\nVersion: 2.6.12\nPid: 366\n')).toEqual({ Name: 'HAProxy', Version: '2.6.12', Pid: '366' });
  });

  it('leaves servers in maintenance out of the state a reload loads', () => {
    const kept = withoutMaintServers(fixture('show-servers-state.txt')).split('\n').filter((l) => /^\d+ /.test(l));
    expect(kept.map((l) => l.split(' ')[3])).toEqual(['a', 'b', 't1']);
    expect(withoutMaintServers(fixture('show-servers-state.txt')).startsWith('1\n# be_id be_name')).toBe(true);
  });
});
