// `npm run bench`: the agent measured against a baseline run on the same
// machine in the same run, so the ratios mean something on a noisy box.
//   1. ping -> status round trip: agent vs a bare amqplib echo consumer.
//   2. idle private memory of the agent vs a bare Node process.
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { anonymousKb, connectClient, mb, measure } from './lib.js';

const ROOT = resolve(import.meta.dirname, '..');
const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 1000);
const exchange = `bench-${randomBytes(4).toString('hex')}`;
const hostId = [...randomBytes(6)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
const echoQueue = `bench-echo-${randomBytes(4).toString('hex')}`;
const stateDir = mkdtempSync(join(tmpdir(), 'pf9-bench-'));

function startAgent() {
  // Executed as a program, so its shebang's V8 flags apply as they do in production.
  const child = spawn(
    join(ROOT, 'bin/pf9-hostagent.js'),
    [
      '--config', join(stateDir, 'none.conf'),
      '--set', `amqp.url=${URL}`,
      '--set', `amqp.exchange=${exchange}`,
      '--set', `hostagent.host_id=${hostId}`,
      '--set', `hostagent.state_dir=${stateDir}`,
      // The bench sends no set_config, but an agent here never looks after the machine's own packages.
      '--set', `packages.root=${join(stateDir, 'root')}`,
      '--set', 'services.driver=supervisor',
      '--set', `control.socket=${join(stateDir, 'ctl.sock')}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` } },
  );
  return new Promise((resolveStart, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk.toString();
      if (buffered.includes('"event":"bus.connected"')) {
        child.stdout.removeAllListeners('data');
        child.stdout.resume(); // keep draining logs, as journald would
        resolveStart(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`agent exited with ${code} before connecting:\n${buffered}`)));
  });
}

function startEcho() {
  // Same runtime flags as the agent's shebang, so the ratio is the agent's own code, not V8 settings.
  const child = fork(join(ROOT, 'bench/echo-consumer.js'), [URL, exchange, echoQueue], { stdio: 'inherit', execArgv: agentNodeFlags() });
  return new Promise((resolveStart, reject) => {
    child.once('message', () => resolveStart(child));
    child.once('exit', (code) => reject(new Error(`echo consumer exited with ${code}`)));
  });
}

/** The V8 flags of bin/pf9-hostagent.js's shebang line. */
function agentNodeFlags() {
  const shebang = readFileSync(join(ROOT, 'bin/pf9-hostagent.js'), 'utf8').split('\n')[0];
  return shebang.split(/\s+/).filter((w) => w.startsWith('--'));
}

function startBareNode() {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

const stop = (child) =>
  new Promise((r) => {
    child.once('exit', r);
    child.kill('SIGTERM');
  });

const row = (name, r) => `  ${name.padEnd(26)} p50 ${r.p50.toFixed(3).padStart(8)} ms   p99 ${r.p99.toFixed(3).padStart(8)} ms   (n=${r.n})`;

async function main() {
  // Benchmark's own file: an empty config so the host's /etc/pf9/hostagent.conf is not read.
  writeFileSync(join(stateDir, 'none.conf'), '');
  const [agent, echo] = await Promise.all([startAgent(), startEcho()]);
  const bare = startBareNode();
  const client = await connectClient(URL, exchange);
  try {
    await sleep(2000); // let both settle (JIT, GC) before measuring memory at rest
    const agentIdleKb = anonymousKb(agent.pid);
    const echoIdleKb = anonymousKb(echo.pid);
    const bareKb = anonymousKb(bare.pid);

    // Interleave the two runs in halves so a burst of machine noise hits both alike.
    const half = Math.floor(ROUND_TRIPS / 2);
    const e1 = await measure(client, echoQueue, half);
    const a1 = await measure(client, hostId, half);
    const e2 = await measure(client, echoQueue, ROUND_TRIPS - half, 10);
    const a2 = await measure(client, hostId, ROUND_TRIPS - half, 10);
    const merge = (x, y) => ({ p50: (x.p50 + y.p50) / 2, p99: Math.max(x.p99, y.p99), n: x.n + y.n });
    const base = merge(e1, e2);
    const ours = merge(a1, a2);
    await sleep(1000);
    const agentAfterKb = anonymousKb(agent.pid);
    console.log(`\nping -> status round trip (${ROUND_TRIPS} each, loopback broker)`);
    console.log(row('bare amqplib echo (base)', base));
    console.log(row('pf9-hostagent', ours));
    console.log(`  ratio p50 ${(ours.p50 / base.p50).toFixed(2)}   ratio p99 ${(ours.p99 / base.p99).toFixed(2)}   (target p50 ratio <= 1.2)`);

    const mem = (label, kb, note = '') =>
      console.log(`  ${label.padEnd(32)} ${mb(kb).padStart(6)} MB   ratio ${(kb / bareKb).toFixed(2)}${note}`);
    console.log('\nidle private memory (Anonymous in /proc/<pid>/smaps_rollup), ratio to bare node');
    mem('bare node (base)', bareKb);
    mem('bare amqplib echo (same flags)', echoIdleKb);
    mem('pf9-hostagent after start', agentIdleKb);
    mem(`pf9-hostagent after ${ROUND_TRIPS} pings`, agentAfterKb, '   (target <= 26 MB)');
  } finally {
    await client.cleanup([echoQueue, `bbslave-q-${hostId}`]);
    await Promise.all([stop(agent), stop(echo), stop(bare)]);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
