import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHostIdentity, formatOsInfo, parseOsRelease, readHostInfo } from '../../../src/host/index.js';

describe('parseOsRelease', () => {
  const cases: Array<{ what: string; text: string; expected: Record<string, string> }> = [
    { what: 'empty', text: '', expected: {} },
    {
      what: 'Debian 12 as shipped',
      text: [
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
        'NAME="Debian GNU/Linux"',
        'VERSION_ID="12"',
        'VERSION_CODENAME=bookworm',
        'ID=debian',
        '',
      ].join('\n'),
      expected: {
        PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
        NAME: 'Debian GNU/Linux',
        VERSION_ID: '12',
        VERSION_CODENAME: 'bookworm',
        ID: 'debian',
      },
    },
    {
      what: 'comments and blank lines',
      text: '# a comment\n\n   # indented comment\nID=rhel\n',
      expected: { ID: 'rhel' },
    },
    { what: 'single quotes are literal', text: `NAME='Foo "x" \\$y'`, expected: { NAME: 'Foo "x" \\$y' } },
    {
      what: 'double-quote escapes',
      text: 'NAME="a \\"b\\" \\\\ \\$HOME \\` \\n"',
      expected: { NAME: 'a "b" \\ $HOME ` \\n' },
    },
    { what: 'unquoted backslash escapes', text: 'NAME=Foo\\ Linux\\"', expected: { NAME: 'Foo Linux"' } },
    { what: 'adjacent quoted and unquoted parts join', text: `NAME="Foo"' Bar'Baz`, expected: { NAME: 'Foo BarBaz' } },
    { what: 'trailing blanks and CRLF dropped', text: 'ID=centos  \r\nVERSION_ID="7"\r\n', expected: { ID: 'centos', VERSION_ID: '7' } },
    { what: 'quoted trailing blanks kept', text: 'NAME="Foo  "\n', expected: { NAME: 'Foo  ' } },
    { what: 'unquoted inner spaces kept (lenient, as systemd)', text: 'NAME=Foo Linux\n', expected: { NAME: 'Foo Linux' } },
    { what: 'empty value', text: 'VARIANT=\nID=x', expected: { VARIANT: '', ID: 'x' } },
    { what: 'value containing =', text: 'X="a=b"\nY=c=d', expected: { X: 'a=b', Y: 'c=d' } },
    { what: 'quoted value across lines', text: 'NAME="Foo\nBar"\nID=x', expected: { NAME: 'Foo\nBar', ID: 'x' } },
    { what: 'backslash-newline continues', text: 'NAME="Foo \\\nBar"\nID=a\\\nb', expected: { NAME: 'Foo Bar', ID: 'ab' } },
    { what: 'unterminated quote takes the rest', text: 'NAME="Foo', expected: { NAME: 'Foo' } },
    {
      what: 'non-assignments and bad keys are skipped',
      text: 'garbage line\n1BAD=x\nBAD KEY=y\nexport ID=z\nOK=1',
      expected: { OK: '1' },
    },
    { what: 'blanks around the key and after =', text: '  ID =  "x"\n', expected: { ID: 'x' } },
    { what: 'later assignment wins', text: 'ID=a\nID=b\n', expected: { ID: 'b' } },
  ];

  it.each(cases)('$what', ({ text, expected }) => {
    expect(parseOsRelease(text)).toEqual(expected);
  });
});

describe('formatOsInfo', () => {
  it.each([
    [{ NAME: 'Debian GNU/Linux', VERSION_ID: '12', VERSION_CODENAME: 'bookworm' }, 'Debian GNU/Linux 12 bookworm'],
    [{ NAME: 'CentOS Linux', VERSION_ID: '7', VERSION_CODENAME: '' }, 'CentOS Linux 7'],
    [{ NAME: 'Arch Linux' }, 'Arch Linux'],
    [{ VERSION_ID: ' 9 ' }, '9'],
    [{}, 'unknown'],
  ])('%j -> %s', (fields, expected) => {
    expect(formatOsInfo(fields)).toBe(expected);
  });
});

describe('readHostInfo', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostagent-info-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('uses the kernel names, as the historical agent did, and os-release', async () => {
    const path = join(dir, 'os-release');
    await writeFile(path, 'NAME="Rocky Linux"\nVERSION_ID="9.3"\n');
    const info = await readHostInfo({ osReleasePath: path });
    expect(info).toEqual({
      hostname: os.hostname(),
      os_family: os.type(),
      arch: os.machine(),
      os_info: 'Rocky Linux 9.3',
    });
    expect(info.os_family).toBe('Linux');
    expect(info.arch).not.toBe('x64');
  });

  it('says unknown without an os-release file', async () => {
    const info = await readHostInfo({ osReleasePath: join(dir, 'missing') });
    expect(info.os_info).toBe('unknown');
  });

  it('reads this machine by default', async () => {
    const info = await readHostInfo();
    expect(info.os_info).not.toBe('');
  });
});

describe('createHostIdentity', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostagent-ident-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('computes once and returns the same promise afterwards', async () => {
    const net = join(dir, 'net');
    await writeFile(join(dir, 'os-release'), 'NAME=Test\n');
    await mkdir(join(net, 'eth0'), { recursive: true });
    await writeFile(join(net, 'eth0', 'address'), '52:54:00:00:00:01\n');

    const identity = createHostIdentity({ override: '', sysClassNet: net, osReleasePath: join(dir, 'os-release') });
    const first = identity.hostId();
    expect(identity.hostId()).toBe(first);
    await expect(first).resolves.toBe('52:54:00:00:00:01');

    // Changing the tree afterwards does not change the cached id.
    await writeFile(join(net, 'eth0', 'address'), '52:54:00:00:00:02\n');
    await expect(identity.hostId()).resolves.toBe('52:54:00:00:00:01');

    const info = identity.info();
    expect(identity.info()).toBe(info);
    expect((await info).os_info).toBe('Test');
  });

  it('does not cache a failure', async () => {
    const net = join(dir, 'net');
    const identity = createHostIdentity({ override: '', sysClassNet: net });
    await expect(identity.hostId()).rejects.toMatchObject({ code: 'HOST_ID_UNAVAILABLE' });

    await mkdir(join(net, 'eth0'), { recursive: true });
    await writeFile(join(net, 'eth0', 'address'), '52:54:00:00:00:03\n');
    await expect(identity.hostId()).resolves.toBe('52:54:00:00:00:03');
  });

  it('returns the override', async () => {
    const identity = createHostIdentity({ override: 'clone-17', sysClassNet: join(dir, 'none') });
    await expect(identity.hostId()).resolves.toBe('clone-17');
  });
});
