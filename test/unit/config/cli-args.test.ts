import { describe, expect, it } from 'vitest';
import { AGENT_USAGE, parseAgentArgs } from '../../../src/config/cli-args.js';
import { UsageError } from '../../../src/errors.js';

function usageErrorOf(argv: string[]): UsageError {
  try {
    parseAgentArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('parseAgentArgs', () => {
  it('defaults to nothing set', () => {
    expect(parseAgentArgs([])).toEqual({ sets: [], printConfig: false, version: false, help: false });
  });

  it('reads --config and -c', () => {
    expect(parseAgentArgs(['--config', '/x.conf']).configFile).toBe('/x.conf');
    expect(parseAgentArgs(['-c', '/y.conf']).configFile).toBe('/y.conf');
    expect(parseAgentArgs(['--config=/z.conf']).configFile).toBe('/z.conf');
  });

  it('collects repeated --set in order', () => {
    expect(parseAgentArgs(['--set', 'amqp.prefetch=1', '--set=amqp.prefetch=2', '--set', 'log.level=debug']).sets).toEqual([
      'amqp.prefetch=1',
      'amqp.prefetch=2',
      'log.level=debug',
    ]);
  });

  it('keeps "=" inside a --set value', () => {
    expect(parseAgentArgs(['--set', 'amqp.url=amqp://h/?a=b']).sets).toEqual(['amqp.url=amqp://h/?a=b']);
  });

  it('reads the boolean flags, long and short', () => {
    expect(parseAgentArgs(['--print-config'])).toMatchObject({ printConfig: true, version: false, help: false });
    expect(parseAgentArgs(['-V'])).toMatchObject({ version: true });
    expect(parseAgentArgs(['--version'])).toMatchObject({ version: true });
    expect(parseAgentArgs(['-h'])).toMatchObject({ help: true });
    expect(parseAgentArgs(['--help'])).toMatchObject({ help: true });
  });

  it('rejects unknown flags', () => {
    const err = usageErrorOf(['--frobnicate']);
    expect(err.code).toBe('USAGE');
    expect(err.message).toBe('unknown option --frobnicate; see --help');
  });

  it('rejects positional arguments and missing values', () => {
    expect(usageErrorOf(['extra']).message).toMatch(/Unexpected argument 'extra'/);
    expect(usageErrorOf(['--config']).message).toMatch(/--config <value>' argument missing/);
    expect(usageErrorOf(['--config=']).message).toBe('--config needs a file path; see --help');
  });

  it('rejects a --set without "="', () => {
    expect(usageErrorOf(['--set', 'amqp.prefetch']).message).toBe('--set "amqp.prefetch" is not key=value');
  });

  it('rejects a --set of an unknown key without echoing its value', () => {
    const err = usageErrorOf(['--set', 'amqp.password=hunter2']);
    expect(err.message).toMatch(/^--set "amqp.password": unknown config key \(known keys: amqp.url, /);
    expect(err.message).not.toContain('hunter2');
  });

  it('rejects historical alias names in --set', () => {
    expect(usageErrorOf(['--set', 'ssl.disable=true']).message).toMatch(/unknown config key/);
  });

  it('has a usage text naming every flag', () => {
    for (const flag of ['--config', '-c', '--set', '--print-config', '--version', '-V', '--help', '-h']) {
      expect(AGENT_USAGE).toContain(flag);
    }
  });
});
