// `npm run demo`: the whole loop on this machine in one command. Starts the
// real agent (bin/pf9-hostagent.js) against the local RabbitMQ, plays the
// master's side of the bus, and prints what a master sees:
//   ping -> status, set_config -> status with its desired_hash,
//   a bad message -> error, heartbeats, then a clean SIGTERM stop.
// Uses its own exchange and a random host id, and leaves nothing behind.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import amqp from 'amqplib';

const ROOT = resolve(import.meta.dirname, '..');
const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const exchange = `pf9-bbone-demo-${randomBytes(3).toString('hex')}`;
const hostId = ['02', ...[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0'))].join(':').toUpperCase();
const dir = mkdtempSync(join(tmpdir(), 'pf9-demo-'));
writeFileSync(join(dir, 'hostagent.conf'), `[amqp]\nurl = ${URL}\nexchange = ${exchange}\n[hostagent]\nheartbeat_period = 2\nstate_dir = ${join(dir, 'state')}\n`);

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
  const apps = { 'pf9-demo': { version: '1.0.0-1', url: 'http://127.0.0.1/pf9-demo-1.0.0-1.x86_64.rpm', running: true, config: { greeting: 'hello' } } };
  show('set_config -> status (desired_hash = sha256 of the canonical JSON of the apps)', (await request({ opcode: 'set_config', data: apps })).body);
  show('a malformed message -> error', (await request('{"opcode": "set_config", ')).body);
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
  rmSync(dir, { recursive: true, force: true });
}
console.log(exitCode === 0 ? 'demo: ok' : 'demo: FAILED');
process.exit(exitCode);
