import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/errors.js';
import { findUnitFile, loadUnit, parseUnitFile } from '../../../src/services/unit-file.js';
import { expandArgv } from '../../../src/services/unit-words.js';

const unit = (...service: string[]): string => ['[Unit]', 'Description=test', '', '[Service]', ...service, '', '[Install]', 'WantedBy=multi-user.target'].join('\n');

/** argv as the supervisor would run it: parsed, then variables substituted from Environment=. */
function argvOf(text: string, env?: Record<string, string>): string[] {
  const spec = parseUnitFile(text, { unitName: 'pf9-foo.service' });
  return spec.execStart.noSubstitution ? spec.execStart.argv : expandArgv(spec.execStart.argv, env ?? spec.environment);
}

describe('parseUnitFile: ExecStart words', () => {
  const cases: Array<[string, string, string[]]> = [
    ['plain words', 'ExecStart=/opt/pf9/foo/bin/foo --port 8080', ['/opt/pf9/foo/bin/foo', '--port', '8080']],
    ['runs of blanks', 'ExecStart=/bin/x \t a   b', ['/bin/x', 'a', 'b']],
    ['double quotes keep blanks', 'ExecStart=/bin/x "a b" c', ['/bin/x', 'a b', 'c']],
    ['single quotes', "ExecStart=/bin/x 'a \"b\"'", ['/bin/x', 'a "b"']],
    ['quotes inside a word', 'ExecStart=/bin/x --opt="a b"c', ['/bin/x', '--opt=a bc']],
    ['empty quoted word', 'ExecStart=/bin/x "" b', ['/bin/x', '', 'b']],
    ['C escapes', 'ExecStart=/bin/x a\\tb "c\\nd" \\x41\\101 e\\sf', ['/bin/x', 'a\tb', 'c\nd', 'AA', 'e f']],
    ['escaped quote and backslash', 'ExecStart=/bin/x "a\\"b" c\\\\d', ['/bin/x', 'a"b', 'c\\d']],
    ['backslash-space joins', 'ExecStart=/bin/x a\\ b', ['/bin/x', 'a b']],
    ['bare program name', 'ExecStart=sleep 1', ['sleep', '1']],
    ['specifiers', 'ExecStart=/bin/x %n %N %p %t/%N.sock 100%%', ['/bin/x', 'pf9-foo.service', 'pf9-foo', 'pf9-foo', '/run/pf9-foo.sock', '100%']],
  ];
  it.each(cases)('%s', (_name, line, argv) => {
    expect(argvOf(unit(line))).toEqual(argv);
  });
});

describe('parseUnitFile: variables in ExecStart', () => {
  const env = 'Environment="OPTS=-a  -b \'c d\'" NAME=world EMPTY=';
  const cases: Array<[string, string, string[]]> = [
    ['$VAR alone splits at blanks, honouring quotes', 'ExecStart=/bin/x $OPTS', ['/bin/x', '-a', '-b', 'c d']],
    ['${VAR} alone is one word', 'ExecStart=/bin/x ${OPTS}', ['/bin/x', "-a  -b 'c d'"]],
    ['${VAR} inside a word', 'ExecStart=/bin/x --name=${NAME}!', ['/bin/x', '--name=world!']],
    ['$VAR inside a word stays as written', 'ExecStart=/bin/x a$NAME', ['/bin/x', 'a$NAME']],
    ['$$ is a dollar', 'ExecStart=/bin/x $$NAME cost$$', ['/bin/x', '$NAME', 'cost$']],
    ['unset $VAR alone vanishes', 'ExecStart=/bin/x $UNSET b', ['/bin/x', 'b']],
    ['unset or empty ${VAR} is an empty word', 'ExecStart=/bin/x ${UNSET} ${EMPTY}', ['/bin/x', '', '']],
    ['quoted $VAR still splits (quotes are gone before substitution)', 'ExecStart=/bin/x "$OPTS"', ['/bin/x', '-a', '-b', 'c d']],
    ['":" prefix turns substitution off', 'ExecStart=:/bin/x $NAME ${NAME}', ['/bin/x', '$NAME', '${NAME}']],
  ];
  it.each(cases)('%s', (_name, line, argv) => {
    expect(argvOf(unit(env, line))).toEqual(argv);
  });

  it('substitutes from the environment given at start time (EnvironmentFile, PF9_ROOT)', () => {
    expect(argvOf(unit('ExecStart=/bin/x --root=${PF9_ROOT}'), { PF9_ROOT: '/tmp/r' })).toEqual(['/bin/x', '--root=/tmp/r']);
  });
});

