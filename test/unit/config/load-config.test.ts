import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE, loadConfig, resolveConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/historical-hostagent.conf', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hostagent-config-'));
let fileCount = 0;

function confFile(text: string): string {
  const path = join(dir, `c${++fileCount}.conf`);
  writeFileSync(path, text);
  return path;
}

function fromFile(text: string, env: Record<string, string> = {}, sets: string[] = []) {
  return resolveConfig({ file: { path: '/etc/h.conf', text }, env, sets });
}

describe('precedence', () => {
  const file = '[hostagent]\nheartbeat_period = 20\n';

  it('takes a file value over the default', () => {
    const { config, origins } = fromFile(file);
    expect(config.hostagent.heartbeat_period).toBe(20);
    expect(origins['hostagent.heartbeat_period']).toBe('file /etc/h.conf [hostagent] heartbeat_period');
    expect(origins['hostagent.max_converge_attempts']).toBe('default');
  });

  it('takes env over the file', () => {
    const { config, origins } = fromFile(file, { HOSTAGENT_HEARTBEAT_PERIOD: '30' });
    expect(config.hostagent.heartbeat_period).toBe(30);
    expect(origins['hostagent.heartbeat_period']).toBe('env HOSTAGENT_HEARTBEAT_PERIOD');
  });

  it('takes --set over env', () => {
    const { config, origins } = fromFile(file, { HOSTAGENT_HEARTBEAT_PERIOD: '30' }, ['hostagent.heartbeat_period=40']);
    expect(config.hostagent.heartbeat_period).toBe(40);
    expect(origins['hostagent.heartbeat_period']).toBe('--set');
  });

  it('lets the last of several --set win', () => {
    const { config } = resolveConfig({ env: {}, sets: ['amqp.prefetch=2', 'amqp.prefetch=3', 'amqp.prefetch=4'] });
    expect(config.amqp.prefetch).toBe(4);
  });

  it('ignores env variables other than the keys\' names', () => {
    const { config } = resolveConfig({ env: { HEARTBEAT_PERIOD: '5', HOSTAGENT_HOSTAGENT_HEARTBEAT_PERIOD: '5' }, sets: [] });
    expect(config.hostagent.heartbeat_period).toBe(60);
  });

  it('takes an empty env value as a value, not as unset', () => {
    const { config } = fromFile('[amqp]\nqueue_name = q1\n', { HOSTAGENT_AMQP_QUEUE_NAME: '' });
    expect(config.amqp.queue_name).toBe('');
  });
});

describe('new-style file keys', () => {
  it('reads [amqp.tls] ca and [amqp] tls.cert alike', () => {
    const { config, origins } = fromFile('[amqp.tls]\nca = /ca.pem\n[amqp]\ntls.cert = /cert.pem\n');
    expect(config.amqp.tls.ca).toBe('/ca.pem');
    expect(config.amqp.tls.cert).toBe('/cert.pem');
    expect(origins['amqp.tls.ca']).toBe('file /etc/h.conf [amqp.tls] ca');
    expect(origins['amqp.tls.cert']).toBe('file /etc/h.conf [amqp] tls.cert');
  });

  it('coerces booleans, numbers and enums', () => {
    const { config } = fromFile(
      '[amqp]\ndurable = yes\nqueue_type = quorum\nheartbeat = 0\nconnect_timeout = 2.5\n[amqp.tls]\nverify = Off\n[hostagent]\nconnection_retry_period = 0.05\n',
    );
    expect(config.amqp).toMatchObject({ durable: true, queue_type: 'quorum', heartbeat: 0, connect_timeout: 2.5 });
    expect(config.amqp.tls.verify).toBe(false);
    expect(config.hostagent.connection_retry_period).toBe(0.05);
  });

  it('warns once per unknown key and carries on', () => {
    const { warnings } = fromFile('[hostagent]\nhypervisor_type = kvm\n[download]\nprotocol = http\n[amqp]\nurll = x\n');
    expect(warnings).toEqual([
      'file /etc/h.conf [hostagent] hypervisor_type: unknown key; ignored',
      'file /etc/h.conf [download] protocol: unknown key; ignored',
      'file /etc/h.conf [amqp] urll: unknown key; ignored',
    ]);
  });
});

