/**
 * `pf9-lb`, the load balancer as a built-in app. set_config turns it on or
 * off (`running`) and picks its engine (`config.engine`: haproxy, or sozu
 * later); the load balancers themselves come from Libra requests and are
 * held by the LibraWorker, so a re-sent set_config never undoes them, and
 * turning the app off stops the proxy but keeps them for when it is on again.
 */
import { LbError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LbEngine } from './engine.js';
import type { LibraWorker } from './libra-worker.js';

export const LB_APP = 'pf9-lb';
export const LB_ENGINES = ['haproxy', 'sozu'] as const;
export type LbEngineKind = (typeof LB_ENGINES)[number];

export interface LbAppOptions {
  worker: LibraWorker;
  /**
   * Builds an engine (async: engines are loaded on first use, so an agent
   * whose host runs no load balancer never pays for their code).
   */
  createEngine: (kind: LbEngineKind, config: Record<string, unknown>) => Promise<LbEngine>;
  logger: Logger;
}

export class LbApp {
  readonly name = LB_APP;
  private on = false;
  private config: Record<string, unknown> = { engine: 'haproxy' };
  private engine: LbEngine | undefined;
  private kind: LbEngineKind | undefined;

  constructor(private readonly opts: LbAppOptions) {}

  observe(): Promise<{ running: boolean; config: Record<string, unknown> }> {
    return Promise.resolve({ running: this.on, config: { ...this.config } });
  }

  async setConfig(config: Record<string, unknown>): Promise<void> {
    const kind = engineKind(config.engine);
    if (kind !== this.kind) {
      const engine = await this.opts.createEngine(kind, config);
      const old = this.engine;
      this.engine = engine;
      this.kind = kind;
      if (this.on) {
        // The old engine lets go of the ports first: the new one binds the same ones.
        await this.opts.worker.setEngine(undefined);
        await old?.stop();
        await this.opts.worker.setEngine(engine);
      }
      this.opts.logger.info({ event: 'lb.engine', engine: kind }, 'load-balancer engine chosen');
    }
    this.config = { ...config, engine: kind };
  }

  async start(): Promise<void> {
    if (!this.engine) await this.setConfig(this.config);
    await this.opts.worker.setEngine(this.engine);
    this.on = true;
  }

  async stop(): Promise<void> {
    this.on = false;
    await this.opts.worker.setEngine(undefined);
    await this.engine?.stop();
  }

  /** Agent shutdown: the proxy keeps serving (fail static). */
  async close(): Promise<void> {
    await this.engine?.close();
  }
}

function engineKind(value: unknown): LbEngineKind {
  if (value === undefined) return 'haproxy';
  const kind = typeof value === 'string' ? value.toLowerCase() : value;
  if (typeof kind === 'string' && (LB_ENGINES as readonly string[]).includes(kind)) return kind as LbEngineKind;
  throw new LbError('LB_REQUEST_INVALID', `pf9-lb config.engine must be one of ${LB_ENGINES.join(', ')}, got ${JSON.stringify(value)}`);
}
