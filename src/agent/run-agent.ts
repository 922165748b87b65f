/**
 * The composition root: config in, a running agent out. The only place
 * that knows every part; everything below gets its dependencies passed in.
 */
import type { FrozenConfig } from '../config/types.js';
import { maskUrl } from '../config/mask.js';
import { createLogger, type Logger } from '../logger.js';
import { AmqpBus, type ConnectFn, type DelayFn } from '../bus/amqp-bus.js';
import { createHostIdentity } from '../host/index.js';
import { DesiredStateStore } from '../state/desired-state-store.js';
import { AGENT_VERSION } from '../version.js';
import { Agent } from './agent.js';
import { LibraWorker } from '../lb/libra-worker.js';
import { LbApp } from '../lb/lb-app.js';
import { LbStateStore } from '../state/lb-state-store.js';
import { ManagedAppsStore } from '../state/managed-apps-store.js';
import { Reconciler } from '../reconcile/reconciler.js';
import { ExecAppHooks } from '../reconcile/app-hooks.js';
import { PackageDownloader, selectBackend } from '../packages/index.js';
import { selectServiceManager } from '../services/index.js';
import { join } from 'node:path';
import { SystemdNotifier } from './sd-notify.js';
import { pino, type DestinationStream } from 'pino';
import { ControlServer, LogTee, createAgentControlHandlers } from '../control/index.js';
import { NO_METRICS, startMetrics, type AgentMetrics } from '../metrics/metrics.js';
import { meterPublishes, watchBus, watchConverges } from '../metrics/wire-metrics.js';

export interface RunningAgent {
  agent: Agent;
  bus: AmqpBus;
  hostId: string;
  queue: string;
  logger: Logger;
  stop(): Promise<void>;
}

export interface StartAgentOptions {
  config: FrozenConfig;
  env?: NodeJS.ProcessEnv;
  warnings?: readonly string[];
  logDestination?: DestinationStream;
  /** Test seams: the broker connector and the reconnect delay. */
  connect?: ConnectFn;
  delay?: DelayFn;
}