describe('historical aliases', () => {
  it.each([
    ['[ssl]\nca_certs = /c.pem', 'amqp.tls.ca', '/c.pem'],
    ['[ssl]\nkeyfile = /k.pem', 'amqp.tls.key', '/k.pem'],
    ['[amqp]\namqp_heartbeat_interval = 45', 'amqp.heartbeat', 45],
    ['[amqp]\nqueue_name = q-old', 'amqp.queue_name', 'q-old'],
    ['[amqp]\nconnect_timeout = 4', 'amqp.connect_timeout', 4],
    ['[hostagent]\nconnection_retry_period = 3', 'hostagent.connection_retry_period', 3],
    ['[hostagent]\nmax_converge_attempts = 5', 'hostagent.max_converge_attempts', 5],
    ['[hostagent]\ndesired_config_basedir_path = /srv/state', 'hostagent.state_dir', '/srv/state'],
    ['[hostagent]\napp_cache_dir = /srv/cache', 'packages.cache_dir', '/srv/cache'],
    ['[hostagent]\nlog_level_name = WARNING', 'log.level', 'warn'],
    ['[hostagent]\nlog_level_name = CRITICAL', 'log.level', 'fatal'],
  ])('%j sets %s', (text, key, value) => {
    const { config, origins } = fromFile(`${text}\n`);
    const actual = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], config);
    expect(actual).toBe(value);
    expect(origins[key]).toMatch(/^file \/etc\/h\.conf \[\w+\] \w+$/);
  });

  it('inverts [ssl] disable into amqp.tls.enabled', () => {
    expect(fromFile('[ssl]\ndisable = True\n').config.amqp.tls.enabled).toBe(false);
    expect(fromFile('[ssl]\ndisable = False\n').config.amqp.tls.enabled).toBe(true);
  });

  it('turns TLS on for [ssl] certfile without disable, as the historical agent did', () => {
    const { config, origins } = fromFile('[ssl]\ncertfile = /c.pem\nkeyfile = /k.pem\nca_certs = /ca.pem\n');
    expect(config.amqp.tls).toEqual({ enabled: true, ca: '/ca.pem', cert: '/c.pem', key: '/k.pem', verify: true });
    expect(origins['amqp.tls.enabled']).toBe('file /etc/h.conf [ssl] certfile');
    expect(config.amqp.url).toBe('amqps://guest:guest@localhost:5671/');
  });

  it('lets a new key in the same file win over its alias, whatever the order, with a warning', () => {
    const { config, warnings } = fromFile('[amqp.tls]\nca = /new.pem\n[ssl]\nca_certs = /old.pem\n');
    expect(config.amqp.tls.ca).toBe('/new.pem');
    expect(warnings).toEqual(['file /etc/h.conf [ssl] ca_certs: ignored, amqp.tls.ca is given as file /etc/h.conf [amqp.tls] ca']);
  });

  it('lets env and --set win over an alias', () => {
    expect(fromFile('[hostagent]\napp_cache_dir = /old\n', { HOSTAGENT_PACKAGES_CACHE_DIR: '/env' }).config.packages.cache_dir).toBe('/env');
    expect(fromFile('[ssl]\ndisable = False\n', {}, ['amqp.tls.enabled=false']).config.amqp.tls.enabled).toBe(false);
  });
});

