/**
 * A cheap look at the host: one package-database query, one batched
 * service-state query, and configs from the cache of what was last set.
 * Hooks run only for what the cache does not know (first sight of an app,
 * or a full drift check, when every config is re-read).
 */
import { toAgentError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PackageBackend } from '../packages/types.js';
import type { ServiceManager } from '../services/types.js';
import type { AppHooks } from './app-hooks.js';
import type { BuiltinApp } from './builtin-app.js';
import type { ObservedApp } from './types.js';

const HOOK_CONCURRENCY = 8;

/** Runs `fn` over `items`, at most `limit` at once. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface ObserveDeps {
  backend: PackageBackend;
  services: ServiceManager;
  hooks: AppHooks;
  logger: Logger;
  builtins?: ReadonlyMap<string, BuiltinApp>;
}

export interface ObserveCaches {
  /** app -> config as last set or read. */
  configs: Map<string, Record<string, unknown> | undefined>;
  /** `app@version` -> service names (a package's services change only with its version). */
  services: Map<string, string[]>;
}

export async function observeHost(
  deps: ObserveDeps,
  caches: ObserveCaches,
  opts: { managed: ReadonlySet<string>; desired: ReadonlyMap<string, string>; fullConfigRead: boolean },
): Promise<Map<string, ObservedApp>> {
  const installed = await deps.backend.listInstalled();
  const builtins = deps.builtins ?? new Map<string, BuiltinApp>();
  const apps = [...installed.values()].filter(
    (p) => !builtins.has(p.name) && (p.providesPf9app || opts.managed.has(p.name) || opts.desired.has(p.name)),
  );

  // Hooks are processes: the services and config questions of every app go
  // into one pool, a few at a time, rather than one after another.
  const servicesOf = new Map<string, string[]>();
  const tasks: Array<() => Promise<void>> = [];
  for (const p of apps) {
    const key = `${p.name}@${p.version}`;
    const known = caches.services.get(key);
    if (known) servicesOf.set(p.name, known);
    else {
      tasks.push(async () => {
        const names = await deps.hooks.getServices(p.name).catch((err: unknown) => {
          deps.logger.warn({ event: 'observe.services_unknown', app: p.name, error: toAgentError(err).message }, 'using the app name as its service');
          return [p.name];
        });
        caches.services.set(key, names);
        servicesOf.set(p.name, names);
      });
    }
    if (opts.fullConfigRead || !caches.configs.has(p.name)) {
      tasks.push(async () => {
        const config = await deps.hooks.getConfig(p.name).catch((err: unknown) => {
          deps.logger.warn({ event: 'observe.config_unreadable', app: p.name, error: toAgentError(err).message }, 'config hook failed');
          return undefined;
        });
        caches.configs.set(p.name, config);
      });
    }
  }
  await eachLimited(tasks, HOOK_CONCURRENCY, (task) => task());
  const states = await deps.services.activeStates([...new Set([...servicesOf.values()].flat())]);

  const observed = new Map<string, ObservedApp>();
  for (const p of apps) {
    const names = servicesOf.get(p.name) ?? [p.name];
    observed.set(p.name, {
      name: p.name,
      version: p.version,
      managed: p.providesPf9app || opts.managed.has(p.name),
      running: names.length > 0 && names.every((s) => states.get(s) === true),
      config: caches.configs.get(p.name),
    });
  }
  // A built-in app is "installed" once the agent took it on (it is in the managed set); its version
  // is whatever the master asked for, since the agent carries the only one there is.
  for (const [name, app] of builtins) {
    if (!opts.managed.has(name)) continue;
    const seen = await app.observe().catch((err: unknown) => {
      deps.logger.warn({ event: 'observe.builtin_failed', app: name, error: toAgentError(err).message }, 'built-in app unreadable');
      return { running: false, config: undefined };
    });
    observed.set(name, { name, version: opts.desired.get(name) ?? 'builtin', managed: true, running: seen.running, config: seen.config });
  }
  return observed;
}
