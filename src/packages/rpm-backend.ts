/**
 * rpm backend. On the host itself (root `/`) rpm uses its configured
 * database. For any other root every call carries `--root <root> --dbpath
 * /var/lib/rpm`: rpm reads --dbpath *inside* the root (passing
 * `<root>/var/lib/rpm` would end up at `<root><root>/var/lib/rpm`), and the
 * explicit path matters because Debian's rpm defaults to a per-user
 * database in ~/.rpmdb, which even `rpm -qp` creates. A root without a
 * database gets one with `--initdb` first.
 *
 * Decisions:
 * - `rpm -U --replacepkgs --oldpackage`: one transaction for every file,
 *   upgrades and downgrades alike (the master's version wins), reinstalling
 *   the same version being harmless.
 * - `--nodeps` by default for roots other than `/`: a test or image root
 *   rarely holds the packages that provide /bin/sh, libc and friends, so
 *   their requirements could never be met there. Pass `nodeps: false` for a
 *   root with a complete base system.
 * - On `/` with /usr/bin/dnf (unless useDnf is false), installs go through
 *   `dnf install -y <files>` so dependencies come from the host's
 *   repositories; dnf installs the exact version of a local file, replacing
 *   a newer or older one. yum is not used: `yum install` of an older local
 *   file does not downgrade, so yum-only hosts (EL7) use rpm -U.
 * - Removal is always `rpm -e` (never dnf/yum remove, which would also
 *   remove packages depending on the app). Names that are not installed are
 *   dropped and the rest retried once, so removing twice is harmless.
 * - repair() does nothing: an rpm transaction either lands in the database
 *   or not; there is no half-configured state to finish.
 */
import { access, mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, PackageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkPackageNames, outputTail, runTool, runWithExeca, toolError, type ToolRunner } from './run-tool.js';
import type { InstalledPackage, PackageBackend } from './types.js';

export interface RpmBackendOptions {
  root: string;
  logger?: Logger;
  /** Ignore dependencies (default: true for roots other than `/`). */
  nodeps?: boolean;
  /** Install through dnf when root is `/` (default: when /usr/bin/dnf exists). Only valid for root `/`. */
  useDnf?: boolean;
  /** Longest a transaction may run; default 10 minutes. */
  transactionTimeoutMs?: number;
  /** Longest a query may run; default 60 s. */
  queryTimeoutMs?: number;
  /** Test seam: runs the tools (default: execa). */
  runner?: ToolRunner;
}

// EPOCH only when set (a bare `%{EPOCH}` prints "(none)"); PROVIDES is an array, hence the [ ] iteration.
const NEVR = '%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}';
const QUERY_FORMAT = `%{NAME}\\t${NEVR}\\t[%{PROVIDES} ]\\n`;
const DBPATH = '/var/lib/rpm';

export class RpmBackend implements PackageBackend {
  readonly kind = 'rpm' as const;
  readonly root: string;
  private readonly logger: Logger | undefined;
  private readonly nodeps: boolean;
  private readonly useDnf: boolean | undefined;
  private readonly run: ToolRunner;
  private readonly transactionTimeoutMs: number;
  private readonly queryTimeoutMs: number;
  private dbReady: Promise<void> | undefined;

  constructor(opts: RpmBackendOptions) {
    this.root = resolve(opts.root);
    if (opts.useDnf === true && this.root !== '/') {
      throw new ConfigError(`dnf can only install into root /, not ${this.root}; leave useDnf unset for other roots`);
    }
    this.logger = opts.logger;
    this.nodeps = opts.nodeps ?? this.root !== '/';
    this.useDnf = opts.useDnf;
    this.run = opts.runner ?? runWithExeca;
    this.transactionTimeoutMs = opts.transactionTimeoutMs ?? 600_000;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 60_000;
  }

  async listInstalled(): Promise<Map<string, InstalledPackage>> {
    await this.ensureDb();
    const r = await runTool(this.run, 'PACKAGE_QUERY_FAILED', 'rpm', [...this.rootArgs(), '-qa', '--qf', QUERY_FORMAT], {
      timeoutMs: this.queryTimeoutMs,
    });
    return parseRpmQuery(r.stdout);
  }

  async inspect(file: string): Promise<{ name: string; version: string }> {
    await this.ensureDb(); // rpm -qp opens the database too; without one it would create ~/.rpmdb on Debian
    const r = await this.run('rpm', [...this.rootArgs(), '-qp', '--qf', `%{NAME}\\t${NEVR}\\n`, resolve(file)], {
      timeoutMs: this.queryTimeoutMs,
    });
    const [name, version] = r.stdout.trim().split('\t');
    if (r.exitCode !== 0 || !name || !version) {
      // Not an rpm at all: a broken download, or a deb served to an rpm host.
      throw new PackageError('PACKAGE_MISMATCH', `${file} is not a readable rpm package: ${outputTail(r)}`);
    }
    return { name, version };
  }

