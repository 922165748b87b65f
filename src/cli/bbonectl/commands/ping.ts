/**
 * `bbonectl ping HOST_ID... | --all`: one ping per host with its own
 * correlation_id, so each answer is matched to its host and timed from its
 * own send. Pings to named hosts are mandatory publishes: a host whose queue
 * was never declared is reported at once instead of after the timeout, and
 * no queue is created for a mistyped host id.
 */
import type { CtlCommand } from '../args.js';
import { seconds, type CtlIo, type Prepared } from '../io.js';
import { listen, statusData } from '../listen.js';
import type { MasterClient } from '../master-client.js';

type PingCommand = Extract<CtlCommand, { name: 'ping' }>;

function answerLine(host: string, rttMs: number, status: unknown): string {
  return `${host}  ${rttMs.toFixed(1)} ms  ${typeof status === 'string' ? status : 'answered'}\n`;
}

export function preparePing(cmd: PingCommand, io: CtlIo): Prepared {
  return (client) => (cmd.all ? pingAll(client, cmd, io) : pingNamed(client, cmd, io));
}

async function pingNamed(client: MasterClient, cmd: PingCommand, io: CtlIo): Promise<number> {
  const pending = new Map<string, { host: string; sentAt: number }>();
  const failed: string[] = [];
  for (const host of cmd.hosts) pending.set(client.newCorrelationId(), { host, sentAt: 0 });
  const ended = listen(client, {
    timeoutMs: cmd.timeoutS * 1000,
    signal: io.signal,
    onMessage: (m) => {
      const p = m.correlationId === undefined ? undefined : pending.get(m.correlationId);
      if (p === undefined || m.correlationId === undefined) return false;
      pending.delete(m.correlationId);
      io.stdout.write(answerLine(p.host, m.at - p.sentAt, statusData(m)?.status));
      return pending.size === 0;
    },
    onReturn: (id) => {
      const p = id === undefined ? undefined : pending.get(id);
      if (p === undefined || id === undefined) return false;
      pending.delete(id);
      failed.push(p.host);
      io.stdout.write(`${p.host}  no queue bound for this host (has its agent ever connected?)\n`);
      return pending.size === 0;
    },
  });
  await Promise.all(
    [...pending].map(([correlationId, p]) => {
      p.sentAt = performance.now();
      return client.publish(p.host, { opcode: 'ping' }, { correlationId, mandatory: true });
    }),
  );
  await ended;
  for (const p of pending.values()) io.stdout.write(`${p.host}  no answer within ${seconds(cmd.timeoutS)}\n`);
  return pending.size === 0 && failed.length === 0 ? 0 : 1;
}

async function pingAll(client: MasterClient, cmd: PingCommand, io: CtlIo): Promise<number> {
  const correlationId = client.newCorrelationId();
  const answered = new Set<string>();
  let sentAt = 0;
  const ended = listen(client, {
    timeoutMs: cmd.timeoutS * 1000,
    signal: io.signal,
    onMessage: (m) => {
      const data = statusData(m);
      if (m.correlationId !== correlationId || data === undefined) return;
      const host = data.host_id as string;
      // Every agent answers once; a second copy (e.g. bound twice) is not a second host.
      if (answered.has(host)) return;
      answered.add(host);
      io.stdout.write(answerLine(host, m.at - sentAt, data.status));
    },
  });
  sentAt = performance.now();
  await client.publish('slaves', { opcode: 'ping' }, { correlationId });
  await ended;
  if (answered.size === 0) {
    io.stderr.write(`bbonectl: no host answered within ${seconds(cmd.timeoutS)}\n`);
    return 1;
  }
  return 0;
}
