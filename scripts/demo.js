// `npm run demo`: the whole loop on this machine in one command. Starts the
// real agent (bin/pf9-hostagent.js) against the local RabbitMQ, plays the
// master's side of the bus, and prints what a master sees:
//   ping -> status; set_config with an app -> converging, then ok, with the
//   app (a real .deb built here, served on 127.0.0.1) installed into a
//   sandbox root and its HTTP service answering; an upgrade; a bad message
//   -> error; the app removed; a heartbeat; then a clean SIGTERM stop.
// Uses its own exchange, a random host id and a temporary install root
// (never this machine's own packages), and leaves nothing behind.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createServer } from 'node:net';
import amqp from 'amqplib';

const ROOT = resolve(import.meta.dirname, '..');
const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const exchange = `pf9-bbone-demo-${randomBytes(3).toString('hex')}`;
const hostId = ['02', ...[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0'))].join(':').toUpperCase();
const dir = mkdtempSync(join(tmpdir(), 'pf9-demo-'));
const root = join(dir, 'root');
writeFileSync(
  join(dir, 'hostagent.conf'),
  [
    '[amqp]', `url = ${URL}`, `exchange = ${exchange}`,
    '[hostagent]', 'heartbeat_period = 2', `state_dir = ${join(dir, 'state')}`,
    '[packages]', `root = ${root}`, `cache_dir = ${join(dir, 'cache')}`, 'backend = deb',
    '[services]', 'driver = supervisor', '',
  ].join('\n'),
);

// The app: a tiny .deb whose service answers HTTP, built with dpkg-deb by the test fixtures.
const { buildAppPackage, packageVersion, startPackageServer } = await import(join(ROOT, 'test/fixtures/packages/package-builder.ts'));
const repo = join(dir, 'repo');
const debs = {
  '1.0': await buildAppPackage({ format: 'deb', name: 'pf9-demo', version: '1.0', outDir: repo, serviceKind: 'http' }),
  '1.1': await buildAppPackage({ format: 'deb', name: 'pf9-demo', version: '1.1', outDir: repo, serviceKind: 'http' }),
};
const server = await startPackageServer(repo);
const appPort = await freePort();
const appEntry = (v) => ({ version: packageVersion({ version: v }), url: `${server.url}/${basename(debs[v])}`, running: true, config: { port: appPort } });

function freePort() {
  return new Promise((res) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function askApp() {
  for (let i = 0; i < 50; i++) {
    try {
      return (await (await fetch(`http://127.0.0.1:${appPort}/`)).text()).trim();
    } catch {
      await new Promise((r) => setTimeout(r, 100)); // the service may still be binding its port
    }
  }
  throw new Error(`demo: the app did not answer on 127.0.0.1:${appPort}`);
}

const show = (label, obj) => console.log(`\n== ${label}\n${JSON.stringify(obj, null, 2)}`);

const conn = await amqp.connect(URL, { noDelay: true });
const ch = await conn.createChannel();
await ch.assertExchange(exchange, 'topic', { durable: false });
const { queue } = await ch.assertQueue('', { exclusive: true });
await ch.bindQueue(queue, exchange, 'master');
const waiters = [];
const seen = [];
await ch.consume(queue, (m) => {
  if (!m) return;
  const msg = { correlationId: m.properties.correlationId, body: JSON.parse(m.content.toString()) };
  seen.push(msg);
  for (const w of [...waiters]) if (w.pred(msg)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(msg); }
}, { noAck: true });
const next = (pred, what, ms = 15000) => {
  const found = seen.find(pred);
  if (found) { seen.splice(seen.indexOf(found), 1); return Promise.resolve(found); }
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`demo: no ${what} within ${ms} ms`)), ms);
    waiters.push({ pred, resolve: (m) => { clearTimeout(t); seen.splice(seen.indexOf(m), 1); res(m); } });
  });
};
const request = (body) => {
  const id = randomUUID();
  ch.publish(exchange, hostId, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), { correlationId: id });
  return next((m) => m.correlationId === id, `reply to ${String(body).slice(0, 40)}`);
};

console.log(`demo: starting pf9-hostagent as host ${hostId} on exchange ${exchange} (${URL.replace(/:[^:@/]*@/, ':*****@')})`);
// Run as a program (its shebang picks the pinned node from PATH, with the agent's V8 flags).
const agent = spawn(join(ROOT, 'bin/pf9-hostagent.js'), ['--config', join(dir, 'hostagent.conf')], {
  env: { ...process.env, HOSTAGENT_HOST_ID: hostId, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
  stdio: ['ignore', 'pipe', 'inherit'],
});
agent.stdout.on('data', (chunk) => {
  for (const line of chunk.toString().split('\n').filter(Boolean)) {
    try {
      const l = JSON.parse(line);
      console.log(`   agent log: ${l.level} ${l.event ?? ''} ${l.msg}`);
    } catch { console.log(`   agent: ${line}`); }
  }
});
let exitCode = 0;
try {
  show('first status (sent on connect)', (await next((m) => m.body.data?.host_id === hostId, 'status on connect')).body);
  show('ping -> status', (await request({ opcode: 'ping' })).body);
  const statusIs = (want, hash) => (m) => m.body.opcode === 'status' && m.body.data?.status === want && m.body.data?.desired_hash === hash;
  const install = { 'pf9-demo': appEntry('1.0') };
  const installReply = await request({ opcode: 'set_config', data: install });
  show('set_config pf9-demo 1.0 -> status at once (desired_hash = sha256 of the canonical JSON of the apps)', installReply.body);
  show('... then, once installed, configured and started', (await next(statusIs('ok', installReply.body.data.desired_hash), 'status ok after install', 60000)).body);
  console.log(`\n== the app answers on 127.0.0.1:${appPort}: ${await askApp()}`);
  const upgrade = { 'pf9-demo': appEntry('1.1') };
  const upReply = await request({ opcode: 'set_config', data: upgrade });
  show('set_config pf9-demo 1.1 -> upgrade, restart; status ok', (await next(statusIs('ok', upReply.body.data.desired_hash), 'status ok after upgrade', 60000)).body);
  console.log(`\n== the app answers on 127.0.0.1:${appPort}: ${await askApp()}`);
  show('a malformed message -> error', (await request('{"opcode": "set_config", ')).body);
  const removeReply = await request({ opcode: 'set_config', data: {} });
  show('set_config {} -> the app is stopped and removed; status ok', (await next(statusIs('ok', removeReply.body.data.desired_hash), 'status ok after removal', 60000)).body);
  show('heartbeat (every ~2 s here)', (await next((m) => m.body.opcode === 'status' && !m.correlationId, 'heartbeat')).body);
  console.log('\ndemo: all answered; stopping the agent with SIGTERM');
} catch (err) {
  console.error(String(err));
  exitCode = 1;
} finally {
  const exited = new Promise((r) => agent.once('exit', r));
  agent.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) { console.error(`demo: agent exited with ${code}`); exitCode = 1; }
  await ch.deleteQueue(`bbslave-q-${hostId}`).catch(() => undefined);
  await ch.deleteExchange(exchange).catch(() => undefined);
  await conn.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(exitCode === 0 ? 'demo: ok' : 'demo: FAILED');
process.exit(exitCode);