  async install(files: readonly string[]): Promise<void> {
    if (files.length === 0) return;
    const paths = files.map((f) => resolve(f)); // absolute: never read as an option, and dnf needs a `/` to see a file
    await this.ensureDb();
    const started = Date.now();
    const opts = { timeoutMs: this.transactionTimeoutMs };
    if (await this.dnfWanted()) {
      await runTool(this.run, 'PACKAGE_INSTALL_FAILED', 'dnf', ['install', '-y', '-q', ...paths], opts);
    } else {
      const args = [...this.rootArgs(), '-U', '--replacepkgs', '--oldpackage', ...(this.nodeps ? ['--nodeps'] : []), ...paths];
      await runTool(this.run, 'PACKAGE_INSTALL_FAILED', 'rpm', args, opts);
    }
    this.logger?.info({ event: 'packages.installed', root: this.root, files: paths, ms: Date.now() - started }, 'packages installed');
  }

  async remove(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    checkPackageNames(names, 'PACKAGE_REMOVE_FAILED');
    await this.ensureDb();
    const erase = (list: readonly string[]): string[] => [...this.rootArgs(), '-e', ...(this.nodeps ? ['--nodeps'] : []), ...list];
    const opts = { timeoutMs: this.transactionTimeoutMs };
    const first = await this.run('rpm', erase(names), opts);
    if (first.exitCode !== 0 || first.timedOut) {
      // rpm -e refuses the whole transaction when one name is not installed; drop those and retry the rest once.
      const missing = notInstalled(first.stderr);
      const errors = first.stderr.split('\n').filter((l) => l.startsWith('error:'));
      const onlyMissing = !first.timedOut && errors.length > 0 && errors.length === missing.size;
      if (!onlyMissing) throw toolError('PACKAGE_REMOVE_FAILED', 'rpm', erase(names), first, opts.timeoutMs);
      const rest = names.filter((n) => !missing.has(n));
      if (rest.length > 0) await runTool(this.run, 'PACKAGE_REMOVE_FAILED', 'rpm', erase(rest), opts);
    }
    this.logger?.info({ event: 'packages.removed', root: this.root, names }, 'packages removed');
  }

  /** Nothing to finish for rpm (see the header). */
  async repair(): Promise<void> {}

  private rootArgs(): string[] {
    return this.root === '/' ? [] : ['--root', this.root, '--dbpath', DBPATH];
  }

  private async dnfWanted(): Promise<boolean> {
    if (this.root !== '/' || this.useDnf === false) return false;
    if (this.useDnf === true) return true;
    return access('/usr/bin/dnf').then(
      () => true,
      () => false,
    );
  }

  /** Creates the root's database when it has none; once per backend, retried if it failed. */
  private ensureDb(): Promise<void> {
    if (this.root === '/') return Promise.resolve();
    this.dbReady ??= (async () => {
      const dir = join(this.root, DBPATH);
      const entries = await readdir(dir).catch(() => [] as string[]);
      if (entries.length > 0) return;
      await mkdir(dir, { recursive: true });
      await runTool(this.run, 'PACKAGE_QUERY_FAILED', 'rpm', [...this.rootArgs(), '--initdb'], { timeoutMs: this.queryTimeoutMs });
    })().catch((err: unknown) => {
      this.dbReady = undefined;
      throw err instanceof PackageError ? err : new PackageError('PACKAGE_QUERY_FAILED', `cannot create the rpm database in ${this.root}: ${(err as Error).message}`, { cause: err });
    });
    return this.dbReady;
  }
}

/** Parses `rpm -qa --qf '%{NAME}\t<EVR>\t[%{PROVIDES} ]\n'`. */
export function parseRpmQuery(stdout: string): Map<string, InstalledPackage> {
  const out = new Map<string, InstalledPackage>();
  for (const line of stdout.split('\n')) {
    const [name, version, provides] = line.split('\t');
    // gpg-pubkey entries are imported signing keys, not packages.
    if (!name || !version || name === 'gpg-pubkey') continue;
    // rpm allows several versions of one name (install-only packages); the last listed wins, apps are never install-only.
    out.set(name, { name, version, providesPf9app: (provides ?? '').split(' ').includes('pf9app') });
  }
  return out;
}

function notInstalled(stderr: string): Set<string> {
  const names = new Set<string>();
  for (const m of stderr.matchAll(/^error: package (\S+) is not installed$/gm)) if (m[1]) names.add(m[1]);
  return names;
}
