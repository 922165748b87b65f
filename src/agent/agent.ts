/**
 * The backbone slave: takes messages from the bus, hands them to the apps
 * controller or the Libra handler, and keeps the master informed with status
 * messages (on connect, after each message, on the heartbeat).
 *
 * Every message is settled: handled and acked, or answered with an `error`
 * message and acked. The one exception is a set_config whose desired state
 * could not be saved: it is rejected (not requeued) after the error is
 * reported, because acking it would claim a durability we do not have, and
 * the master re-sends when the status shows a stale desired_hash.
 */
import { toAgentError, type AgentError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Bus, Disposition, InboundMessage } from '../bus/bus.js';
import { buildErrorMessage, buildStatusMessage, parseInbound } from '../protocol/bbone/index.js';
import type { HostInfoWire } from '../protocol/bbone/types.js';
import { Heartbeat } from './heartbeat.js';
import { realTimer, type AppsController, type LibraHandler, type Timer } from './ports.js';

export const MASTER_TOPIC = 'master';

export interface AgentDeps {
  hostId: string;
  info: HostInfoWire;
  version: string;
  heartbeatPeriodSec: number;
  bus: Bus;
  apps: AppsController;
  libra: LibraHandler;
  logger: Logger;
  timer?: Timer;
  random?: () => number;
  now?: () => Date;
  /** Counts each message by opcode (metrics); 'invalid' for refused ones. */
  countMessage?: (opcode: string) => void;
}

export type StatusReason = 'connect' | 'ping' | 'set_config' | 'heartbeat' | 'converged';

export class Agent {
  private readonly log: Logger;
  private readonly heartbeat: Heartbeat;
  private readonly now: () => Date;
  private started = false;

  constructor(private readonly deps: AgentDeps) {
    this.log = deps.logger;
    this.now = deps.now ?? (() => new Date());
    this.heartbeat = new Heartbeat({
      periodMs: deps.heartbeatPeriodSec * 1000,
      timer: deps.timer ?? realTimer,
      ...(deps.random ? { random: deps.random } : {}),
      beat: async () => {
        // A cheap look at the host first (one package query, one service query), so the status is current.
        await this.deps.apps.tick();
        await this.sendStatus('heartbeat');
      },
      onError: (err) => this.log.warn({ event: 'status.failed', reason: 'heartbeat', err: errInfo(err) }, 'heartbeat not sent'),
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.deps.apps.onSettled(this.onSettled);
    await this.deps.apps.init();
    this.deps.bus.on('connected', this.onConnected);
    this.deps.bus.start((msg) => this.handleMessage(msg));
    this.heartbeat.start();
  }

  async stop(): Promise<void> {
    this.heartbeat.stop();
    this.deps.bus.off('connected', this.onConnected);
    await this.deps.bus.close();
    await this.deps.apps.close();
    this.started = false;
  }

  private readonly onConnected = (): void => {
    // Tell the master at once that we are (back) here, rather than a heartbeat period later,
    // and look at the host again: it may have drifted while we were away.
    this.sendStatus('connect')
      .then(() => this.deps.apps.tick())
      .catch((err: unknown) => this.log.warn({ event: 'status.failed', reason: 'connect', err: errInfo(err) }, 'status not sent'));
  };

  private readonly onSettled = (): void => {
    this.sendStatus('converged').catch((err: unknown) =>
      this.log.warn({ event: 'status.failed', reason: 'converged', err: errInfo(err) }, 'status not sent'),
    );
  };

  async handleMessage(msg: InboundMessage): Promise<Disposition> {
    const ctx = { correlation_id: msg.correlationId, message_id: msg.messageId, routing_key: msg.routingKey };
    let parsed;
    try {
      parsed = parseInbound(msg.body);
    } catch (err) {
      const error = toAgentError(err);
      this.deps.countMessage?.('invalid');
      this.log.warn({ event: 'message.refused', ...ctx, size: msg.body.length, code: error.code, error: error.message }, 'message refused');
      await this.publishError(error, msg);
      return 'ack';
    }
    const kind = parsed.kind;
    this.log.info({ event: 'message.received', ...ctx, opcode: kind, size: msg.body.length }, 'message received');
    this.deps.countMessage?.(kind);

    switch (parsed.kind) {
      case 'ping':
        await this.sendStatus('ping', msg.correlationId);
        return 'ack';
      case 'set_config':
        try {
          await this.deps.apps.setDesired(parsed.apps);
        } catch (err) {
          const error = toAgentError(err);
          this.log.error({ event: 'set_config.failed', ...ctx, code: error.code, error: error.message }, 'desired state not saved');
          await this.publishError(error, msg);
          return 'reject';
        }
        this.log.info({ event: 'set_config.saved', ...ctx, apps: Object.keys(parsed.apps) }, 'desired state saved');
        await this.sendStatus('set_config', msg.correlationId);
        return 'ack';
      case 'libra':
        await this.answerLibra(parsed.request, msg);
        return 'ack';
    }
  }

  async sendStatus(reason: StatusReason, correlationId?: string): Promise<void> {
    if (!this.deps.bus.isConnected()) {
      this.log.debug({ event: 'status.skipped', reason }, 'not connected; status not sent');
      return;
    }
    const snap = this.deps.apps.snapshot();
    const message = buildStatusMessage({
      hostId: this.deps.hostId,
      status: snap.status,
      info: this.deps.info,
      apps: snap.apps,
      agentVersion: this.deps.version,
      heartbeatPeriod: this.deps.heartbeatPeriodSec,
      desiredHash: snap.desiredHash,
      now: this.now(),
      ...(snap.extra ? { extra: snap.extra } : {}),
    });
    await this.deps.bus.publish(MASTER_TOPIC, message, { correlationId });
    this.log.info(
      { event: 'status.sent', reason, status: snap.status, desired_hash: snap.desiredHash, correlation_id: correlationId },
      'status sent',
    );
  }

  private async answerLibra(request: Record<string, unknown>, msg: InboundMessage): Promise<void> {
    const reply = await this.deps.libra.handle(request, { correlationId: msg.correlationId });
    await this.deps.bus.publish(MASTER_TOPIC, reply, { correlationId: msg.correlationId, toQueue: msg.replyTo });
    this.log.info(
      {
        event: 'libra.replied',
        correlation_id: msg.correlationId,
        action: reply.hpcs_action,
        response: reply.hpcs_response,
        reply_to: msg.replyTo ?? MASTER_TOPIC,
      },
      'libra request answered',
    );
  }

  private async publishError(error: AgentError, msg: InboundMessage): Promise<void> {
    const message = buildErrorMessage(this.deps.hostId, error, msg.body);
    await this.deps.bus.publish(MASTER_TOPIC, message, { correlationId: msg.correlationId });
  }
}

function errInfo(err: unknown): { code: string; message: string } {
  return toAgentError(err).toJSON();
}
