import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import type { LibraHandler } from '../../../src/agent/ports.js';
import type { InboundMessage } from '../../../src/bus/bus.js';
import { createLogger } from '../../../src/logger.js';
import { desiredHash } from '../../../src/protocol/canonical-json.js';
import { DesiredStateStore } from '../../../src/state/desired-state-store.js';
import { FakeBus } from './fake-bus.js';
import { StoreOnlyApps } from './fake-apps.js';

const info = { hostname: 'h', os_family: 'Linux', arch: 'x86_64', os_info: 'Test 1' };

/** Stands in for the LibraWorker (tested on its own): FAILs everything, and records what it saw. */
class RefusingLibra implements LibraHandler {
  seen: Array<{ request: Record<string, unknown>; correlationId: string | undefined }> = [];
  handle(request: Record<string, unknown>, context: { correlationId?: string | undefined } = {}): Promise<Record<string, unknown>> {
    this.seen.push({ request, correlationId: context.correlationId });
    return Promise.resolve({ ...request, hpcs_response: 'FAIL', hpcs_error: 'load balancer actions are not supported yet' });
  }
}

function inbound(body: unknown, extra: Partial<InboundMessage> = {}): InboundMessage {
  return {
    body: Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    routingKey: 'H1',
    exchange: 'pf9-bbone',
    correlationId: undefined,
    replyTo: undefined,
    messageId: undefined,
    redelivered: false,
    ...extra,
  };
}

describe('Agent message handling', () => {
  let dir: string;
  let bus: FakeBus;
  let agent: Agent;
  let store: DesiredStateStore;
  let logLines: string[];
  let apps: StoreOnlyApps;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pf9-agent-'));
    bus = new FakeBus();
    store = new DesiredStateStore(dir, 'H1');
    logLines = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(...chunk.toString().trim().split('\n'));
        cb();
      },
    });
    agent = new Agent({
      hostId: 'H1',
      info,
      version: '9.9.9',
      heartbeatPeriodSec: 60,
      bus,
      apps: (apps = new StoreOnlyApps(store)),
      libra: new RefusingLibra(),
      logger: createLogger({ level: 'debug', destination: sink }),
      now: () => new Date('2026-01-01T00:00:00Z'),
    });
    await agent.start();
  });

  afterEach(async () => {
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers ping with a status carrying the correlation id', async () => {
    expect(await agent.handleMessage(inbound({ opcode: 'ping' }, { correlationId: 'c-1' }))).toBe('ack');
    expect(bus.published).toHaveLength(1);
    const [sent] = bus.published;
    expect(sent?.routingKey).toBe('master');
    expect(sent?.options.correlationId).toBe('c-1');
    expect(sent?.body).toMatchObject({
      opcode: 'status',
      data: { host_id: 'H1', status: 'ok', info, host_agent: { status: 'running', version: '9.9.9' }, desired_hash: null },
    });
  });

  it('saves set_config durably before acking and reports its hash', async () => {
    const apps = { 'pf9-foo': { version: '1.0', running: true, config: { a: 1 } } };
    expect(await agent.handleMessage(inbound({ opcode: 'set_config', data: apps }))).toBe('ack');
    expect(await store.load()).toEqual(apps);
    expect(bus.published[0]?.body).toMatchObject({ data: { status: 'converging', desired_hash: desiredHash(apps) } });
  });

  it.each([
    ['malformed JSON', 'not json{', 'MESSAGE_MALFORMED'],
    ['unknown opcode', { opcode: 'explode' }, 'OPCODE_UNKNOWN'],
    ['wrong types', { opcode: 'set_config', data: { 'pf9-foo': { version: 1, running: true } } }, 'MESSAGE_INVALID'],
  ])('answers %s with an error message, acks, and keeps serving', async (_n, body, code) => {
    expect(await agent.handleMessage(inbound(body, { correlationId: 'bad-1' }))).toBe('ack');
    expect(bus.published[0]).toMatchObject({ routingKey: 'master', options: { correlationId: 'bad-1' }, body: { opcode: 'error', data: { host_id: 'H1', error: { code } } } });
    expect(await agent.handleMessage(inbound({ opcode: 'ping' }))).toBe('ack');
    expect(bus.published[1]?.body).toMatchObject({ opcode: 'status' });
  });

  it('answers a Libra request at reply_to with FAIL until the load balancer exists', async () => {
    const req = { hpcs_action: 'DISCOVER' };
    await agent.handleMessage(inbound(req, { replyTo: 'amq.gen-reply', correlationId: 'r1' }));
    expect(bus.published[0]).toMatchObject({
      options: { toQueue: 'amq.gen-reply', correlationId: 'r1' },
      body: { hpcs_action: 'DISCOVER', hpcs_response: 'FAIL', hpcs_error: expect.stringMatching(/not supported yet/) as unknown },
    });
  });

  it('rejects (without requeue) a set_config it could not save, after telling the master', async () => {
    await store.save({});
    // The blocked store's directory runs through that desired_apps.json file, so mkdir fails (root ignores modes).
    const blocked = new DesiredStateStore(store.path, 'H1');
    const broken = new Agent({
      hostId: 'H1', info, version: '1', heartbeatPeriodSec: 60, bus, apps: new StoreOnlyApps(blocked),
      libra: new RefusingLibra(), logger: createLogger({ level: 'silent' }),
    });
    const apps = { 'pf9-foo': { version: '1', running: true } };
    const r = await broken.handleMessage(inbound({ opcode: 'set_config', data: apps }));
    expect(r).toBe('reject');
    expect(bus.published[0]?.body).toMatchObject({ opcode: 'error', data: { error: { code: 'STATE_WRITE_FAILED' } } });
  });

  it('logs one structured line per event and never the secrets of a set_config', async () => {
    await agent.handleMessage(inbound({ opcode: 'set_config', data: { 'pf9-x': { version: '1', running: true, config: { password: 'hunter2' } } } }, { correlationId: 'c9' }));
    const events = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(['message.received', 'set_config.saved', 'status.sent']);
    for (const e of events) expect(e.host_id).toBeUndefined(); // host_id is bound by the composition root's logger
    expect(events[0]).toMatchObject({ opcode: 'set_config', correlation_id: 'c9' });
    expect(logLines.join('\n')).not.toContain('hunter2');
  });

  it('sends a status when a converge settles', async () => {
    apps.settle();
    await new Promise((r) => setImmediate(r));
    expect(bus.published[0]?.body).toMatchObject({ opcode: 'status', data: { host_id: 'H1' } });
  });

  it('does not publish a status while disconnected', async () => {
    bus.connected = false;
    await agent.sendStatus('heartbeat');
    expect(bus.published).toHaveLength(0);
  });
});
