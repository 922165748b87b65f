/**
 * bbonectl's command line: `bbonectl [global options] COMMAND ARGS [options]`.
 * Parsing is pure and strict: an option a command does not take is a usage
 * error (exit 2) rather than silently ignored, because an operator who typed
 * `ping --wait` believes something will be waited for.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.js';
import { parseSetArg } from '../../config/set-arg.js';

export const LB_ACTIONS = ['UPDATE', 'SUSPEND', 'ENABLE', 'DELETE', 'DISCOVER', 'ARCHIVE', 'STATS', 'METRICS', 'DIAGNOSTICS'] as const;
export type LbAction = (typeof LB_ACTIONS)[number];

export type CtlCommand =
  | { name: 'hosts'; json: boolean; watch: boolean; timeoutS: number }
  | { name: 'ping'; hosts: string[]; all: boolean; timeoutS: number }
  | { name: 'set-config'; host: string; file: string; wait: boolean; timeoutS: number }
  | { name: 'lb'; host: string; action: LbAction; file: string | undefined; timeoutS: number };

export interface CtlArgs {
  configFile?: string;
  sets: string[];
  help: boolean;
  version: boolean;
  /** Absent only with --help or --version. */
  command?: CtlCommand;
}

/** Seconds; set-config's applies with --wait only (without it nothing is awaited but the publish confirm). */
export const DEFAULT_TIMEOUTS = { hosts: 5, ping: 5, 'set-config': 300, lb: 30 } as const;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  set: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  json: { type: 'boolean' },
  watch: { type: 'boolean' },
  all: { type: 'boolean' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

type OptionName = keyof typeof OPTIONS;
const GLOBAL: readonly OptionName[] = ['config', 'set', 'help', 'version'];
const PER_COMMAND: Record<CtlCommand['name'], readonly OptionName[]> = {
  hosts: ['json', 'watch', 'timeout'],
  ping: ['all', 'timeout'],
  'set-config': ['wait', 'timeout'],
  lb: ['timeout'],
};

function isCommandName(name: string): name is CtlCommand['name'] {
  return Object.hasOwn(PER_COMMAND, name);
}

function fail(message: string): never {
  throw new UsageError(`${message}; see bbonectl --help`);
}

/** AMQP routing keys are short strings (at most 255 bytes); blanks in a host id are always a typo. */
function checkHostId(id: string): string {
  if (id === '' || /\s/.test(id) || Buffer.byteLength(id) > 255) fail(`${JSON.stringify(id)} is not a host id`);
  return id;
}

function parseTimeout(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) fail(`--timeout ${JSON.stringify(raw)} is not a positive number of seconds`);
  return n;
}

function parseErrorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Node's wording for an unknown option talks about positionals; the option's name is what matters.
  if ((err as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(message)?.[1];
    if (option !== undefined) return `unknown option ${option}`;
  }
  return message;
}

export function parseCtlArgs(argv: string[]): CtlArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    fail(parseErrorMessage(err));
  }
  const { values, positionals } = parsed;
  if (values.config === '') fail('--config needs a file path');
  const sets = values.set ?? [];
  const badSets = sets.map(parseSetArg).flatMap((s) => (s.ok ? [] : [s.message]));
  if (badSets.length > 0) throw new UsageError(badSets.join('\n'));

  const args: CtlArgs = { sets, help: values.help ?? false, version: values.version ?? false };
  if (values.config !== undefined) args.configFile = values.config;
  if (args.help || args.version) return args;

  const [name, ...rest] = positionals;
  if (name === undefined) fail('a command is needed (hosts, ping, set-config, lb)');
  if (!isCommandName(name)) fail(`unknown command ${JSON.stringify(name)}`);
  const allowed = new Set<OptionName>([...GLOBAL, ...PER_COMMAND[name]]);
  for (const option of Object.keys(values) as OptionName[]) {
    if (!allowed.has(option)) fail(`${name} takes no --${option}`);
  }
  const timeoutS = parseTimeout(values.timeout, DEFAULT_TIMEOUTS[name]);
  args.command = buildCommand(name, rest, values, timeoutS);
  return args;
}

function buildCommand(
  name: CtlCommand['name'],
  rest: string[],
  values: { json?: boolean; watch?: boolean; all?: boolean; wait?: boolean },
  timeoutS: number,
): CtlCommand {
  switch (name) {
    case 'hosts':
      if (rest.length > 0) fail(`hosts takes no arguments, got ${JSON.stringify(rest[0])}`);
      if (values.json && values.watch) fail('--json and --watch do not go together');
      return { name, json: values.json ?? false, watch: values.watch ?? false, timeoutS };
    case 'ping': {
      const all = values.all ?? false;
      if (all && rest.length > 0) fail('ping takes either HOST_ID... or --all, not both');
      if (!all && rest.length === 0) fail('ping needs HOST_ID... or --all');
      return { name, hosts: [...new Set(rest.map(checkHostId))], all, timeoutS };
    }
    case 'set-config': {
      const [host, file, extra] = rest;
      if (host === undefined || file === undefined) fail('set-config needs HOST_ID and FILE (or - for stdin)');
      if (extra !== undefined) fail(`set-config takes HOST_ID and FILE only, got also ${JSON.stringify(extra)}`);
      return { name, host: checkHostId(host), file, wait: values.wait ?? false, timeoutS };
    }
    case 'lb': {
      const [host, rawAction, file, extra] = rest;
      if (host === undefined || rawAction === undefined) fail('lb needs HOST_ID and ACTION');
      if (extra !== undefined) fail(`lb takes HOST_ID ACTION [FILE], got also ${JSON.stringify(extra)}`);
      // Libra values are case-insensitive; upper case is how the worker protocol spells them.
      const action = LB_ACTIONS.find((a) => a === rawAction.toUpperCase());
      if (action === undefined) fail(`unknown lb action ${JSON.stringify(rawAction)} (one of ${LB_ACTIONS.join(', ')})`);
      return { name, host: checkHostId(host), action, file, timeoutS };
    }
  }
}

export const CTL_USAGE = `Usage: bbonectl [global options] COMMAND [arguments] [options]

Drives pf9-hostagent hosts over RabbitMQ, as their master does.

Commands:
  hosts [--json] [--watch] [--timeout S]
        ping every host (routing key "slaves") and list those that answer within
        S seconds (default 5); --watch keeps listening and redraws, marking a host
        silent for 3x its heartbeat_period as lost
  ping HOST_ID... | --all [--timeout S]
        ping hosts and print round-trip times (default 5 s); exit 1 if a named
        host does not answer (with --all: if none does)
  set-config HOST_ID FILE|- [--wait] [--timeout S]
        send the desired apps (FILE holds the "data" of a set_config, or the whole
        message); validated first. --wait: follow the host's status until it
        holds what was sent and is ok or errors (default 300 s), re-sending if
        the host shows another desired_hash
  lb HOST_ID ACTION [FILE|-] [--timeout S]
        send a Libra worker request (hpcs_action ACTION plus the JSON object in
        FILE) and print the reply (default 30 s); exit 1 on FAIL

Global options:
  -c, --config FILE      config file (default /etc/pf9/hostagent.conf, may be absent)
      --set KEY=VALUE    set a config key, e.g. --set amqp.url=amqp://host; repeatable
  -V, --version          print the version and exit
  -h, --help             print this help and exit

Broker settings come from the agent's config rules: file < HOSTAGENT_* env < --set.
Exit codes: 0 success, 1 a host failed or did not answer, 2 usage or validation error.
`;
