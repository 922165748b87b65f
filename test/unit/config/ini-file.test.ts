import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIni, readConfigFile } from '../../../src/config/ini-file.js';
import { ConfigError } from '../../../src/errors.js';

function entriesOf(text: string) {
  return parseIni(text, 'file t.conf').entries;
}

describe('parseIni', () => {
  it('reads sections and keys in file order', () => {
    expect(entriesOf('[hostagent]\nheartbeat_period = 60\n\n[amqp]\nhost=broker\n')).toEqual([
      { section: 'hostagent', key: 'heartbeat_period', value: '60' },
      { section: 'amqp', key: 'host', value: 'broker' },
    ]);
  });

  it('keeps a dotted section name as written instead of nesting it', () => {
    expect(entriesOf('[amqp.tls]\nca = /etc/ca.pem\n[amqp]\ntls.cert = /etc/c.pem\n')).toEqual([
      { section: 'amqp.tls', key: 'ca', value: '/etc/ca.pem' },
      { section: 'amqp', key: 'tls.cert', value: '/etc/c.pem' },
    ]);
  });

  it('keeps # and ; inside a value, as the historical ConfigParser did', () => {
    expect(entriesOf('[amqp]\npassword = s3cr#t;x\n')).toEqual([{ section: 'amqp', key: 'password', value: 's3cr#t;x' }]);
  });

  it('treats " ;" after a value as an inline comment', () => {
    expect(entriesOf('[log]\nlevel = debug   ; noisy\n')[0]?.value).toBe('debug');
  });

  it('skips full-line comments starting with # or ;', () => {
    expect(entriesOf('# top\n[log]\n; level = debug\n  # level = trace\nlevel = warn\n')).toEqual([
      { section: 'log', key: 'level', value: 'warn' },
    ]);
  });

  it('accepts "key: value", lower-cases key names and keeps quotes and backslashes', () => {
    expect(entriesOf('[amqp]\nHost: broker\nvirtual_host = "a\\b"\n')).toEqual([
      { section: 'amqp', key: 'host', value: 'broker' },
      { section: 'amqp', key: 'virtual_host', value: '"a\\b"' },
    ]);
  });

  it('keeps a value that splits at the first "=" or ":" only', () => {
    expect(entriesOf('[amqp]\nurl = amqp://u:p@h:5672/?x=1\n')[0]?.value).toBe('amqp://u:p@h:5672/?x=1');
  });

  it('gives true, false and null back as the text written', () => {
    expect(entriesOf('[ssl]\ndisable=True\n[a]\nb=true\nc=null\n').map((e) => e.value)).toEqual(['True', 'true', 'null']);
  });

  it('lets a repeated key win over the earlier one, with a warning', () => {
    const parsed = parseIni('[amqp]\nhost = a\n[hostagent]\nx=1\n[amqp]\nhost = b\n', 'file t.conf');
    expect(parsed.entries.filter((e) => e.key === 'host')).toEqual([{ section: 'amqp', key: 'host', value: 'b' }]);
    expect(parsed.warnings).toEqual(['file t.conf line 6: [amqp] host given again; this later value wins']);
  });

  it('warns about lines outside a section or without a separator, without echoing them', () => {
    const parsed = parseIni('password = leaked\n[amqp]\npassword hunter2\nhost = h\n', 'file t.conf');
    expect(parsed.entries).toEqual([{ section: 'amqp', key: 'host', value: 'h' }]);
    expect(parsed.warnings).toEqual([
      'file t.conf line 1: key outside any [section]; ignored',
      'file t.conf line 3: not "key = value" nor "[section]"; ignored',
    ]);
    expect(parsed.warnings.join('\n')).not.toMatch(/leaked|hunter2/);
  });

  it('handles CRLF line ends and an empty value', () => {
    expect(entriesOf('[amqp]\r\nqueue_name =\r\nexchange = x\r\n')).toEqual([
      { section: 'amqp', key: 'queue_name', value: '' },
      { section: 'amqp', key: 'exchange', value: 'x' },
    ]);
  });
});

describe('readConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostagent-ini-'));

  it('returns the text of an existing file', () => {
    const path = join(dir, 'ok.conf');
    writeFileSync(path, '[log]\nlevel=debug\n');
    expect(readConfigFile(path, true)).toEqual({ text: '[log]\nlevel=debug\n', warnings: [] });
  });

  it('tolerates a missing file that was not required, with a warning', () => {
    const path = join(dir, 'absent.conf');
    const read = readConfigFile(path, false);
    expect(read.text).toBeUndefined();
    expect(read.warnings).toEqual([`config file ${path} not found; using defaults, environment and --set`]);
  });

  it('throws a ConfigError naming the path when a required file is missing', () => {
    const path = join(dir, 'absent.conf');
    expect(() => readConfigFile(path, true)).toThrow(ConfigError);
    expect(() => readConfigFile(path, true)).toThrow(`cannot read config file ${path}: no such file`);
  });

  it('throws even when not required if the path exists but cannot be read', () => {
    expect(() => readConfigFile(dir, false)).toThrow(`cannot read config file ${dir}: is a directory`);
  });
});
