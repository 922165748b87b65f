/**
 * In-memory stand-ins for the reconciler's effects, to test its logic
 * (queueing, retries, drift) without I/O. The real backends, supervisor and
 * hooks are tested against real rpm, dpkg and processes in test/integration.
 */
import type { InstalledPackage, PackageBackend } from '../../../src/packages/types.js';
import type { ServiceManager } from '../../../src/services/types.js';
import type { AppHooks } from '../../../src/reconcile/app-hooks.js';
import type { Downloader, TopicBinder } from '../../../src/reconcile/executor.js';
import { PackageError } from '../../../src/errors.js';

/** Package files are named `<app>_<version>` in these fakes. */
export class FakeBackend implements PackageBackend {
  readonly kind = 'deb' as const;
  readonly root = '/fake';
  readonly pkgs = new Map<string, InstalledPackage>();
  readonly calls: string[] = [];
  broken = new Set<string>();

  listInstalled(): Promise<Map<string, InstalledPackage>> {
    this.calls.push('list');
    return Promise.resolve(new Map([...this.pkgs].map(([k, v]) => [k, { ...v }])));
  }
  inspect(file: string): Promise<{ name: string; version: string }> {
    const [name = '', version = ''] = file.split('_');
    return Promise.resolve({ name, version });
  }
  install(files: readonly string[]): Promise<void> {
    this.calls.push(`install ${files.join(' ')}`);
    const bad = files.find((f) => this.broken.has(f.split('_')[0] ?? ''));
    if (bad) return Promise.reject(new PackageError('PACKAGE_INSTALL_FAILED', `dpkg: error processing ${bad}`));
    for (const f of files) {
      const [name = '', version = ''] = f.split('_');
      this.pkgs.set(name, { name, version, providesPf9app: true });
    }
    return Promise.resolve();
  }
  remove(names: readonly string[]): Promise<void> {
    this.calls.push(`remove ${names.join(' ')}`);
    for (const n of names) this.pkgs.delete(n);
    return Promise.resolve();
  }
  repair(): Promise<void> {
    return Promise.resolve();
  }
}

export class FakeServices implements ServiceManager {
  readonly kind = 'supervisor' as const;
  readonly active = new Set<string>();
  readonly calls: string[] = [];
  init(): Promise<void> {
    return Promise.resolve();
  }
  start(s: string): Promise<void> {
    this.calls.push(`start ${s}`);
    this.active.add(s);
    return Promise.resolve();
  }
  stop(s: string): Promise<void> {
    this.calls.push(`stop ${s}`);
    this.active.delete(s);
    return Promise.resolve();
  }
  restart(s: string): Promise<void> {
    this.calls.push(`restart ${s}`);
    this.active.add(s);
    return Promise.resolve();
  }
  activeStates(names: readonly string[]): Promise<Map<string, boolean>> {
    return Promise.resolve(new Map(names.map((n) => [n, this.active.has(n)])));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class FakeHooks implements AppHooks {
  readonly configs = new Map<string, Record<string, unknown>>();
  getConfigCalls = 0;
  failSet = new Set<string>();
  getConfig(app: string): Promise<Record<string, unknown> | undefined> {
    this.getConfigCalls++;
    return Promise.resolve(this.configs.get(app) ?? {});
  }
  setConfig(app: string, config: Record<string, unknown>): Promise<void> {
    if (this.failSet.has(app)) return Promise.reject(new PackageError('HOOK_FAILED', `${app}: config --set-config exited with 3: bad key`));
    this.configs.set(app, { ...config });
    return Promise.resolve();
  }
  getServices(app: string): Promise<string[]> {
    return Promise.resolve([app]);
  }
}

export class FakeDownloader implements Downloader {
  readonly fetched: string[] = [];
  gate: Promise<void> | undefined;
  fetch(req: { app: string; version: string; url: string }): Promise<string> {
    this.fetched.push(`${req.app}_${req.version}`);
    const file = `${req.app}_${req.version}`;
    return this.gate ? this.gate.then(() => file) : Promise.resolve(file);
  }
}

export class FakeTopics implements TopicBinder {
  readonly bound = new Set<string>();
  bindTopic(app: string): Promise<void> {
    this.bound.add(app);
    return Promise.resolve();
  }
  unbindTopic(app: string): Promise<void> {
    this.bound.delete(app);
    return Promise.resolve();
  }
}
