/**
 * The daemon's command line. Only config-related flags live here; parsing is
 * strict so a mistyped flag stops the agent at once instead of being ignored
 * on a host nobody watches.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { DEFAULT_CONFIG_FILE } from './load-config.js';
import { parseSetArg } from './set-arg.js';

export interface AgentArgs {
  configFile?: string;
  sets: string[];
  printConfig: boolean;
  version: boolean;
  help: boolean;
}

export const AGENT_USAGE = `Usage: pf9-hostagent [options]

Runs the host agent: keeps this host's apps as its master desires them.

Options:
  -c, --config FILE      config file (default ${DEFAULT_CONFIG_FILE}, which may
                         be absent; a file given here must exist)
      --set KEY=VALUE    set one config key, e.g. --set hostagent.heartbeat_period=30;
                         repeatable, the later wins
      --print-config     print the effective configuration (secrets masked) and
                         where each value came from, then exit
  -V, --version          print the version and exit
  -h, --help             print this help and exit

Configuration precedence: defaults < config file < HOSTAGENT_* environment < --set.
Every key, its environment name and its historical alias: docs/configuration.md.
`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  set: { type: 'string', multiple: true },
  'print-config': { type: 'boolean' },
  version: { type: 'boolean', short: 'V' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usageMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | undefined)?.code;
  // Node's text for an unknown option goes on about positional arguments, which we take none of.
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(message)?.[1];
    if (option !== undefined) return `unknown option ${option}`;
  }
  return message;
}

export function parseAgentArgs(argv: string[]): AgentArgs {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(`${usageMessage(err)}; see --help`);
  }
  if (values.config === '') throw new UsageError('--config needs a file path; see --help');
  const sets = values.set ?? [];
  const bad = sets.map(parseSetArg).flatMap((set) => (set.ok ? [] : [set.message]));
  if (bad.length > 0) throw new UsageError(bad.join('\n'));
  const args: AgentArgs = {
    sets,
    printConfig: values['print-config'] ?? false,
    version: values.version ?? false,
    help: values.help ?? false,
  };
  if (values.config !== undefined) args.configFile = values.config;
  return args;
}
