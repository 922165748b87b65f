/**
 * dpkg backend. On the host itself (root `/`) dpkg uses its own database;
 * for any other root every call carries `--root=<root>` and
 * `--admindir=<root>/var/lib/dpkg`, so nothing of the host's /var/lib/dpkg is
 * read or written (dpkg >= 1.19 derives the admindir from --root, older ones
 * did not: the explicit flag keeps both right).
 *
 * Decisions:
 * - Maintainer scripts of packages installed into another root run chrooted
 *   there (dpkg's default): that needs a /bin/sh in the root. We do not pass
 *   --force-script-chrootless, which would run them against the host's files
 *   unless they were written for DPKG_ROOT. App packages for test roots have
 *   no maintainer scripts.
 * - As non-root (an image builder without privileges) `--force-not-root` is
 *   added for other roots; files then belong to the running user.
 * - Conffiles: `--force-confdef --force-confold` keep a locally edited
 *   conffile and take the new one otherwise, instead of prompting (stdin is
 *   closed, a prompt would fail the transaction).
 * - Removal is `dpkg --purge`: an app the master removed leaves no `rc`
 *   entry and no conffiles behind, like `rpm -e`. Removal never goes through
 *   apt-get, which would also remove packages that depend on the app.
 * - dpkg is not transactional: when one of several files fails, the others
 *   may be installed anyway. Callers re-read the database (listInstalled).
 * - apt-get (root `/` only, when /usr/bin/apt-get exists, unless useApt is
 *   false) installs the files so missing dependencies come from the host's
 *   repositories; `--allow-downgrades` because the master's version wins.
 */
import { access, mkdir, open, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, PackageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkPackageNames, outputTail, runTool, runWithExeca, type ToolRunner } from './run-tool.js';
import type { InstalledPackage, PackageBackend } from './types.js';

export interface DebBackendOptions {
  root: string;
  logger?: Logger;
  /** Install through apt-get when root is `/` (default: when /usr/bin/apt-get exists). Only valid for root `/`. */
  useApt?: boolean;
  /** Longest a transaction (install, remove, repair) may run; default 10 minutes. */
  transactionTimeoutMs?: number;
  /** Longest a query may run; default 60 s. */
  queryTimeoutMs?: number;
  /** Test seam: runs the tools (default: execa). */
  runner?: ToolRunner;
}

const QUERY_FORMAT = '${Package}\t${Version}\t${Provides}\t${db:Status-Abbrev}\n';

// Status-Abbrev is desired/status/error. Installed means the files are there
// and configured: `i`, or `W`/`t` (configured, only triggers pending).
// Unpacked (U), half-configured (F) and half-installed (H) are NOT reported:
// the reconciler then plans an install, and install() first runs repair(),
// so an interrupted transaction heals on the next converge instead of being
// taken for a finished one. An `R` (reinstall required) flag is not installed either.
const INSTALLED_STATES = new Set(['i', 'W', 't']);

export class DebBackend implements PackageBackend {
  readonly kind = 'deb' as const;
  readonly root: string;
  private readonly admindir: string | undefined;
  private readonly logger: Logger | undefined;
  private readonly useApt: boolean | undefined;
  private readonly run: ToolRunner;
  private readonly transactionTimeoutMs: number;
  private readonly queryTimeoutMs: number;
  private admindirReady: Promise<void> | undefined;
  /**
   * Whether `dpkg --configure -a` must run before the next transaction.
   * True at start (a previous agent may have been killed mid-dpkg), after a
   * failed transaction, and when a query sees a package left half-way; a
   * clean transaction leaves everything configured, so the next one skips
   * the extra dpkg process.
   */
  private repairNeeded = true;

  constructor(opts: DebBackendOptions) {
    this.root = resolve(opts.root);
    if (opts.useApt === true && this.root !== '/') {
      throw new ConfigError(`apt-get can only install into root /, not ${this.root}; leave useApt unset for other roots`);
    }
    this.admindir = this.root === '/' ? undefined : join(this.root, 'var/lib/dpkg');
    this.logger = opts.logger;
    this.useApt = opts.useApt;
    this.run = opts.runner ?? runWithExeca;
    this.transactionTimeoutMs = opts.transactionTimeoutMs ?? 600_000;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 60_000;
  }

  async listInstalled(): Promise<Map<string, InstalledPackage>> {
    await this.ensureAdmindir();
    const admin = this.admindir ? [`--admindir=${this.admindir}`] : [];
    const r = await runTool(this.run, 'PACKAGE_QUERY_FAILED', 'dpkg-query', [...admin, '-W', '-f', QUERY_FORMAT], {
      timeoutMs: this.queryTimeoutMs,
    });
    if (hasPendingStates(r.stdout)) this.repairNeeded = true;
    return parseDpkgQuery(r.stdout);
  }

