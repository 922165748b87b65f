import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { desiredHash } from '../../../src/protocol/canonical-json.js';
import type { DesiredApps } from '../../../src/protocol/bbone/types.js';
import { Reconciler } from '../../../src/reconcile/reconciler.js';
import { DesiredStateStore } from '../../../src/state/desired-state-store.js';
import { ManagedAppsStore } from '../../../src/state/managed-apps-store.js';
import { FakeBackend, FakeDownloader, FakeHooks, FakeServices, FakeTopics } from './fakes.js';

const two: DesiredApps = {
  'pf9-a': { version: '1', url: 'http://r/a', running: true, config: { k: 1 } },
  'pf9-b': { version: '2', url: 'http://r/b', running: false },
};

describe('Reconciler', () => {
  let dir: string;
  let backend: FakeBackend;
  let services: FakeServices;
  let hooks: FakeHooks;
  let downloader: FakeDownloader;
  let topics: FakeTopics;
  let clock: number;
  let settled: number;

  function make(maxAttempts = 3): Reconciler {
    const r = new Reconciler({
      store: new DesiredStateStore(dir, 'H'),
      managedStore: new ManagedAppsStore(dir, 'H'),
      backend,
      services,
      hooks,
      downloader,
      topics,
      logger: createLogger({ level: 'silent' }),
      maxAttempts,
      driftCheckMs: 600_000,
      now: () => clock,
    });
    r.onSettled(() => settled++);
    return r;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pf9-rec-'));
    backend = new FakeBackend();
    services = new FakeServices();
    hooks = new FakeHooks();
    downloader = new FakeDownloader();
    topics = new FakeTopics();
    clock = 1_000_000;
    settled = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('converges to a desired set in one install transaction and reports ok', async () => {
    const r = make();
    await r.init();
    await r.setDesired(two);
    expect(r.snapshot().status).toBe('converging');
    await r.idle();
    expect(backend.calls.filter((c) => c.startsWith('install'))).toEqual(['install pf9-a_1 pf9-b_2']);
    expect(services.active).toEqual(new Set(['pf9-a']));
    expect(topics.bound).toEqual(new Set(['pf9-a', 'pf9-b']));
    const snap = r.snapshot();
    expect(snap).toMatchObject({
      status: 'ok',
      desiredHash: desiredHash(two),
      apps: { 'pf9-a': { version: '1', running: true, config: { k: 1 } }, 'pf9-b': { version: '2', running: false } },
    });
    expect(settled).toBeGreaterThanOrEqual(1);
  });

  it('never runs two converges at once; set_configs arriving meanwhile collapse, the newest wins', async () => {
    const r = make();
    await r.init();
    let open!: () => void;
    downloader.gate = new Promise((res) => (open = res));
    await r.setDesired({ 'pf9-a': { version: '1', url: 'u', running: true } });
    await r.setDesired({ 'pf9-a': { version: '2', url: 'u', running: true } });
    await r.setDesired({ 'pf9-a': { version: '3', url: 'u', running: true } });
    open();
    await r.idle();
    // Round one installed 1 (it had started); the queued round planned from the newest state only.
    expect(downloader.fetched).toEqual(['pf9-a_1', 'pf9-a_3']);
    expect(backend.pkgs.get('pf9-a')?.version).toBe('3');
    expect(r.snapshot().status).toBe('ok');
  });

  it('retries a failing app on later ticks, gives up after the cap, and leaves other apps alone', async () => {
    const r = make(3);
    await r.init();
    hooks.failSet.add('pf9-a');
    await r.setDesired(two);
    await r.idle();
    const snap = r.snapshot();
    expect(snap.status).toBe('errors');
    expect(snap.apps['pf9-a']?.error).toMatchObject({ code: 'HOOK_FAILED', message: expect.stringContaining('bad key') as unknown });
    expect(snap.apps['pf9-b']).toMatchObject({ version: '2', running: false });
    expect(snap.apps['pf9-b']?.error).toBeUndefined();
    for (let i = 0; i < 5; i++) {
      await r.tick();
      await r.idle();
    }
    // Attempts: the set_config converge plus two heartbeat retries, then no more.
    expect(r.snapshot().apps['pf9-a']?.error?.message).toMatch(/gave up after 3 attempts/);
    const tries = backend.calls.filter((c) => c.includes('install')).length;
    await r.tick();
    await r.idle();
    expect(backend.calls.filter((c) => c.includes('install')).length).toBe(tries);
    // A new set_config is a fresh start.
    hooks.failSet.clear();
    await r.setDesired({ ...two, 'pf9-a': { ...two['pf9-a']!, config: { k: 2 } } });
    await r.idle();
    expect(r.snapshot().status).toBe('ok');
  });

  it('repairs drift seen on a heartbeat: a stopped service is started again', async () => {
    const r = make();
    await r.init();
    await r.setDesired(two);
    await r.idle();
    services.active.delete('pf9-a');
    await r.tick();
    await r.idle();
    expect(services.active.has('pf9-a')).toBe(true);
    expect(services.calls.filter((c) => c === 'start pf9-a')).toHaveLength(2);
  });

  it('trusts its config cache on heartbeats and re-reads configs only every drift_check_period', async () => {
    const r = make();
    await r.init();
    await r.setDesired(two);
    await r.idle();
    const reads = hooks.getConfigCalls;
    hooks.configs.set('pf9-a', { k: 99 }); // changed behind the agent's back
    await r.tick();
    await r.idle();
    expect(hooks.getConfigCalls).toBe(reads);
    clock += 600_000;
    await r.tick();
    await r.idle();
    expect(hooks.getConfigCalls).toBeGreaterThan(reads);
    expect(hooks.configs.get('pf9-a')).toEqual({ k: 1 });
  });

  it('convergeNow reports each action done of the plan, then resolves when the converge has ended', async () => {
    const r = make();
    await r.init();
    await r.setDesired(two);
    await r.idle();
    services.active.delete('pf9-a'); // drift for convergeNow to find
    backend.pkgs.delete('pf9-b');
    const seen: Array<[number, number, string]> = [];
    const durations: number[] = [];
    r.onSettled((info) => info?.ms !== undefined && durations.push(info.ms));
    await r.convergeNow((done, total, msg) => seen.push([done, total, msg]));
    expect(seen[0]).toEqual([0, 3, 'converging: 3 actions']); // download + install pf9-b, start pf9-a
    expect(seen.at(-1)?.[0]).toBe(3);
    expect(seen.map(([, , m]) => m)).toEqual(expect.arrayContaining(['install pf9-b', 'start pf9-a']));
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThanOrEqual(seen[i - 1]![0]);
    expect(r.snapshot().status).toBe('ok');
    expect(durations.length).toBeGreaterThan(0);
  });

  it('with no desired state ever received, touches nothing', async () => {
    backend.pkgs.set('pf9-old', { name: 'pf9-old', version: '1', providesPf9app: true });
    const r = make();
    await r.init();
    await r.tick();
    await r.idle();
    expect(backend.pkgs.has('pf9-old')).toBe(true);
    expect(r.snapshot()).toMatchObject({ status: 'ok', desiredHash: null });
  });

  it('restores the apps from the saved desired state at start (no master needed)', async () => {
    const first = make();
    await first.init();
    await first.setDesired(two);
    await first.idle();
    backend.pkgs.clear();
    services.active.clear();
    const second = make();
    await second.init();
    await second.idle();
    expect([...backend.pkgs.keys()].sort()).toEqual(['pf9-a', 'pf9-b']);
    expect(second.snapshot().status).toBe('ok');
  });

  it('removes only what it manages: pf9app packages or ones it installed', async () => {
    backend.pkgs.set('bash', { name: 'bash', version: '5', providesPf9app: false });
    const r = make();
    await r.init();
    await r.setDesired(two);
    await r.idle();
    await r.setDesired({});
    await r.idle();
    expect([...backend.pkgs.keys()]).toEqual(['bash']);
    expect(topics.bound.size).toBe(0);
    expect(r.snapshot()).toMatchObject({ status: 'ok', apps: {} });
  });
});

describe('Reconciler with a built-in app', () => {
  it('takes on pf9-lb with no package: config, start, topic; stop and "remove" leave its state alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pf9-rec-b-'));
    const calls: string[] = [];
    let running = false;
    let config: Record<string, unknown> = {};
    const lb = {
      name: 'pf9-lb',
      observe: () => Promise.resolve({ running, config }),
      setConfig: (c: Record<string, unknown>) => {
        calls.push(`config ${JSON.stringify(c)}`);
        config = c;
        return Promise.resolve();
      },
      start: () => {
        calls.push('start');
        running = true;
        return Promise.resolve();
      },
      stop: () => {
        calls.push('stop');
        running = false;
        return Promise.resolve();
      },
    };
    const backend = new FakeBackend();
    const downloader = new FakeDownloader();
    const topics = new FakeTopics();
    const r = new Reconciler({
      store: new DesiredStateStore(dir, 'H'),
      managedStore: new ManagedAppsStore(dir, 'H'),
      backend,
      services: new FakeServices(),
      hooks: new FakeHooks(),
      downloader,
      topics,
      builtins: new Map([['pf9-lb', lb]]),
      logger: createLogger({ level: 'silent' }),
      maxAttempts: 3,
      driftCheckMs: 600_000,
    });
    try {
      await r.init();
      await r.setDesired({ 'pf9-lb': { version: '1.0', running: true, config: { engine: 'haproxy' } } });
      await r.idle();
      expect(calls).toEqual(['config {"engine":"haproxy"}', 'start']);
      expect(downloader.fetched).toEqual([]);
      expect(backend.calls.filter((c) => c.startsWith('install'))).toEqual([]);
      expect(topics.bound.has('pf9-lb')).toBe(true);
      expect(r.snapshot()).toMatchObject({ status: 'ok', apps: { 'pf9-lb': { version: '1.0', running: true, config: { engine: 'haproxy' } } } });

      // Re-sending the same set_config changes nothing.
      await r.setDesired({ 'pf9-lb': { version: '1.0', running: true, config: { engine: 'haproxy' } } });
      await r.idle();
      expect(calls).toHaveLength(2);

      await r.setDesired({});
      await r.idle();
      expect(calls.at(-1)).toBe('stop');
      expect(topics.bound.has('pf9-lb')).toBe(false);
      expect(r.snapshot()).toMatchObject({ status: 'ok', apps: {} });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
