/**
 * `bbonectl lb HOST_ID ACTION [FILE|-]`: a Libra worker request (RPC over
 * AMQP): reply_to is bbonectl's own queue and the reply is the message with
 * our correlation_id. Mandatory publish: a host with no queue is reported at
 * once, and no queue is declared for it, so a request nobody waits for any
 * more cannot run on a host that connects later.
 */
import type { CtlCommand } from '../args.js';
import { parseJsonObject, readInput } from '../input.js';
import { seconds, type CtlIo, type Prepared } from '../io.js';
import { listen } from '../listen.js';
import type { Incoming, MasterClient } from '../master-client.js';

type LbCommand = Extract<CtlCommand, { name: 'lb' }>;

/** Libra field names are case-insensitive: find `name` in any case. */
function fieldCi(obj: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : obj[key];
}

/** The request: the file's object with hpcs_action set to ACTION (any spelling of it in the file gives way). */
export function buildLbRequest(action: string, doc: Record<string, unknown>): Record<string, unknown> {
  const rest = Object.fromEntries(Object.entries(doc).filter(([k]) => k.toLowerCase() !== 'hpcs_action'));
  return { hpcs_action: action, ...rest };
}

export function isPass(reply: Record<string, unknown>): boolean {
  const response = fieldCi(reply, 'hpcs_response');
  return typeof response === 'string' && response.toUpperCase() === 'PASS';
}

export async function prepareLb(cmd: LbCommand, io: CtlIo): Promise<Prepared> {
  const doc = cmd.file === undefined ? {} : parseJsonObject(await readInput(cmd.file, io.stdin), cmd.file === '-' ? 'stdin' : cmd.file);
  const request = buildLbRequest(cmd.action, doc);
  return (client) => run(client, cmd, request, io);
}

async function run(client: MasterClient, cmd: LbCommand, request: Record<string, unknown>, io: CtlIo): Promise<number> {
  const correlationId = client.newCorrelationId();
  let reply: Incoming | undefined;
  let unrouted = false;
  const ended = listen(client, {
    timeoutMs: cmd.timeoutS * 1000,
    signal: io.signal,
    onMessage: (m) => {
      if (m.correlationId !== correlationId) return false;
      reply = m;
      return true;
    },
    onReturn: (id) => (unrouted = id === correlationId),
  });
  await client.publish(cmd.host, request, { correlationId, replyTo: client.replyQueue, mandatory: true });
  const end = await ended;
  if (unrouted) {
    io.stderr.write(`bbonectl: no queue bound for ${cmd.host} (has its agent ever connected?)\n`);
    return 1;
  }
  if (end !== 'done' || reply === undefined) {
    io.stderr.write(`bbonectl: no reply from ${cmd.host} within ${seconds(cmd.timeoutS)}\n`);
    return 1;
  }
  io.stdout.write(`${JSON.stringify(reply.body, null, 2)}\n`);
  // An `error` message (the agent could not parse the request) has no hpcs_response: a failure too.
  return isPass(reply.body) ? 0 : 1;
}
