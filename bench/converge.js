// Converge benchmarks (issue 4), each against a baseline measured in the
// same run on the same install root:
//   (a) a heartbeat look at a host where nothing changed, 100 apps installed,
//       vs one `dpkg-query -W` on that root;
//   (b) set_config received -> status ok for 20 new apps whose packages are
//       already in the cache, vs one `dpkg -i` of the same 20 files into a
//       fresh root.
// The reconciler is the agent's own (dist/), with the real dpkg backend,
// supervisor, hooks and downloader; only the bus is replaced by a recorder,
// since the round trip through RabbitMQ is measured by bench/run.js.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { percentile } from './lib.js';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const { buildAppPackage, packageVersion, startPackageServer } = await import(join(ROOT, 'test/fixtures/packages/package-builder.ts'));
const { DebBackend, PackageDownloader } = await import(join(ROOT, 'dist/packages/index.js'));
const { Supervisor } = await import(join(ROOT, 'dist/services/index.js'));
const { ExecAppHooks } = await import(join(ROOT, 'dist/reconcile/app-hooks.js'));
const { Reconciler } = await import(join(ROOT, 'dist/reconcile/reconciler.js'));
const { DesiredStateStore } = await import(join(ROOT, 'dist/state/desired-state-store.js'));
const { ManagedAppsStore } = await import(join(ROOT, 'dist/state/managed-apps-store.js'));
const { createLogger } = await import(join(ROOT, 'dist/logger.js'));

const work = mkdtempSync(join(tmpdir(), 'pf9-bench-converge-'));
const logger = createLogger({ level: 'silent' });
const topics = { bindTopic: async () => {}, unbindTopic: async () => {} };

const spent = new Map();
function timed(obj, label) {
  if (!process.env.BENCH_BREAKDOWN) return obj;
  return new Proxy(obj, {
    get(target, prop) {
      const v = target[prop];
      if (typeof v !== 'function') return v;
      return async (...args) => {
        const t = process.hrtime.bigint();
        try { return await v.apply(target, args); } finally {
          const k = `${label}.${String(prop)}`;
          spent.set(k, (spent.get(k) ?? 0) + Number(process.hrtime.bigint() - t) / 1e6);
        }
      };
    },
  });
}

function reconcilerFor(root, name, server) {
  const backend = timed(new DebBackend({ root, logger }), 'backend');
  const state = join(work, `state-${name}`);
  return new Reconciler({
    store: new DesiredStateStore(state, 'H'),
    managedStore: new ManagedAppsStore(state, 'H'),
    backend,
    downloader: new PackageDownloader({ cacheDir: join(work, 'cache'), allowedUrlPrefixes: [server.url], requireChecksum: false, backendKind: 'deb', timeoutMs: 60_000, logger }),
    hooks: timed(new ExecAppHooks({ root, timeoutMs: 60_000 }), 'hooks'),
    services: timed(new Supervisor({ root, stateDir: state, logger }), 'services'),
    topics,
    logger,
    maxAttempts: 30,
    driftCheckMs: 600_000,
  });
}

async function timeMedian(n, fn) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p90: percentile(samples, 90) };
}

async function buildRepo(count, prefix) {
  const repo = join(work, `repo-${prefix}`);
  const files = [];
  for (let i = 0; i < count; i++) files.push(await buildAppPackage({ format: 'deb', name: `${prefix}${String(i).padStart(3, '0')}`, version: '1.0', outDir: repo }));
  return { repo, files };
}

const desiredFor = (files, server) =>
  Object.fromEntries(files.map((f) => {
    const name = f.split('/').pop().split('_')[0];
    return [name, { version: packageVersion({ version: '1.0' }), url: `${server.url}/${f.split('/').pop()}`, running: false }];
  }));