describe('parseUnitFile: ExecStart prefixes', () => {
  const cases: Array<[string, { path: string; argv: string[]; ignoreFailure: boolean; keepCredentials: boolean; noSubstitution: boolean }]> = [
    ['-/bin/x a', { path: '/bin/x', argv: ['/bin/x', 'a'], ignoreFailure: true, keepCredentials: false, noSubstitution: false }],
    ['@/bin/x myname a', { path: '/bin/x', argv: ['myname', 'a'], ignoreFailure: false, keepCredentials: false, noSubstitution: false }],
    ['-@/bin/x n', { path: '/bin/x', argv: ['n'], ignoreFailure: true, keepCredentials: false, noSubstitution: false }],
    ['+/bin/x', { path: '/bin/x', argv: ['/bin/x'], ignoreFailure: false, keepCredentials: true, noSubstitution: false }],
    ['!/bin/x', { path: '/bin/x', argv: ['/bin/x'], ignoreFailure: false, keepCredentials: true, noSubstitution: false }],
    ['!!-/bin/x', { path: '/bin/x', argv: ['/bin/x'], ignoreFailure: true, keepCredentials: true, noSubstitution: false }],
    [':/bin/x $A', { path: '/bin/x', argv: ['/bin/x', '$A'], ignoreFailure: false, keepCredentials: false, noSubstitution: true }],
  ];
  it.each(cases)('ExecStart=%s', (line, expected) => {
    expect(parseUnitFile(unit(`ExecStart=${line}`)).execStart).toEqual(expected);
  });

  const refused: Array<[string, RegExp]> = [
    ['|/bin/x', /prefix "\|"/],
    ['+!/bin/x', /cannot be combined/],
    ['@/bin/x', /"@" needs argv\[0\]/],
    ['-', /no program/],
    ['bin/x', /absolute path or a plain name/],
    ['/bin/a ; /bin/b', /separated by ";"/],
    ['/bin/x "open', /unterminated " quote/],
    ['/bin/x \\q', /invalid escape \\q/],
    ['/bin/x %H', /specifier %H is not supported/],
  ];
  it.each(refused)('refuses ExecStart=%s', (line, message) => {
    const run = (): unknown => parseUnitFile(unit(`ExecStart=${line}`), { unitName: 'pf9-foo.service' });
    expect(run).toThrow(message);
    expect(run).toThrow(AgentError);
  });
});

describe('parseUnitFile: file syntax and other keys', () => {
  it('joins continuation lines, skips comments (also inside a continuation), ignores other sections and unknown keys', () => {
    const spec = parseUnitFile(
      [
        '# a comment',
        '; another',
        '[Unit]',
        'ExecStart=/not/this/section',
        '[Service]',
        'Description=ignored',
        'ExecStart=/bin/x a \\',
        '  # comment inside the continuation',
        '  b \\',
        '  c',
        'LimitNOFILE=1024',
        '  User = svc  ',
      ].join('\n'),
    );
    expect(spec.execStart.argv).toEqual(['/bin/x', 'a', 'b', 'c']);
    expect(spec.user).toBe('svc');
    expect(spec.warnings).toEqual([]);
  });

  it('merges Environment= lines in order; empty resets; invalid pairs are warnings', () => {
    const spec = parseUnitFile(
      unit('Environment=A=1 B=2', 'Environment=', 'Environment="C=x y" D=\'q "r"\' A=3', 'Environment=E=\\x41 1BAD=x NOEQ', 'Environment=A=4', 'ExecStart=/bin/x'),
    );
    expect(spec.environment).toEqual({ C: 'x y', D: 'q "r"', A: '4', E: 'A' });
    expect(spec.warnings).toHaveLength(2);
    expect(spec.warnings[0]).toMatch(/invalid assignment "1BAD=x"/);
  });

  it('reads EnvironmentFile=, User, Group, WorkingDirectory with their prefixes', () => {
    const spec = parseUnitFile(
      unit('ExecStart=/bin/x', 'EnvironmentFile=/etc/default/foo', 'EnvironmentFile=-/etc/sysconfig/%N', 'User=pf9', 'Group=pf9group', 'WorkingDirectory=-/var/lib/foo'),
      { unitName: 'pf9-foo.service' },
    );
    expect(spec.environmentFiles).toEqual([
      { path: '/etc/default/foo', optional: false },
      { path: '/etc/sysconfig/pf9-foo', optional: true },
    ]);
    expect(spec).toMatchObject({ user: 'pf9', group: 'pf9group', workingDirectory: { path: '/var/lib/foo', optional: true } });
  });

  it.each([
    ['defaults', [], { restart: 'no', restartSecMs: 100, type: 'simple' }],
    ['on-failure, 5 s', ['Restart=on-failure', 'RestartSec=5'], { restart: 'on-failure', restartSecMs: 5000 }],
    ['always, 250ms', ['Restart=always', 'RestartSec=250ms'], { restart: 'always', restartSecMs: 250 }],
    ['compound span', ['RestartSec=1min 30s'], { restartSecMs: 90_000 }],
    ['Type=exec', ['Type=exec'], { type: 'exec' }],
    ['Type=notify (run as exec by the supervisor)', ['Type=notify'], { type: 'notify' }],
  ] as Array<[string, string[], object]>)('Restart/RestartSec/Type: %s', (_name, lines, expected) => {
    expect(parseUnitFile(unit('ExecStart=/bin/x', ...lines))).toMatchObject({ ...expected, warnings: [] });
  });

  it('keeps defaults and warns on bad Restart=, RestartSec=, Type= values', () => {
    const spec = parseUnitFile(unit('ExecStart=/bin/x', 'Restart=sometimes', 'RestartSec=soon', 'Type=weird'));
    expect(spec).toMatchObject({ restart: 'no', restartSecMs: 100, type: 'simple' });
    expect(spec.warnings).toHaveLength(3);
  });

  it('an empty ExecStart= resets; none or two commands are refused', () => {
    expect(parseUnitFile(unit('ExecStart=/bin/a', 'ExecStart=', 'ExecStart=/bin/b')).execStart.path).toBe('/bin/b');
    expect(() => parseUnitFile(unit('User=x'), { source: '/r/x.service' })).toThrow('/r/x.service: [Service] has no ExecStart=');
    expect(() => parseUnitFile(unit('ExecStart=/bin/a', 'ExecStart=/bin/b'))).toThrow(/2 ExecStart= commands/);
  });

  it('accepts CRLF line ends', () => {
    expect(parseUnitFile('[Service]\r\nExecStart=/bin/x a\r\nUser=u\r\n')).toMatchObject({ execStart: { argv: ['/bin/x', 'a'] }, user: 'u' });
  });
});

describe('findUnitFile / loadUnit', () => {
  it('searches etc, usr/lib, lib under the root in that order, and templates for instances', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pf9-unit-'));
    try {
      for (const dir of ['etc/systemd/system', 'usr/lib/systemd/system', 'lib/systemd/system']) await mkdir(join(root, dir), { recursive: true });
      await writeFile(join(root, 'lib/systemd/system/a.service'), unit('ExecStart=/bin/lib'));
      await writeFile(join(root, 'usr/lib/systemd/system/a.service'), unit('ExecStart=/bin/usrlib'));
      await writeFile(join(root, 'lib/systemd/system/b.service'), unit('ExecStart=/bin/b'));
      await writeFile(join(root, 'etc/systemd/system/t@.service'), unit('ExecStart=/bin/t %i'));
      expect(await findUnitFile(root, 'a')).toBe(join(root, 'usr/lib/systemd/system/a.service'));
      expect(await findUnitFile(root, 'b.service')).toBe(join(root, 'lib/systemd/system/b.service'));
      expect(await findUnitFile(root, 'nope')).toBeUndefined();
      const t = await loadUnit(root, 't@one');
      expect(t.spec.execStart.argv).toEqual(['/bin/t', 'one']);
      await expect(loadUnit(root, 'nope')).rejects.toThrow(/no unit file nope\.service in .*etc\/systemd\/system/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
