// Load-balancer changes under load (issue 5): a real HAProxy on 127.0.0.1
// in front of 8 small backends (own process), wrk keeping 8 keep-alive
// connections busy, while the agent's HaproxyEngine applies
//   A. 100 weight and drain changes (runtime API, no reload),
//   B. 100 node additions and removals,
//   C. 20 full-config changes (validated reload).
// For each kind: requests served, failed requests (socket errors and
// non-2xx; target 0), and the time from apply() to applied, p50/p90
// (target for A: p50 < 10 ms), with the ratio of A to C.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './lib.js';

const ROOT = new URL('..', import.meta.url).pathname;
const { HaproxyEngine } = await import(join(ROOT, 'dist/lb/haproxy/haproxy-engine.js'));
const { parseLoadBalancers } = await import(join(ROOT, 'dist/protocol/libra/index.js'));
const { createLogger } = await import(join(ROOT, 'dist/logger.js'));

const work = mkdtempSync(join(tmpdir(), 'pf9-bench-lb-'));
const logger = createLogger({ level: 'silent' });

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

function startBackends(n) {
  const child = fork(join(ROOT, 'bench/http-backends.js'), [String(n)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((res) => child.stdout.once('data', (d) => res({ child, ports: JSON.parse(d.toString()) })));
}

/** wrk until stopped; resolves with requests and failures it printed. */
function startWrk(port) {
  const wrk = spawn('wrk', ['-t1', '-c8', '-d600s', `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  wrk.stdout.on('data', (d) => (out += d));
  const done = new Promise((res) => wrk.on('exit', () => res(out)));
  return {
    async stop() {
      wrk.kill('SIGINT'); // wrk prints its summary on SIGINT
      const text = await done;
      const num = (re) => Number(re.exec(text)?.[1] ?? 0);
      const requests = num(/(\d+) requests in/);
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
      const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
      const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
      return { requests, failed: socketErrors + non2xx };
    },
  };
}

const lbRequest = (port, nodes, extra = {}) => ({ loadBalancers: [{ id: 'web', name: 'web', protocol: 'HTTP', port, nodes, ...extra }] });
const stateOf = (req) => ({ loadBalancers: parseLoadBalancers(req), suspended: false });

async function timed(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p90: percentile(s, 90) };
};

const { child: backends, ports } = await startBackends(8);
const lbPort = await freePort();
const engine = new HaproxyEngine({ runDir: join(work, 'run'), bindAddress: '127.0.0.1', logger });
const node = (i, extra = {}) => ({ id: `n${i}`, address: '127.0.0.1', port: ports[i], ...extra });
try {
  const base = [0, 1, 2, 3].map((i) => node(i));
  await engine.apply(stateOf(lbRequest(lbPort, base)));

  async function phase(label, changes) {
    const wrk = startWrk(lbPort);
    await new Promise((r) => setTimeout(r, 300)); // let wrk open its connections
    const times = [];
    for (const change of changes) times.push(await timed(() => engine.apply(change)));
    await new Promise((r) => setTimeout(r, 300));
    const load = await wrk.stop();
    return { label, ...load, ...summary(times), n: changes.length };
  }

  const weightAndDrain = [];
  for (let i = 0; i < 100; i++) {
    const nodes = base.map((n, j) => ({ ...n, weight: 1 + ((i + j) % 5) }));
    if (i % 2 === 1) nodes[i % 4] = { ...nodes[i % 4], condition: 'DISABLED' };
    weightAndDrain.push(stateOf(lbRequest(lbPort, nodes)));
  }
  const addRemove = [];
  for (let i = 0; i < 100; i++) {
    const extra = i % 2 === 0 ? [node(4 + ((i / 2) % 4))] : [];
    addRemove.push(stateOf(lbRequest(lbPort, [...base, ...extra])));
  }
  const reloads = [];
  for (let i = 0; i < 20; i++) {
    reloads.push(stateOf(lbRequest(lbPort, base, { algorithm: i % 2 === 0 ? 'LEAST_CONNECTIONS' : 'ROUND_ROBIN', options: { client_timeout: 30000 + i } })));
  }

  const a = await phase('A. weight and drain (100)', weightAndDrain);
  await engine.apply(stateOf(lbRequest(lbPort, base)));
  const b = await phase('B. node add and remove (100)', addRemove);
  await engine.apply(stateOf(lbRequest(lbPort, base)));
  const c = await phase('C. full-config reload (20)', reloads);

  console.log('\nload-balancer changes under load (wrk, 8 keep-alive connections, HAProxy on 127.0.0.1)');
  for (const r of [a, b, c]) {
    console.log(`  ${r.label.padEnd(30)} requests ${String(r.requests).padStart(7)}   failed ${String(r.failed).padStart(4)}   apply p50 ${r.p50.toFixed(2).padStart(7)} ms   p90 ${r.p90.toFixed(2).padStart(7)} ms`);
  }
  console.log(`  ratio p50 A/C ${(a.p50 / c.p50).toFixed(3)}   (targets: 0 failed for each; A p50 < 10 ms)`);
} finally {
  await engine.destroy().catch(() => undefined);
  backends.kill();
  rmSync(work, { recursive: true, force: true });
}