export async function startAgent(opts: StartAgentOptions): Promise<RunningAgent> {
  const { config } = opts;
  const env = opts.env ?? process.env;
  const identity = createHostIdentity({ override: config.hostagent.host_id });
  const hostId = await identity.hostId();
  const info = await identity.info();
  // The tee copies every log line to control-socket clients that subscribed (`ctl log`).
  const logTee = new LogTee(opts.logDestination ?? pino.destination({ fd: 1, sync: true }));
  const logger = createLogger({ level: config.log.level, base: { host_id: hostId }, destination: logTee });
  for (const warning of opts.warnings ?? []) logger.warn({ event: 'config.warning' }, warning);

  const queue = config.amqp.queue_name || `bbslave-q-${hostId}`;
  const bus = new AmqpBus({
    url: config.amqp.url,
    tls: config.amqp.tls,
    topology: {
      exchange: config.amqp.exchange,
      queue,
      durable: config.amqp.durable,
      queueType: config.amqp.queue_type,
      bindings: ['slaves', hostId],
    },
    connectTimeoutMs: config.amqp.connect_timeout * 1000,
    heartbeatSeconds: config.amqp.heartbeat,
    prefetch: config.amqp.prefetch,
    backoff: {
      baseMs: config.hostagent.connection_retry_period * 1000,
      maxMs: config.hostagent.connection_retry_max * 1000,
      factor: 2,
      jitter: 0.2,
    },
    clientName: `pf9-hostagent ${hostId}`,
    logger: logger.child({ component: 'bus' }),
    ...(opts.connect ? { connect: opts.connect } : {}),
    ...(opts.delay ? { delay: opts.delay } : {}),
  });

  let metrics: AgentMetrics = NO_METRICS;
  if (config.metrics.listen) {
    // A failing side feature is logged, not fatal: the host's apps matter more.
    metrics = await startMetrics({ listen: config.metrics.listen, logger: logger.child({ component: 'metrics' }) }).catch((err: unknown) => {
      logger.error({ event: 'metrics.failed', error: (err as Error).message }, 'metrics endpoint not started');
      return NO_METRICS;
    });
  }
  const unwatchBus = watchBus(bus, metrics);

  const store = new DesiredStateStore(config.hostagent.state_dir, hostId);
  const root = config.packages.root;
  const lbLogger = logger.child({ component: 'lb' });
  const worker = new LibraWorker({
    engine: undefined,
    store: new LbStateStore(config.hostagent.state_dir, hostId),
    logger: lbLogger,
    agentVersion: AGENT_VERSION,
  });
  const lbApp = new LbApp({
    worker,
    logger: lbLogger,
    createEngine: async (kind) => {
      if (kind === 'sozu') {
        const { SozuEngine } = await import('../lb/sozu/sozu-engine.js');
        return new SozuEngine({ socketPath: config.lb.sozu.socket, bindAddress: config.lb.bind_address, logger: lbLogger });
      }
      const { HaproxyEngine } = await import('../lb/haproxy/haproxy-engine.js');
      return new HaproxyEngine({
        runDir: config.lb.run_dir || join(config.hostagent.state_dir, hostId, 'lb'),
        bindAddress: config.lb.bind_address,
        logger: lbLogger,
      });
    },
  });
  const backend = selectBackend({ backend: config.packages.backend, root, logger: logger.child({ component: 'packages' }) });
  const apps = new Reconciler({
    store,
    managedStore: new ManagedAppsStore(config.hostagent.state_dir, hostId),
    backend,
    downloader: new PackageDownloader({
      cacheDir: config.packages.cache_dir,
      allowedUrlPrefixes: [...config.packages.allowed_url_prefixes],
      requireChecksum: config.packages.require_checksum,
      backendKind: backend.kind,
      timeoutMs: config.packages.download_timeout * 1000,
      logger: logger.child({ component: 'download' }),
      onProgress: (bytes, total, req) => apps.reportDownload(req.app, bytes, total),
    }),
    hooks: new ExecAppHooks({ root, timeoutMs: config.hostagent.hook_timeout * 1000 }),
    services: selectServiceManager({
      driver: config.services.driver,
      root,
      stateDir: join(config.hostagent.state_dir, hostId),
      logger: logger.child({ component: 'services' }),
    }),
    topics: bus,
    builtins: new Map([[lbApp.name, lbApp]]),
    logger: logger.child({ component: 'reconcile' }),
    maxAttempts: config.hostagent.max_converge_attempts,
    driftCheckMs: config.hostagent.drift_check_period * 1000,
  });
  watchConverges(apps, metrics);
  const agent = new Agent({
    hostId,
    info,
    version: AGENT_VERSION,
    heartbeatPeriodSec: config.hostagent.heartbeat_period,
    bus: meterPublishes(bus, metrics),
    apps,
    libra: worker,
    logger,
    countMessage: (opcode) => metrics.messageReceived(opcode),
  });

  const notifier = SystemdNotifier.fromEnv(env, logger);
  bus.on('connected', () => void notifier?.status(`connected to ${maskUrl(config.amqp.url)}`));
  bus.on('disconnected', (reason) => void notifier?.status(`broker unreachable: ${reason}`));

  logger.info(
    { event: 'agent.starting', version: AGENT_VERSION, queue, url: maskUrl(config.amqp.url), state: store.path },
    'starting',
  );
  await worker.init().catch(() => undefined); // logged by the worker; requests retry it
  await agent.start();
  const control = config.control.socket
    ? new ControlServer({
        socketPath: config.control.socket,
        logger: logger.child({ component: 'control' }),
        handlers: createAgentControlHandlers({
          version: AGENT_VERSION,
          hostId,
          isConnected: () => bus.isConnected(),
          snapshot: () => apps.snapshot(),
          loadDesired: () => store.load(),
          tick: () => apps.tick(),
          idle: () => apps.idle(),
          onSettled: (listener) => apps.onSettled(listener),
          convergeNow: (progress) => apps.convergeNow(progress),
          subscribeLogs: (listener) => logTee.subscribe(listener),
        }),
      })
    : undefined;
  await control?.start().catch((err: unknown) => {
    logger.error({ event: 'control.failed', error: (err as Error).message }, 'control socket not started');
  });
  logger.info({ event: 'agent.started', backend: backend.kind, root, services: config.services.driver }, 'started');
  if (store.lastLoadError) {
    logger.error({ event: 'state.corrupt', code: store.lastLoadError.code, error: store.lastLoadError.message }, 'desired state file was corrupt');
  }
  // Ready means: config valid, state loaded, connecting. A broker that is down is waited for, not a failed start.
  await notifier?.ready('started; connecting to broker');

  let stopping: Promise<void> | undefined;
  return {
    agent,
    bus,
    hostId,
    queue,
    logger,
    stop(): Promise<void> {
      stopping ??= (async () => {
        logger.info({ event: 'agent.stopping' }, 'stopping');
        await notifier?.stopping();
        await control?.close();
        await agent.stop();
        await lbApp.close();
        unwatchBus();
        await metrics.close();
        logger.info({ event: 'agent.stopped' }, 'stopped');
        logger.flush();
      })();
      return stopping;
    },
  };
}
