/**
 * Picks the package backend for `packages.backend` (auto|rpm|deb). `auto`
 * decides by the OS family named in os-release, never by which binaries
 * exist: a Debian host may well have rpm installed (this project's test
 * machines do), and an RPM host may carry dpkg.
 *
 * os-release is read from the install root first (an image being built for
 * another distribution says what it is), then from the host; each place
 * tries /etc/os-release, then /usr/lib/os-release, as os-release(5) asks.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { DebBackend } from './deb-backend.js';
import { RpmBackend } from './rpm-backend.js';
import type { BackendKind, PackageBackend } from './types.js';

export interface SelectBackendOptions {
  backend: 'auto' | BackendKind;
  root: string;
  /** The host's os-release (default /etc/os-release, then /usr/lib/os-release); tests point it elsewhere. */
  osReleasePath?: string;
  logger?: Logger;
}

const DEB_FAMILY = new Set(['debian', 'ubuntu']);
// ID values and ID_LIKE tokens of the RPM world; Oracle Linux is `ol`, Amazon Linux `amzn`, SLES `sles`, openSUSE `opensuse-*`.
const RPM_FAMILY = new Set(['rhel', 'centos', 'fedora', 'rocky', 'almalinux', 'suse', 'opensuse', 'sles', 'ol', 'amzn']);

export function selectBackend(opts: SelectBackendOptions): PackageBackend {
  const kind = opts.backend === 'auto' ? detectFromFiles(opts) : opts.backend;
  if (kind !== 'rpm' && kind !== 'deb') {
    throw new ConfigError(`packages.backend must be auto, rpm or deb, not ${JSON.stringify(kind)}`);
  }
  opts.logger?.info({ event: 'packages.backend', backend: kind, configured: opts.backend, root: opts.root }, 'package backend selected');
  const common = { root: opts.root, ...(opts.logger ? { logger: opts.logger } : {}) };
  return kind === 'deb' ? new DebBackend(common) : new RpmBackend(common);
}

function detectFromFiles(opts: SelectBackendOptions): BackendKind {
  const root = resolve(opts.root);
  const candidates = [
    ...(root === '/' ? [] : [join(root, 'etc/os-release'), join(root, 'usr/lib/os-release')]),
    ...(opts.osReleasePath ? [opts.osReleasePath] : ['/etc/os-release', '/usr/lib/os-release']),
  ];
  const seen: string[] = [];
  for (const path of candidates) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue; // absent here: try the next place
    }
    const fields = parseOsRelease(text);
    const kind = backendKindFor(fields);
    if (kind) return kind;
    seen.push(`${path} (ID=${fields.get('ID') ?? ''}, ID_LIKE=${fields.get('ID_LIKE') ?? ''})`);
  }
  const where = seen.length > 0 ? `found only ${seen.join('; ')}` : `no os-release in ${candidates.join(', ')}`;
  throw new ConfigError(`packages.backend=auto cannot tell the package format: ${where}; set packages.backend to rpm or deb`);
}

/** The rpm/deb family of an os-release: ID first, then each ID_LIKE token in order; undefined when none is known. */
export function backendKindFor(fields: ReadonlyMap<string, string>): BackendKind | undefined {
  const tokens = [fields.get('ID') ?? '', ...(fields.get('ID_LIKE') ?? '').split(/\s+/)]
    .map((t) => t.toLowerCase())
    .filter(Boolean);
  for (const token of tokens) {
    if (DEB_FAMILY.has(token)) return 'deb';
    if (RPM_FAMILY.has(token) || token.startsWith('opensuse')) return 'rpm';
  }
  return undefined;
}

/** KEY=value lines, values optionally quoted (shell-style escapes of \" \\ \$ \`), comments and blanks skipped. */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    let value = m[2];
    const q = value.charAt(0);
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\(["\\$`])/g, '$1');
    }
    out.set(m[1], value);
  }
  return out;
}
