/**
 * Applies a plan. Kinds run in ACTION_ORDER; within a kind, package work is
 * one transaction for all apps (one `dpkg -i`/`rpm -U` for every install and
 * upgrade, one remove), falling back to one call per app only when the batch
 * fails, to say which app broke it. An app that fails an action skips its
 * later ones; other apps go on. The result is per app, for status messages.
 */
import { AgentError, PackageError, toAgentError } from '../errors.js';
import type { Logger } from '../logger.js';
import { inspectCached } from '../packages/inspect-cache.js';
import type { PackageBackend } from '../packages/types.js';
import type { ServiceManager } from '../services/types.js';
import type { AppHooks } from './app-hooks.js';
import type { BuiltinApp } from './builtin-app.js';
import type { Action } from './types.js';

export interface TopicBinder {
  bindTopic(app: string): Promise<void>;
  unbindTopic(app: string): Promise<void>;
}

export interface Downloader {
  fetch(req: { app: string; version: string; url: string; sha256?: string }): Promise<string>;
}

export interface ExecutorDeps {
  backend: PackageBackend;
  downloader: Downloader;
  hooks: AppHooks;
  services: ServiceManager;
  topics: TopicBinder;
  logger: Logger;
  /** Apps carried by the agent itself: no package; driven through BuiltinApp. */
  builtins?: ReadonlyMap<string, BuiltinApp>;
  /** Called after each action, for progress reporting. */
  onAction?: (action: Action, error: AgentError | undefined) => void;
}

export interface ExecutionResult {
  failed: Map<string, AgentError>;
  installed: string[];
  removed: string[];
  /** Configs applied successfully, for the config cache. */
  configs: Map<string, Record<string, unknown>>;
}

const DOWNLOAD_CONCURRENCY = 4;

export async function executeActions(actions: readonly Action[], deps: ExecutorDeps): Promise<ExecutionResult> {
  const builtins = deps.builtins ?? new Map<string, BuiltinApp>();
  const builtinActions = actions.filter((a) => builtins.has(a.app));
  const packageActions = actions.filter((a) => !builtins.has(a.app));
  const result = await executePackageActions(packageActions, deps);
  await executeBuiltinActions(builtinActions, builtins, deps, result);
  return result;
}

/**
 * A built-in app has nothing to download, install or remove: "installing"
 * it is recording that it is wanted (the reconciler keeps it in the managed
 * set), "removing" it stops it. Its load balancers are not the reconciler's
 * to delete: they belong to Libra requests and outlive the app being off.
 */
async function executeBuiltinActions(
  actions: readonly Action[],
  builtins: ReadonlyMap<string, BuiltinApp>,
  deps: ExecutorDeps,
  result: ExecutionResult,
): Promise<void> {
  for (const a of actions) {
    if (result.failed.has(a.app)) continue;
    const app = builtins.get(a.app);
    if (!app) continue;
    try {
      switch (a.kind) {
        case 'install':
        case 'upgrade':
          result.installed.push(a.app);
          break;
        case 'remove':
          result.removed.push(a.app);
          break;
        case 'stop':
          await app.stop();
          break;
        case 'set_config':
          await app.setConfig(a.config);
          result.configs.set(a.app, a.config);
          break;
        case 'start':
        case 'restart':
          await app.start();
          break;
        case 'bind_topic':
          await deps.topics.bindTopic(a.app);
          break;
        case 'unbind_topic':
          await deps.topics.unbindTopic(a.app);
          break;
        case 'download':
          break;
      }
      deps.onAction?.(a, undefined);
    } catch (err) {
      const error = toAgentError(err);
      result.failed.set(a.app, error);
      deps.logger.warn({ event: 'converge.action_failed', app: a.app, action: a.kind, code: error.code, error: error.message }, 'action failed');
      deps.onAction?.(a, error);
    }
  }
}

