/**
 * The `pf9-hostagent` program as an operator runs it: a historical-format
 * /etc/pf9/hostagent.conf, signals, --print-config, exit codes, and systemd
 * readiness through systemd-notify.
 */
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerAddress, createVhost, type TestVhost } from '../helpers/broker.js';
import { waitFor } from '../helpers/wait.js';
import { randomHostId } from './support/agent-harness.js';
import { statusOf, TestMaster } from './support/test-master.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pf9-hostagent.js');
const NODE = join(ROOT, 'node_modules/.bin/node');

let vhost: TestVhost;
let master: TestMaster;
let dir: string;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/cli/hostagent.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  vhost = await createVhost('cli');
  master = await TestMaster.connect(vhost.url);
  dir = await mkdtemp(join(tmpdir(), 'pf9-cli-'));
});
afterAll(async () => {
  await master.close();
  await vhost.dispose();
  await rm(dir, { recursive: true, force: true });
});

function historicalConf(stateDir: string): string {
  const { host, port } = brokerAddress(vhost.url);
  return [
    '[hostagent]',
    'connection_retry_period=1',
    'heartbeat_period=60',
    'log_level_name=INFO',
    'log_file_name=/var/log/pf9/hostagent.log',
    `app_cache_dir=${join(stateDir, 'cache')}`,
    `desired_config_basedir_path=${stateDir}`,
    'max_converge_attempts=30',
    'hypervisor_type=kvm',
    '',
    '[amqp]',
    `host=${host}`,
    `port=${port}`,
    'username=guest',
    'password=guest',
    `virtual_host=${vhost.name}`,
    '',
    '[ssl]',
    'disable=True',
    '',
  ].join('\n');
}

/** Runs the launcher as a program, as an operator or systemd would, so its shebang (and its V8 flags) is exercised. */
function run(args: string[], env: Record<string, string> = {}): ResultPromise {
  const PATH = `${dirname(NODE)}:${process.env.PATH ?? ''}`;
  // Whatever the test does, the spawned agent never looks after this machine's own packages or services.
  const sandbox = {
    HOSTAGENT_PACKAGES_ROOT: join(dir, 'root'),
    HOSTAGENT_SERVICES_DRIVER: 'supervisor',
    HOSTAGENT_PACKAGES_BACKEND: 'deb',
    HOSTAGENT_CONTROL_SOCKET: join(dir, `ctl-${Math.random().toString(36).slice(2)}.sock`),
  };
  return execa(BIN, args, { env: { PATH, ...sandbox, ...env }, extendEnv: false, reject: false, all: true });
}

describe('pf9-hostagent', () => {
  it('starts from a historical-format hostagent.conf, serves pings, and stops cleanly on SIGTERM', async () => {
    const stateDir = join(dir, 'state-hist');
    const conf = join(dir, 'historical.conf');
    await writeFile(conf, historicalConf(stateDir));
    const hostId = randomHostId();
    const firstStatus = master.next(statusOf(hostId), 20_000, 'the first status from the spawned agent');
    const child = run(['--config', conf], { HOSTAGENT_HOST_ID: hostId });
    try {
      await firstStatus;
      const reply = await master.request(hostId, { opcode: 'ping' });
      expect(reply.body).toMatchObject({ data: { host_id: hostId, heartbeat_period: 60 } });
    } finally {
      child.kill('SIGTERM');
    }
    const result = await child;
    expect(result.exitCode).toBe(0);
    const lines = String(result.all).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines.map((l) => l.event);
    expect(events).toContain('bus.connected');
    expect(events.at(-1)).toBe('agent.stopped');
    // Unknown historical keys are warned about, not fatal.
    expect(lines.some((l) => l.event === 'config.warning' && /hypervisor_type/.test(String(l.msg)))).toBe(true);
    for (const l of lines) expect(l.host_id).toBe(hostId);
    expect(String(result.all)).not.toMatch(/guest:guest@/);
  });

  it('--print-config shows every key with its origin and masks the password', async () => {
    const stateDir = join(dir, 'state-print');
    const conf = join(dir, 'print.conf');
    await writeFile(conf, historicalConf(stateDir).replace('password=guest', 'password=s3cr3t-pw'));
    const r = await run(['--config', conf, '--print-config', '--set', 'hostagent.heartbeat_period=17']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toContain('s3cr3t-pw');
    expect(r.stdout).toMatch(/heartbeat_period\s*=\s*17/);
    expect(r.stdout).toContain('*****');
  });

  it('exits 2 naming the key, the value and the source on a bad value', async () => {
    const r = await run(['--print-config'], { HOSTAGENT_HEARTBEAT_PERIOD: 'often' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('hostagent.heartbeat_period');
    expect(r.stderr).toContain('often');
    expect(r.stderr).toContain('HOSTAGENT_HEARTBEAT_PERIOD');
  });

  it('exits 2 on an unknown flag and on a missing explicit config file; --version and --help exit 0', async () => {
    expect((await run(['--frobnicate'])).exitCode).toBe(2);
    const missing = await run(['--config', join(dir, 'nope.conf')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('nope.conf');
    const v = await run(['--version']);
    expect(v.exitCode).toBe(0);
    expect(v.stdout).toMatch(/^pf9-hostagent \d+\.\d+\.\d+/);
    const h = await run(['--help']);
    expect(h.exitCode).toBe(0);
    expect(h.stdout).toContain('--set');
  });

  it('tells systemd it is ready through systemd-notify when NOTIFY_SOCKET is set', async () => {
    const sock = join(dir, 'notify.sock');
    // Node has no unix datagram sockets; a few lines of Python play systemd's side.
    const receiver = execa('python3', ['-u', '-c', RECEIVER, sock], { reject: false });
    await waitFor(() => existsSync(sock), { what: 'the notify socket', timeoutMs: 5000 });
    const stateDir = join(dir, 'state-notify');
    const conf = join(dir, 'notify.conf');
    await writeFile(conf, historicalConf(stateDir));
    const hostId = randomHostId();
    const child = run(['--config', conf], { HOSTAGENT_HOST_ID: hostId, NOTIFY_SOCKET: sock });
    try {
      const got = await receiver;
      expect(got.stdout).toContain('READY=1');
    } finally {
      child.kill('SIGTERM');
      await child;
    }
  });
});

const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
while True:
    d = s.recv(65536).decode()
    print(d)
    if 'READY=1' in d:
        break
`;
