import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { DEFAULT_TIMEOUTS, parseCtlArgs } from '../../../src/cli/bbonectl/args.js';

describe('parseCtlArgs', () => {
  it('reads global options anywhere and the command with its defaults', () => {
    expect(parseCtlArgs(['--config', '/tmp/x.conf', 'hosts', '--set', 'amqp.url=amqp://h', '--json'])).toEqual({
      configFile: '/tmp/x.conf',
      sets: ['amqp.url=amqp://h'],
      help: false,
      version: false,
      command: { name: 'hosts', json: true, watch: false, timeoutS: DEFAULT_TIMEOUTS.hosts },
    });
  });

  it('ping takes host ids (deduplicated) or --all', () => {
    expect(parseCtlArgs(['ping', 'A', 'B', 'A', '--timeout', '2.5']).command).toEqual({ name: 'ping', hosts: ['A', 'B'], all: false, timeoutS: 2.5 });
    expect(parseCtlArgs(['ping', '--all']).command).toEqual({ name: 'ping', hosts: [], all: true, timeoutS: 5 });
    expect(() => parseCtlArgs(['ping'])).toThrow(/HOST_ID\.\.\. or --all/);
    expect(() => parseCtlArgs(['ping', 'A', '--all'])).toThrow(/not both/);
  });

  it('set-config takes HOST_ID and FILE or -, with a 300 s default wait', () => {
    expect(parseCtlArgs(['set-config', 'AA:BB', '-', '--wait']).command).toEqual({ name: 'set-config', host: 'AA:BB', file: '-', wait: true, timeoutS: 300 });
    expect(() => parseCtlArgs(['set-config', 'AA:BB'])).toThrow(/HOST_ID and FILE/);
    expect(() => parseCtlArgs(['set-config', 'AA:BB', 'f', 'g'])).toThrow(/got also "g"/);
  });

  it('lb upper-cases a known action and takes an optional file', () => {
    expect(parseCtlArgs(['lb', 'H', 'discover']).command).toEqual({ name: 'lb', host: 'H', action: 'DISCOVER', file: undefined, timeoutS: 30 });
    expect(parseCtlArgs(['lb', 'H', 'UPDATE', 'lb.json']).command).toMatchObject({ action: 'UPDATE', file: 'lb.json' });
    expect(() => parseCtlArgs(['lb', 'H', 'REBOOT'])).toThrow(/unknown lb action "REBOOT"/);
  });

  it('refuses options a command does not take, bad timeouts, unknown commands and options', () => {
    const cases: Array<[string[], RegExp]> = [
      [['ping', 'A', '--wait'], /ping takes no --wait/],
      [['hosts', '--all'], /hosts takes no --all/],
      [['hosts', '--json', '--watch'], /do not go together/],
      [['hosts', 'extra'], /no arguments/],
      [['ping', 'A', '--timeout', '0'], /--timeout "0" is not a positive number/],
      [['ping', 'A', '--timeout', 'soon'], /not a positive number/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['hosts', '--bogus'], /unknown option --bogus/],
      [[], /a command is needed/],
      [['ping', ' '], /is not a host id/],
      [['hosts', '--set', 'no.such.key=1'], /unknown config key/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseCtlArgs(argv), argv.join(' ')).toThrow(message);
      expect(() => parseCtlArgs(argv)).toThrow(UsageError);
    }
  });

  it('--help and --version need no command', () => {
    expect(parseCtlArgs(['--help'])).toMatchObject({ help: true });
    expect(parseCtlArgs(['-V']).command).toBeUndefined();
  });
});
