/**
 * What the reconciler needs from the OS package manager. Implementations:
 * `rpm-backend.ts` (rpm, dnf/yum when the root is /) and `deb-backend.ts`
 * (dpkg, apt-get when the root is /). All commands run through execa with
 * argument arrays.
 */
export type BackendKind = 'rpm' | 'deb';

export interface InstalledPackage {
  name: string;
  /** rpm: VERSION-RELEASE (EPOCH: prefix when an epoch is set); deb: the Version field as dpkg shows it. */
  version: string;
  /** The package declares `Provides: pf9app` (an app the agent may manage and remove). */
  providesPf9app: boolean;
}

export interface PackageBackend {
  readonly kind: BackendKind;
  /** Install root ("/" for the host itself). */
  readonly root: string;
  /** One package-database query: every installed package. */
  listInstalled(): Promise<Map<string, InstalledPackage>>;
  /** Name and version inside a package file (to check a download is what was asked for). */
  inspect(file: string): Promise<{ name: string; version: string }>;
  /**
   * One transaction installing or upgrading (or downgrading) all these files.
   * Throws PackageError('PACKAGE_INSTALL_FAILED') with the tool's stderr tail.
   */
  install(files: readonly string[]): Promise<void>;
  /** One transaction removing these packages. Throws PackageError('PACKAGE_REMOVE_FAILED'). */
  remove(names: readonly string[]): Promise<void>;
  /** Repairs what an interrupted transaction left (deb: `dpkg --configure -a`); no-op where nothing is needed. */
  repair(): Promise<void>;
}