try {
  // (a) heartbeat with 100 apps installed and nothing to do.
  const a = await buildRepo(100, 'pf9-hb');
  const serverA = await startPackageServer(a.repo);
  const rootA = join(work, 'root-a');
  const recA = reconcilerFor(rootA, 'a', serverA);
  await recA.init();
  await recA.setDesired(desiredFor(a.files, serverA));
  await recA.idle();
  if (recA.snapshot().status !== 'ok') throw new Error(`setup converge failed: ${JSON.stringify(recA.snapshot()).slice(0, 500)}`);
  const admin = join(rootA, 'var/lib/dpkg');
  // The same query the backend makes (it needs Provides and the status too), run the cheapest way Node can.
  const query = () => run('dpkg-query', [`--admindir=${admin}`, '-W', '-f', '${Package}\t${Version}\t${Provides}\t${db:Status-Abbrev}\n']);
  for (let i = 0; i < 5; i++) { await query(); await recA.tick(); } // warm
  // Interleaved, one of each in turn, so a burst of machine noise hits both alike.
  const baseSamples = [];
  const ourSamples = [];
  for (let i = 0; i < 100; i++) {
    baseSamples.push((await timeMedian(1, query)).p50);
    ourSamples.push((await timeMedian(1, async () => { await recA.tick(); await recA.idle(); })).p50);
  }
  const summary = (xs) => { xs.sort((x, y) => x - y); return { p50: percentile(xs, 50), p90: percentile(xs, 90) }; };
  const baseA = summary(baseSamples);
  const oursA = summary(ourSamples);
  if (process.env.BENCH_BREAKDOWN) {
    const backend = new DebBackend({ root: rootA, logger });
    const sup = new Supervisor({ root: rootA, stateDir: join(work, 'state-a'), logger });
    const names = Object.keys(desiredFor(a.files, serverA));
    console.log('listInstalled', (await timeMedian(50, () => backend.listInstalled())).p50.toFixed(2));
    console.log('activeStates', (await timeMedian(50, () => sup.activeStates(names))).p50.toFixed(2));
    const { observeHost } = await import(join(ROOT, 'dist/reconcile/observe.js'));
    const hooks = new ExecAppHooks({ root: rootA, timeoutMs: 60_000 });
    const caches = { configs: new Map(), services: new Map() };
    const opts = { managed: new Set(), desired: new Map(names.map((n) => [n, '1.0-1'])), fullConfigRead: false };
    await observeHost({ backend, services: sup, hooks, logger }, caches, { ...opts, fullConfigRead: true });
    console.log('observeHost', (await timeMedian(50, () => observeHost({ backend, services: sup, hooks, logger }, caches, opts))).p50.toFixed(2));
    console.log('tick only', (await timeMedian(50, () => recA.tick())).p50.toFixed(2));
    console.log('idle only', (await timeMedian(50, () => recA.idle())).p50.toFixed(2));
  }
  console.log('\nheartbeat look, 100 apps installed, nothing changed (100 each, interleaved)');
  console.log(`  one dpkg-query -W (base)   p50 ${baseA.p50.toFixed(2).padStart(7)} ms   p90 ${baseA.p90.toFixed(2).padStart(7)} ms`);
  console.log(`  reconciler tick            p50 ${oursA.p50.toFixed(2).padStart(7)} ms   p90 ${oursA.p90.toFixed(2).padStart(7)} ms`);
  console.log(`  ratio p50 ${(oursA.p50 / baseA.p50).toFixed(2)}   (target <= 1.5)`);
  await recA.close();
  await serverA.close();

  // (b) 20 new apps, packages already in the cache.
  const b = await buildRepo(20, 'pf9-new');
  const serverB = await startPackageServer(b.repo);
  const desiredB = desiredFor(b.files, serverB);
  const rounds = 5;
  const base = [];
  const ours = [];
  for (let r = 0; r < rounds; r++) {
    const freshRoot = join(work, `root-dpkg-${r}`);
    const probe = new DebBackend({ root: freshRoot, logger });
    await probe.listInstalled(); // creates the admin dir skeleton, outside the timing
    const t0 = process.hrtime.bigint();
    await run('dpkg', [`--root=${freshRoot}`, `--admindir=${join(freshRoot, 'var/lib/dpkg')}`, '-i', ...b.files]);
    base.push(Number(process.hrtime.bigint() - t0) / 1e6);

    const rootB = join(work, `root-b-${r}`);
    const rec = reconcilerFor(rootB, `b-${r}`, serverB);
    await rec.init();
    if (r === 0) {
      // Fill the cache the way the agent does: a first converge downloads (not timed).
      const warm = reconcilerFor(join(work, 'root-warm'), 'warm', serverB);
      await warm.init();
      await warm.setDesired(desiredB);
      await warm.idle();
    }
    await new DebBackend({ root: rootB, logger }).listInstalled();
    spent.clear();
    const t1 = process.hrtime.bigint();
    await rec.setDesired(desiredB);
    await rec.idle();
    ours.push(Number(process.hrtime.bigint() - t1) / 1e6);
    if (process.env.BENCH_BREAKDOWN) console.log(`round ${r}: ${ours.at(-1).toFixed(0)} ms`, Object.fromEntries([...spent].map(([k, v]) => [k, Math.round(v)])));
    if (rec.snapshot().status !== 'ok') throw new Error(`converge failed: ${JSON.stringify(rec.snapshot()).slice(0, 500)}`);
    await rec.close();
  }
  base.sort((x, y) => x - y);
  ours.sort((x, y) => x - y);
  const mb = base[Math.floor(rounds / 2)];
  const mo = ours[Math.floor(rounds / 2)];
  console.log(`\nset_config -> ok, 20 new apps from the cache (median of ${rounds})`);
  console.log(`  one dpkg -i of the 20 files (base) ${mb.toFixed(0).padStart(6)} ms`);
  console.log(`  reconciler converge               ${mo.toFixed(0).padStart(6)} ms`);
  console.log(`  ratio ${(mo / mb).toFixed(2)}   (target <= 1.25)`);
  await serverB.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