  async inspect(file: string): Promise<{ name: string; version: string }> {
    const r = await this.run('dpkg-deb', ['-f', resolve(file), 'Package', 'Version'], { timeoutMs: this.queryTimeoutMs });
    const fields = new Map<string, string>();
    for (const line of r.stdout.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m?.[1] && m[2] !== undefined) fields.set(m[1], m[2].trim());
    }
    const name = fields.get('Package');
    const version = fields.get('Version');
    if (r.exitCode !== 0 || !name || !version) {
      // Not a deb at all: a broken download, or an rpm served to a deb host.
      throw new PackageError('PACKAGE_MISMATCH', `${file} is not a readable deb package: ${outputTail(r)}`);
    }
    return { name, version };
  }

  async install(files: readonly string[]): Promise<void> {
    if (files.length === 0) return;
    const paths = files.map((f) => resolve(f)); // absolute: never read as an option, and apt-get needs a `/` to see a file
    await this.repairIfNeeded();
    const started = Date.now();
    if (await this.aptWanted()) {
      this.repairNeeded = true;
      await runTool(
        this.run,
        'PACKAGE_INSTALL_FAILED',
        'apt-get',
        [
          '-y',
          '-q',
          '-o',
          'Dpkg::Options::=--force-confdef',
          '-o',
          'Dpkg::Options::=--force-confold',
          // apt waits this long for a dpkg lock held by e.g. unattended-upgrades instead of failing at once.
          '-o',
          'DPkg::Lock::Timeout=120',
          '--allow-downgrades',
          '--no-install-recommends',
          'install',
          ...paths,
        ],
        { timeoutMs: this.transactionTimeoutMs, env: { DEBIAN_FRONTEND: 'noninteractive' } },
      );
      this.repairNeeded = false;
    } else {
      await this.dpkg('PACKAGE_INSTALL_FAILED', ['--force-confdef', '--force-confold', '-i', ...paths]);
    }
    this.logger?.info({ event: 'packages.installed', root: this.root, files: paths, ms: Date.now() - started }, 'packages installed');
  }

  async remove(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    checkPackageNames(names, 'PACKAGE_REMOVE_FAILED');
    await this.repairIfNeeded();
    // dpkg ignores names that are not installed (a warning, exit 0): removing twice is harmless.
    await this.dpkg('PACKAGE_REMOVE_FAILED', ['--purge', ...names]);
    this.logger?.info({ event: 'packages.removed', root: this.root, names }, 'packages removed');
  }

  /** Finishes what an interrupted dpkg left unpacked or half-configured; quick (one dpkg call) when nothing is pending. */
  async repair(): Promise<void> {
    await this.dpkg('PACKAGE_INSTALL_FAILED', ['--force-confdef', '--force-confold', '--configure', '-a']);
  }

  private async repairIfNeeded(): Promise<void> {
    if (this.repairNeeded || (await this.journalPending())) await this.repair();
  }

  /** dpkg journals an interrupted status update in updates/; a non-empty directory means it was cut off. */
  private async journalPending(): Promise<boolean> {
    const dir = join(this.admindir ?? '/var/lib/dpkg', 'updates');
    return readdir(dir).then(
      (entries) => entries.length > 0,
      () => false,
    );
  }

  private async dpkg(code: 'PACKAGE_INSTALL_FAILED' | 'PACKAGE_REMOVE_FAILED', args: string[]): Promise<void> {
    await this.ensureAdmindir();
    this.repairNeeded = true;
    await runTool(this.run, code, 'dpkg', [...this.rootArgs(), ...args], { timeoutMs: this.transactionTimeoutMs });
    this.repairNeeded = false;
  }

  private rootArgs(): string[] {
    if (!this.admindir) return [];
    const args = [`--root=${this.root}`, `--admindir=${this.admindir}`];
    if (process.getuid?.() !== 0) args.push('--force-not-root');
    return args;
  }

  private async aptWanted(): Promise<boolean> {
    if (this.root !== '/' || this.useApt === false) return false;
    if (this.useApt === true) return true;
    return access('/usr/bin/apt-get').then(
      () => true,
      () => false,
    );
  }

  /**
   * A fresh root has no dpkg database; dpkg-query fails on a missing status
   * file and older dpkg does not create info/ or updates/. Done once per
   * backend (the promise is kept), retried if it failed.
   */
  private ensureAdmindir(): Promise<void> {
    const admindir = this.admindir;
    if (!admindir) return Promise.resolve();
    this.admindirReady ??= (async () => {
      for (const sub of ['info', 'updates', 'triggers']) await mkdir(join(admindir, sub), { recursive: true });
      for (const file of ['status', 'available']) await (await open(join(admindir, file), 'a')).close(); // 'a': create, never truncate
    })().catch((err: unknown) => {
      this.admindirReady = undefined;
      throw new PackageError('PACKAGE_QUERY_FAILED', `cannot create the dpkg database in ${admindir}: ${(err as Error).message}`, { cause: err });
    });
    return this.admindirReady;
  }
}

/** Any package unpacked, half-installed, half-configured or awaiting triggers (status letters U, H, F, W, t). */
export function hasPendingStates(stdout: string): boolean {
  return stdout.split('\n').some((line) => /^[UHFWt]$/.test(line.split('\t')[3]?.charAt(1) ?? ''));
}

/** Parses `dpkg-query -W -f '${Package}\t${Version}\t${Provides}\t${db:Status-Abbrev}\n'`. */
export function parseDpkgQuery(stdout: string): Map<string, InstalledPackage> {
  const out = new Map<string, InstalledPackage>();
  for (const line of stdout.split('\n')) {
    const [name, version, provides, abbrev] = line.split('\t');
    if (!name || !version || abbrev === undefined) continue;
    if (!INSTALLED_STATES.has(abbrev.charAt(1)) || abbrev.charAt(2) === 'R') continue;
    out.set(name, { name, version, providesPf9app: providesPf9app(provides ?? '') });
  }
  return out;
}

// Provides: "pf9app, foo (= 1.0)"; only the names matter.
function providesPf9app(provides: string): boolean {
  return provides.split(',').some((p) => p.trim().split(/[\s(]/)[0] === 'pf9app');
}
