import { describe, expect, it } from 'vitest';
import { MessageError } from '../../../src/errors.js';
import { buildErrorMessage, buildStatusMessage, excerptOf } from '../../../src/protocol/bbone/build-messages.js';

const info = { hostname: 'h1', os_family: 'Linux', arch: 'x86_64', os_info: 'Debian GNU/Linux 12 bookworm' };

describe('buildStatusMessage', () => {
  it('has every field the historical master and DESIGN.md require', () => {
    const msg = buildStatusMessage({
      hostId: 'AA:BB:CC:DD:EE:FF',
      status: 'ok',
      info,
      apps: {},
      agentVersion: '0.1.0',
      heartbeatPeriod: 60,
      desiredHash: null,
      now: new Date('2026-01-02T03:04:05.000Z'),
      extra: { host_id: 'must not win', note: 'x' },
    });
    expect(msg).toEqual({
      opcode: 'status',
      data: {
        note: 'x',
        host_id: 'AA:BB:CC:DD:EE:FF',
        status: 'ok',
        info,
        apps: {},
        host_agent: { status: 'running', version: '0.1.0' },
        timestamp: '2026-01-02T03:04:05.000Z',
        heartbeat_period: 60,
        desired_hash: null,
      },
    });
  });
});

describe('buildErrorMessage', () => {
  it('carries code, message, the opcode when readable, and an excerpt', () => {
    const body = Buffer.from(JSON.stringify({ opcode: 'reboot', data: 1 }));
    const msg = buildErrorMessage('H', new MessageError('OPCODE_UNKNOWN', 'unknown opcode "reboot"', 'opcode'), body);
    expect(msg).toEqual({
      opcode: 'error',
      data: {
        host_id: 'H',
        error: { code: 'OPCODE_UNKNOWN', message: 'unknown opcode "reboot"' },
        received: { opcode: 'reboot', excerpt: '{"opcode":"reboot","data":1}' },
      },
    });
  });

  it('has no opcode for unparsable bodies and truncates long ones', () => {
    const body = Buffer.from(`{${'x'.repeat(1000)}`);
    const msg = buildErrorMessage('H', new MessageError('MESSAGE_MALFORMED', 'bad'), body);
    expect(msg.data.received.opcode).toBeUndefined();
    expect(msg.data.received.excerpt).toHaveLength(203);
  });

  it('masks secret-looking values in the excerpt, even in broken JSON', () => {
    const text = excerptOf(Buffer.from('{"opcode": "x", "amqp_password": "hunter2", "api_token":"abc\\"def", "name": "ok"'));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('abc');
    expect(text).toContain('"amqp_password": "*****"');
    expect(text).toContain('"name": "ok"');
  });
});