describe('amqp.url from [amqp] host, port, username, password, virtual_host', () => {
  it('composes and URL-encodes the parts', () => {
    const { config, origins } = fromFile('[amqp]\nhost = broker.example\nport = 5673\nusername = a@b\npassword = p:w/d#1\nvirtual_host = /\n');
    expect(config.amqp.url).toBe('amqp://a%40b:p%3Aw%2Fd%231@broker.example:5673/%2F');
    expect(origins['amqp.url']).toBe('file /etc/h.conf [amqp] host, port, username, password, virtual_host');
  });

  it('takes guest, localhost and the default port for missing parts', () => {
    expect(fromFile('[amqp]\nhost = b\n').config.amqp.url).toBe('amqp://guest:guest@b:5672/');
    expect(fromFile('[amqp]\npassword = x\n').config.amqp.url).toBe('amqp://guest:x@localhost:5672/');
  });

  it('brackets an IPv6 host', () => {
    expect(fromFile('[amqp]\nhost = fd00::1\n').config.amqp.url).toBe('amqp://guest:guest@[fd00::1]:5672/');
  });

  it('uses amqps and port 5671 with TLS, wherever TLS was enabled', () => {
    expect(fromFile('[amqp]\nhost = b\n[ssl]\ndisable = false\n').config.amqp.url).toBe('amqps://guest:guest@b:5671/');
    expect(fromFile('[amqp]\nhost = b\n', { HOSTAGENT_AMQP_TLS_ENABLED: 'true' }).config.amqp.url).toBe('amqps://guest:guest@b:5671/');
    expect(fromFile('[amqp]\nhost = b\nport = 5000\n[amqp.tls]\nenabled = 1\n').config.amqp.url).toBe('amqps://guest:guest@b:5000/');
  });

  it('is ignored when amqp.url is given, with a warning when in the same file', () => {
    const same = fromFile('[amqp]\nurl = amqp://u:p@new/\nhost = old\npassword = secret\n');
    expect(same.config.amqp.url).toBe('amqp://u:p@new/');
    expect(same.warnings).toEqual(['file /etc/h.conf [amqp] host, password: ignored, amqp.url is given as file /etc/h.conf [amqp] url']);
    expect(fromFile('[amqp]\nhost = old\n', { HOSTAGENT_AMQP_URL: 'amqp://env/' }).config.amqp.url).toBe('amqp://env/');
    expect(fromFile('[amqp]\nhost = old\n', {}, ['amqp.url=amqp://set/']).config.amqp.url).toBe('amqp://set/');
  });
});

describe('URL scheme and amqp.tls.enabled agree', () => {
  it('an amqps:// URL turns TLS on', () => {
    const { config, origins, warnings } = resolveConfig({ env: { HOSTAGENT_AMQP_URL: 'amqps://u:p@h/' }, sets: [] });
    expect(config.amqp.tls.enabled).toBe(true);
    expect(origins['amqp.tls.enabled']).toBe('implied by amqp.url (amqps://, from env HOSTAGENT_AMQP_URL)');
    expect(warnings).toEqual([]);
  });

  it('an amqps:// URL overrides an explicit tls.enabled=false, with a warning', () => {
    const { config, warnings } = resolveConfig({ env: { HOSTAGENT_AMQP_URL: 'amqps://u:p@h/' }, sets: ['amqp.tls.enabled=false'] });
    expect(config.amqp.tls.enabled).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/amqp.tls.enabled is false \(from --set\) but amqp.url is amqps:\/\//);
  });

  it('an explicit amqp:// URL with TLS enabled becomes amqps://, same port, with a warning', () => {
    const { config, warnings } = resolveConfig({ env: { HOSTAGENT_AMQP_URL: 'amqp://u:p@h:5672/v' }, sets: ['amqp.tls.enabled=true'] });
    expect(config.amqp.url).toBe('amqps://u:p@h:5672/v');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain(':p@');
  });

  it('the default URL becomes amqps on port 5671 when TLS is enabled', () => {
    const { config, warnings } = resolveConfig({ env: { HOSTAGENT_AMQP_TLS_ENABLED: 'yes' }, sets: [] });
    expect(config.amqp.url).toBe('amqps://guest:guest@localhost:5671/');
    expect(warnings).toEqual([]);
  });
});

