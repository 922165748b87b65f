import { describe, expect, it } from 'vitest';
import { formatAgo, formatApps, hostView, renderHosts, renderTable } from '../../../src/cli/bbonectl/table.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

function status(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    host_id: 'AA:BB:CC:00:00:01',
    status: 'ok',
    info: { hostname: 'web1', os_family: 'debian', arch: 'x64', os_info: 'Debian GNU/Linux 12' },
    apps: {
      'pf9-lb': { version: '1.0', running: false, config: {} },
      'pf9-foo': { version: '2.1', running: true, config: { secret: 'x' } },
    },
    host_agent: { status: 'running', version: '0.1.0' },
    heartbeat_period: 60,
    desired_hash: 'abc',
    ...extra,
  };
}

describe('hostView', () => {
  it('keeps what the table and --json show, and drops app configs', () => {
    expect(hostView(status(), T0, T0 + 1000)).toEqual({
      host_id: 'AA:BB:CC:00:00:01',
      hostname: 'web1',
      os: 'Debian GNU/Linux 12',
      arch: 'x64',
      status: 'ok',
      apps: { 'pf9-lb': { version: '1.0', running: false }, 'pf9-foo': { version: '2.1', running: true } },
      desired_hash: 'abc',
      heartbeat_period: 60,
      agent_version: '0.1.0',
      last_seen: '2025-01-01T00:00:00.000Z',
      lost: false,
    });
  });

  it('calls a host lost after 3x its own heartbeat period of silence, not before', () => {
    expect(hostView(status({ heartbeat_period: 10 }), T0, T0 + 30_000).status).toBe('ok');
    expect(hostView(status({ heartbeat_period: 10 }), T0, T0 + 30_001)).toMatchObject({ status: 'lost', lost: true });
    // No period to measure against: never lost.
    expect(hostView(status({ heartbeat_period: undefined }), T0, T0 + 1e9).lost).toBe(false);
  });

  it('carries per-app errors', () => {
    const v = hostView(status({ status: 'errors', apps: { 'pf9-x': { version: '', running: false, error: { code: 'HOOK_FAILED', message: 'boom' } } } }), T0, T0);
    expect(v.apps['pf9-x']).toEqual({ version: '', running: false, error: 'HOOK_FAILED: boom' });
    expect(formatApps(v.apps)).toBe('pf9-x=(stopped, error)');
  });
});

describe('rendering', () => {
  it('formats apps sorted by name, and "-" for none', () => {
    expect(formatApps(hostView(status(), T0, T0).apps)).toBe('pf9-foo=2.1(running) pf9-lb=1.0(stopped)');
    expect(formatApps({})).toBe('-');
  });

  it('says how long ago in the largest whole unit', () => {
    expect([0, 59_999, 60_000, 3_600_000, 86_400_000 * 2].map(formatAgo)).toEqual(['0s ago', '59s ago', '1m ago', '1h ago', '2d ago']);
    expect(formatAgo(-5)).toBe('0s ago');
  });

  it('aligns columns two spaces apart without trailing blanks', () => {
    expect(renderTable(['A', 'BB', 'C'], [['xyz', '1', ''], ['q', '', 'last']])).toBe('A    BB  C\nxyz  1\nq        last\n');
  });

  it('renders hosts sorted by host id with the header of issue 7', () => {
    const b = hostView(status({ host_id: 'BB', info: { hostname: 'web2', os_family: 'redhat' }, apps: {} }), T0, T0 + 120_000);
    const a = hostView(status({ host_id: 'AA' }), T0 + 60_000, T0 + 120_000);
    expect(renderHosts([b, a], T0 + 125_000)).toBe(
      [
        'HOST_ID  HOSTNAME  OS                   STATUS  APPS                                      LAST SEEN',
        'AA       web1      Debian GNU/Linux 12  ok      pf9-foo=2.1(running) pf9-lb=1.0(stopped)  1m ago',
        'BB       web2      redhat               ok      -                                         2m ago',
        '',
      ].join('\n'),
    );
  });
});
