import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { DebBackend } from '../../../src/packages/deb-backend.js';
import { RpmBackend } from '../../../src/packages/rpm-backend.js';
import { backendKindFor, parseOsRelease, selectBackend } from '../../../src/packages/select-backend.js';

// Excerpts of real os-release files.
const OS_RELEASES: [string, string, 'rpm' | 'deb' | undefined][] = [
  ['debian 12', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n', 'deb'],
  ['ubuntu 22.04', 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n', 'deb'],
  ['linux mint', 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n', 'deb'],
  ['rhel 9', 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nID_LIKE="fedora"\n', 'rpm'],
  ['centos 7', 'NAME="CentOS Linux"\nID="centos"\nID_LIKE="rhel fedora"\n', 'rpm'],
  ['rocky 9', 'ID="rocky"\nID_LIKE="rhel centos fedora"\n', 'rpm'],
  ['almalinux', 'ID="almalinux"\nID_LIKE="rhel centos fedora"\n', 'rpm'],
  ['oracle linux', 'ID="ol"\nID_LIKE="fedora"\n', 'rpm'],
  ['amazon linux 2', 'ID="amzn"\nID_LIKE="centos rhel fedora"\n', 'rpm'],
  ['opensuse leap', 'ID="opensuse-leap"\nID_LIKE="suse opensuse"\n', 'rpm'],
  ['sles', 'ID="sles"\nID_LIKE="suse"\n', 'rpm'],
  ['arch', 'NAME="Arch Linux"\nID=arch\n', undefined],
  ['alpine', 'ID=alpine\n', undefined],
];

describe('backendKindFor', () => {
  it.each(OS_RELEASES)('%s', (_name, text, kind) => {
    expect(backendKindFor(parseOsRelease(text))).toBe(kind);
  });

  it('prefers ID over ID_LIKE', () => {
    expect(backendKindFor(parseOsRelease('ID=debian\nID_LIKE="fedora"\n'))).toBe('deb');
  });
});

describe('parseOsRelease', () => {
  it('reads quoted and unquoted values, skips comments, unescapes', () => {
    const f = parseOsRelease('# comment\nID=fedora\nNAME="Fedora \\"Linux\\""\nVERSION=\'39\'\n\nbad line\n');
    expect(Object.fromEntries(f)).toEqual({ ID: 'fedora', NAME: 'Fedora "Linux"', VERSION: '39' });
  });
});

describe('selectBackend', () => {
  let dir: string;
  let root: string;
  let host: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pf9-select-'));
    root = join(dir, 'root');
    host = join(dir, 'host-os-release');
    await mkdir(join(root, 'etc'), { recursive: true });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the install root first', async () => {
    await writeFile(join(root, 'etc/os-release'), 'ID=rocky\n');
    await writeFile(host, 'ID=debian\n');
    const b = selectBackend({ backend: 'auto', root, osReleasePath: host });
    expect(b).toBeInstanceOf(RpmBackend);
    expect(b.root).toBe(root);
  });

  it('falls back to /usr/lib/os-release of the root, then to the host', async () => {
    await mkdir(join(root, 'usr/lib'), { recursive: true });
    await writeFile(join(root, 'usr/lib/os-release'), 'ID=ubuntu\n');
    await writeFile(host, 'ID=fedora\n');
    expect(selectBackend({ backend: 'auto', root, osReleasePath: host })).toBeInstanceOf(DebBackend);
    await rm(join(root, 'usr/lib/os-release'));
    expect(selectBackend({ backend: 'auto', root, osReleasePath: host })).toBeInstanceOf(RpmBackend);
  });

  it('an explicit backend wins, whatever the OS', async () => {
    await writeFile(host, 'ID=debian\n');
    expect(selectBackend({ backend: 'rpm', root, osReleasePath: host })).toBeInstanceOf(RpmBackend);
    expect(selectBackend({ backend: 'deb', root, osReleasePath: join(dir, 'missing') })).toBeInstanceOf(DebBackend);
  });

  it('fails with CONFIG_INVALID naming packages.backend when auto cannot decide', async () => {
    await writeFile(join(root, 'etc/os-release'), 'ID=arch\n');
    await writeFile(host, 'ID=alpine\n');
    const err = (() => {
      try {
        selectBackend({ backend: 'auto', root, osReleasePath: host });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('CONFIG_INVALID');
    expect((err as ConfigError).message).toMatch(/packages\.backend.*ID=arch.*ID=alpine.*set packages\.backend to rpm or deb/);
  });

  it('fails clearly when there is no os-release at all', () => {
    expect(() => selectBackend({ backend: 'auto', root, osReleasePath: join(dir, 'missing') })).toThrow(/no os-release in .*missing/);
  });
});