describe('the historical fixture', () => {
  it('loads into the expected config, warning about keys the agent no longer uses', () => {
    const { config, warnings, origins } = loadConfig({ file: FIXTURE, fileRequired: true, env: {}, sets: [] });
    expect(config.amqp.url).toBe('amqp://guest:guest@localhost:5672/');
    expect(config.amqp.tls.enabled).toBe(false);
    expect(config.hostagent).toMatchObject({ heartbeat_period: 60, connection_retry_period: 10, max_converge_attempts: 30 });
    expect(config.packages.cache_dir).toBe('/var/cache/pf9apps');
    expect(config.log.level).toBe('info');
    expect(origins['log.level']).toBe(`file ${FIXTURE} [hostagent] log_level_name`);
    const unknown = warnings.map((w) => /\[(\w+)\] (\w+): unknown key/.exec(w)?.slice(1, 3).join(' '));
    expect(unknown).toEqual([
      'hostagent log_rotate_max_count',
      'hostagent log_rotate_max_size',
      'hostagent log_file_name',
      'hostagent hypervisor_type',
      'ssl cert_version',
      'download protocol',
      'download port',
      'du is_container',
    ]);
  });
});

describe('loadConfig and the file', () => {
  it('reads the given file', () => {
    const path = confFile('[log]\nlevel = DEBUG\n');
    const { config, origins } = loadConfig({ file: path, fileRequired: true, env: {}, sets: [] });
    expect(config.log.level).toBe('debug');
    expect(origins['log.level']).toBe(`file ${path} [log] level`);
  });

  it('throws a ConfigError naming an explicit file that is missing', () => {
    const path = join(dir, 'missing.conf');
    expect(() => loadConfig({ file: path, fileRequired: true, env: {}, sets: [] })).toThrow(ConfigError);
    expect(() => loadConfig({ file: path, fileRequired: true, env: {}, sets: [] })).toThrow(path);
  });

  it('tolerates a missing file that is not required, with a warning first', () => {
    const path = join(dir, 'missing.conf');
    const { config, warnings } = loadConfig({ file: path, env: {}, sets: ['amqp.prefetch=9'] });
    expect(config.amqp.prefetch).toBe(9);
    expect(warnings[0]).toBe(`config file ${path} not found; using defaults, environment and --set`);
  });

  it('tolerates a missing default file (/etc/pf9/hostagent.conf), with a warning', () => {
    expect(DEFAULT_CONFIG_FILE).toBe('/etc/pf9/hostagent.conf');
    // Pointed elsewhere so the machine's own /etc/pf9 cannot change the outcome.
    const absent = join(dir, 'absent-default.conf');
    const { warnings } = loadConfig({ env: {}, sets: [], defaultFile: absent });
    expect(warnings).toEqual([`config file ${absent} not found; using defaults, environment and --set`]);
  });

  it('honours HOSTAGENT_CONFIG_FILE when no file is given, and then requires it', () => {
    const path = confFile('[amqp]\nexchange = from-env-file\n');
    expect(loadConfig({ env: { HOSTAGENT_CONFIG_FILE: path }, sets: [] }).config.amqp.exchange).toBe('from-env-file');
    const missing = join(dir, 'nope.conf');
    expect(() => loadConfig({ env: { HOSTAGENT_CONFIG_FILE: missing }, sets: [] })).toThrow(missing);
  });

  it('returns a deeply frozen config', () => {
    const { config } = loadConfig({ file: confFile('[log]\nlevel=info\n'), env: {}, sets: [] });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.amqp.tls)).toBe(true);
    expect(() => {
      (config.amqp.tls as { enabled: boolean }).enabled = true;
    }).toThrow(TypeError);
  });
});
