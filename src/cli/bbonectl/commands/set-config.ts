/**
 * `bbonectl set-config HOST_ID FILE|- [--wait]`: validates the desired apps
 * with the agent's own parser, declares the host's queue (so the message
 * waits for a host that has not connected yet), publishes with confirm.
 *
 * With --wait it follows the host's statuses (replies and heartbeats alike,
 * matched by host_id) until one carries the desired_hash of what was sent and
 * is ok or errors. A status with another desired_hash means the message did
 * not arrive (a broker restart, a deleted queue), so it is sent again, as
 * DESIGN.md asks of a master. A status already in flight when we published
 * would also show the old hash, so re-sends are spaced by RESEND_SPACING_MS;
 * a mismatch inside that window schedules a ping for its end instead, whose
 * answer decides.
 */
import { desiredHash } from '../../../protocol/canonical-json.js';
import type { DesiredApps } from '../../../protocol/bbone/index.js';
import type { CtlCommand } from '../args.js';
import { desiredAppsFrom, parseJsonObject, readInput } from '../input.js';
import { seconds, type CtlIo, type Prepared } from '../io.js';
import { listen, statusData } from '../listen.js';
import type { MasterClient } from '../master-client.js';

type SetConfigCommand = Extract<CtlCommand, { name: 'set-config' }>;

export const RESEND_SPACING_MS = 1000;

export async function prepareSetConfig(cmd: SetConfigCommand, io: CtlIo): Promise<Prepared> {
  const name = cmd.file === '-' ? 'stdin' : cmd.file;
  const apps = desiredAppsFrom(parseJsonObject(await readInput(cmd.file, io.stdin), name));
  return (client) => run(client, cmd, apps, io);
}

function short(hash: unknown): string {
  return typeof hash === 'string' ? hash.slice(0, 12) : 'none';
}

/** One line per app in error, from the status' per-app detail. */
function appErrors(data: Record<string, unknown>): string[] {
  const apps = data.apps !== null && typeof data.apps === 'object' ? (data.apps as Record<string, Record<string, unknown>>) : {};
  return Object.entries(apps).flatMap(([name, app]) => {
    const error = app.error as { code?: unknown; message?: unknown } | undefined;
    if (!error || typeof error.message !== 'string') return [];
    return [`  ${name}: ${typeof error.code === 'string' ? error.code : 'ERROR'}: ${error.message}`];
  });
}

async function run(client: MasterClient, cmd: SetConfigCommand, apps: DesiredApps, io: CtlIo): Promise<number> {
  for (const w of await client.ensureHostQueue(cmd.host)) io.stderr.write(`bbonectl: warning: ${w}\n`);
  const hash = desiredHash(apps);
  const sent = new Set<string>();
  let lastSendAt = 0;
  const send = async (): Promise<void> => {
    const correlationId = client.newCorrelationId();
    sent.add(correlationId);
    lastSendAt = performance.now();
    await client.publish(cmd.host, { opcode: 'set_config', data: apps }, { correlationId });
  };
  if (!cmd.wait) {
    await send();
    io.stdout.write(`${cmd.host}: sent set_config (desired_hash ${short(hash)})\n`);
    return 0;
  }

  let result = 1;
  let lastShown = '';
  let pingTimer: NodeJS.Timeout | undefined;
  const complain = (err: unknown): void => {
    io.stderr.write(`bbonectl: ${err instanceof Error ? err.message : String(err)}\n`);
  };
  const resendOrRecheck = (seen: unknown): void => {
    const wait = lastSendAt + RESEND_SPACING_MS - performance.now();
    if (wait <= 0) {
      io.stdout.write(`${cmd.host}: holds desired_hash ${short(seen)}, not ${short(hash)}; sending again\n`);
      send().catch(complain);
      return;
    }
    if (pingTimer !== undefined) return;
    pingTimer = setTimeout(() => {
      pingTimer = undefined;
      client.publish(cmd.host, { opcode: 'ping' }, { correlationId: client.newCorrelationId() }).catch(complain);
    }, wait);
  };
  const ended = listen(client, {
    timeoutMs: cmd.timeoutS * 1000,
    signal: io.signal,
    onMessage: (m) => {
      if (m.body.opcode === 'error' && m.correlationId !== undefined && sent.has(m.correlationId)) {
        io.stdout.write(`${cmd.host}: refused: ${JSON.stringify(m.body.data)}\n`);
        return true;
      }
      const data = statusData(m);
      if (data === undefined || data.host_id !== cmd.host) return false;
      if (data.desired_hash !== hash) {
        resendOrRecheck(data.desired_hash);
        return false;
      }
      const line = `${cmd.host}: ${String(data.status)}`;
      if (line !== lastShown) io.stdout.write(`${line}\n`);
      lastShown = line;
      if (data.status === 'ok') result = 0;
      else if (data.status === 'errors') for (const e of appErrors(data)) io.stdout.write(`${e}\n`);
      return data.status === 'ok' || data.status === 'errors';
    },
  });
  try {
    await send();
    io.stdout.write(`${cmd.host}: sent set_config (desired_hash ${short(hash)}); waiting up to ${seconds(cmd.timeoutS)}\n`);
    const end = await ended;
    if (end === 'timeout') io.stderr.write(`bbonectl: ${cmd.host} did not report desired_hash ${short(hash)} as ok or errors within ${seconds(cmd.timeoutS)}\n`);
    return end === 'done' ? result : 1;
  } finally {
    if (pingTimer !== undefined) clearTimeout(pingTimer);
  }
}