async function executePackageActions(actions: readonly Action[], deps: ExecutorDeps): Promise<ExecutionResult> {
  const result: ExecutionResult = { failed: new Map(), installed: [], removed: [], configs: new Map() };
  const files = new Map<string, string>();
  const live = (a: Action): boolean => !result.failed.has(a.app);
  const fail = (a: Action, err: unknown): void => {
    const error = toAgentError(err);
    result.failed.set(a.app, error);
    deps.logger.warn({ event: 'converge.action_failed', app: a.app, action: a.kind, code: error.code, error: error.message }, 'action failed');
  };
  const done = (a: Action, err?: unknown): void => {
    if (err !== undefined) fail(a, err);
    deps.onAction?.(a, err === undefined ? undefined : toAgentError(err));
  };
  const each = async (kind: Action['kind'], fn: (a: Action) => Promise<void>): Promise<void> => {
    for (const a of actions.filter((x) => x.kind === kind && live(x))) {
      try {
        await fn(a);
        done(a);
      } catch (err) {
        done(a, err);
      }
    }
  };

  await each('stop', async (a) => {
    for (const s of await deps.hooks.getServices(a.app)) await deps.services.stop(s);
  });
  await each('unbind_topic', (a) => deps.topics.unbindTopic(a.app));

  const removals = actions.filter((a) => a.kind === 'remove' && live(a));
  await batch(removals, (names) => deps.backend.remove(names), done);
  result.removed.push(...removals.filter(live).map((a) => a.app));

  await download(actions.filter((a) => a.kind === 'download' && live(a)), deps, files, done);

  const packageWork = actions.filter((a) => (a.kind === 'install' || a.kind === 'upgrade') && live(a));
  // The backend repairs what an interrupted transaction left (dpkg --configure -a) before installing, when needed.
  await batch(packageWork, (names) => deps.backend.install(names.map((n) => files.get(n) ?? n)), done);
  result.installed.push(...packageWork.filter(live).map((a) => a.app));

  await each('set_config', async (a) => {
    if (a.kind !== 'set_config') return;
    await deps.hooks.setConfig(a.app, a.config);
    result.configs.set(a.app, a.config);
  });
  await each('start', async (a) => {
    for (const s of await deps.hooks.getServices(a.app)) await deps.services.start(s);
  });
  await each('restart', async (a) => {
    for (const s of await deps.hooks.getServices(a.app)) await deps.services.restart(s);
  });
  await each('bind_topic', (a) => deps.topics.bindTopic(a.app));
  return result;
}

/** One call for all apps; if it fails and there was more than one, one call each to find the culprits. */
async function batch(
  work: Action[],
  call: (apps: string[]) => Promise<void>,
  done: (a: Action, err?: unknown) => void,
): Promise<void> {
  if (work.length === 0) return;
  try {
    await call(work.map((a) => a.app));
    for (const a of work) done(a);
    return;
  } catch (err) {
    if (work.length === 1 && work[0]) return done(work[0], err);
  }
  for (const a of work) {
    try {
      await call([a.app]);
      done(a);
    } catch (err) {
      done(a, err);
    }
  }
}

async function download(
  work: Action[],
  deps: ExecutorDeps,
  files: Map<string, string>,
  done: (a: Action, err?: unknown) => void,
): Promise<void> {
  const queue = [...work];
  const worker = async (): Promise<void> => {
    for (let a = queue.shift(); a; a = queue.shift()) {
      if (a.kind !== 'download') continue;
      try {
        if (!a.url) throw new PackageError('PACKAGE_DOWNLOAD_FAILED', `${a.app} ${a.version} is not installed and its desired entry has no url`);
        const file = await deps.downloader.fetch({ app: a.app, version: a.version, url: a.url, ...(a.sha256 ? { sha256: a.sha256 } : {}) });
        const inside = await inspectCached(deps.backend, file);
        if (inside.name !== a.app || inside.version !== a.version) {
          throw new PackageError(
            'PACKAGE_MISMATCH',
            `${a.url} holds ${inside.name} ${inside.version}, not ${a.app} ${a.version}`,
          );
        }
        files.set(a.app, file);
        done(a);
      } catch (err) {
        done(a, err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, work.length) }, worker));
}
