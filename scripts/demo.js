// `npm run demo`: the whole loop on this machine in one command.
//
// Uses the local RabbitMQ (RABBITMQ_URL, else 127.0.0.1:5672), builds two
// tiny app packages (.deb, with dpkg-deb), serves them on 127.0.0.1, starts
// the real agent (bin/pf9-hostagent.js) with a temporary state dir and
// install root, and drives it as a master would, with bbonectl:
// set-config --wait, an HTTP request to the app, a version change, ping,
// hosts; then a malformed message (answered with an error), removal of the
// apps, and a clean SIGTERM stop. It uses its own exchange and a random host
// id, never touches this machine's own packages or services, and leaves
// nothing behind.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
const URL_ = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const masked = URL_.replace(/:[^:@/]*@/, ':*****@');
const exchange = `pf9-bbone-demo-${randomBytes(3).toString('hex')}`;
const hostId = ['02', ...[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0'))].join(':').toUpperCase();
const dir = mkdtempSync(join(tmpdir(), 'pf9-demo-'));
const PATH = `${dirname(process.execPath)}:${process.env.PATH}`;
const run = promisify(execFile);

function brokerAnswers() {
  const { hostname, port } = new URL(URL_);
  return new Promise((res) => {
    const s = createConnection({ host: hostname, port: Number(port || 5672) }, () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
  });
}

function freePort() {
  return new Promise((res) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Runs bbonectl as an operator would and shows what it prints. */
async function bbonectl(args, { input, allowFail = false } = {}) {
  const full = ['--set', `amqp.url=${URL_}`, '--set', `amqp.exchange=${exchange}`, ...args];
  console.log(`\n$ bbonectl ${args.join(' ')}`);
  const child = spawn(join(ROOT, 'bin/bbonectl.js'), full, { env: { ...process.env, PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  let out = '';
  child.stdout.on('data', (d) => process.stdout.write(String(d).replace(/^/gm, '  ')) && (out += d));
  child.stderr.on('data', (d) => process.stdout.write(String(d).replace(/^/gm, '  ')));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0 && !allowFail) throw new Error(`demo: bbonectl ${args[0]} exited with ${code}`);
  return { code, out };
}

async function askApp(port) {
  for (let i = 0; i < 50; i++) {
    try {
      return (await (await fetch(`http://127.0.0.1:${port}/`)).text()).trim();
    } catch {
      await new Promise((r) => setTimeout(r, 100)); // the service may still be binding its port
    }
  }
  throw new Error(`demo: the app did not answer on 127.0.0.1:${port}`);
}

if (!(await brokerAnswers())) {
  console.error(`demo: no RabbitMQ answers at ${masked}. Start one with \`rabbitmq-server -detached\` (as root), or set RABBITMQ_URL.`);
  process.exit(1);
}

const root = join(dir, 'root');
writeFileSync(
  join(dir, 'hostagent.conf'),
  [
    '[amqp]', `url = ${URL_}`, `exchange = ${exchange}`,
    '[hostagent]', 'heartbeat_period = 2', `state_dir = ${join(dir, 'state')}`,
    '[packages]', `root = ${root}`, `cache_dir = ${join(dir, 'cache')}`, 'backend = deb',
    '[services]', 'driver = supervisor',
    '[control]', `socket = ${join(dir, 'ctl.sock')}`, '',
  ].join('\n'),
);

console.log('demo: building two app packages (dpkg-deb) and serving them on 127.0.0.1');
const { buildAppPackage, packageVersion, startPackageServer } = await import(join(ROOT, 'test/fixtures/packages/package-builder.ts'));
const repo = join(dir, 'repo');
const debs = {
  web10: await buildAppPackage({ format: 'deb', name: 'pf9-demo-web', version: '1.0', outDir: repo, serviceKind: 'http' }),
  web11: await buildAppPackage({ format: 'deb', name: 'pf9-demo-web', version: '1.1', outDir: repo, serviceKind: 'http' }),
  worker: await buildAppPackage({ format: 'deb', name: 'pf9-demo-worker', version: '1.0', outDir: repo }),
};
const server = await startPackageServer(repo);
const webPort = await freePort();
const entry = (deb, version, config) => ({ version: packageVersion({ version }), url: `${server.url}/${basename(deb)}`, running: true, config });
const desired = (webDeb, webVersion) => ({
  'pf9-demo-web': entry(webDeb, webVersion, { port: webPort }),
  'pf9-demo-worker': entry(debs.worker, '1.0', { threads: 2 }),
});

console.log(`demo: starting pf9-hostagent as host ${hostId} on exchange ${exchange} (${masked}), install root ${root}`);
const agent = spawn(join(ROOT, 'bin/pf9-hostagent.js'), ['--config', join(dir, 'hostagent.conf')], {
  env: { ...process.env, HOSTAGENT_HOST_ID: hostId, PATH },
  stdio: ['ignore', 'pipe', 'inherit'],
});
agent.stdout.on('data', (chunk) => {
  for (const line of chunk.toString().split('\n').filter(Boolean)) {
    try {
      const l = JSON.parse(line);
      if (['bus.connected', 'converge.started', 'converge.finished', 'message.refused', 'agent.stopped'].includes(l.event)) {
        console.log(`   agent log: ${l.level} ${l.event} ${l.msg}`);
      }
    } catch {
      console.log(`   agent: ${line}`);
    }
  }
});

let exitCode = 0;
try {
  await bbonectl(['set-config', hostId, '-', '--wait', '--timeout', '120'], { input: JSON.stringify(desired(debs.web10, '1.0')) });
  console.log(`\n== the app answers on 127.0.0.1:${webPort}: ${await askApp(webPort)}`);
  await bbonectl(['set-config', hostId, '-', '--wait', '--timeout', '120'], { input: JSON.stringify(desired(debs.web11, '1.1')) });
  console.log(`\n== the app answers on 127.0.0.1:${webPort}: ${await askApp(webPort)}`);
  await bbonectl(['ping', hostId]);
  await bbonectl(['hosts', '--timeout', '3']);
  console.log('\n== a malformed set_config is refused with an error message naming the field:');
  const bad = await bbonectl(['set-config', hostId, '-'], { input: '{"pf9-demo-web": {"version": "1.0", "running": "yes"}}', allowFail: true });
  if (bad.code !== 2) throw new Error('demo: bbonectl accepted a malformed set_config');
  await bbonectl(['set-config', hostId, '-', '--wait', '--timeout', '120'], { input: '{}' });
  console.log('\ndemo: all answered; stopping the agent with SIGTERM');
} catch (err) {
  console.error(String(err));
  exitCode = 1;
} finally {
  const exited = new Promise((r) => agent.once('exit', r));
  agent.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) {
    console.error(`demo: agent exited with ${code}`);
    exitCode = 1;
  }
  // Leave no queue or exchange behind on the broker.
  const amqp = (await import('amqplib')).default;
  const conn = await amqp.connect(URL_);
  const ch = await conn.createChannel();
  await ch.deleteQueue(`bbslave-q-${hostId}`).catch(() => undefined);
  await ch.deleteExchange(exchange).catch(() => undefined);
  await conn.close().catch(() => undefined);
  await server.close();
  // Any app process still up (only if the removal above failed) goes with the temp dir.
  await run('pkill', ['-f', root]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
console.log(exitCode === 0 ? 'demo: ok' : 'demo: FAILED');
process.exit(exitCode);
