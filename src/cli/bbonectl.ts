/**
 * `bbonectl`: the operator's (or a scripted master's) tool to drive hosts
 * over RabbitMQ. Input is read and validated before the broker is contacted,
 * so a bad file is exit 2 whether or not the broker is up.
 * Exit codes: 0 success, 1 a host failed or did not answer (or the broker is
 * unreachable), 2 usage or validation error.
 */
import { AgentError, ConfigError, MessageError, UsageError } from '../errors.js';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../config/index.js';
import { AGENT_VERSION } from '../version.js';
import { CTL_USAGE, parseCtlArgs, type CtlCommand } from './bbonectl/args.js';
import { prepareHosts } from './bbonectl/commands/hosts.js';
import { prepareLb } from './bbonectl/commands/lb.js';
import { preparePing } from './bbonectl/commands/ping.js';
import { prepareSetConfig } from './bbonectl/commands/set-config.js';
import type { CtlIo, Prepared } from './bbonectl/io.js';
import { MasterClient, scrubSecrets } from './bbonectl/master-client.js';
import { maskUrl } from '../config/mask.js';

export type { CtlIo } from './bbonectl/io.js';

function prepare(cmd: CtlCommand, io: CtlIo): Prepared | Promise<Prepared> {
  switch (cmd.name) {
    case 'hosts':
      return prepareHosts(cmd, io);
    case 'ping':
      return preparePing(cmd, io);
    case 'set-config':
      return prepareSetConfig(cmd, io);
    case 'lb':
      return prepareLb(cmd, io);
  }
}

function report(io: CtlIo, err: unknown, url?: string): void {
  const prefix = err instanceof AgentError ? `error [${err.code}]` : 'error';
  let message = err instanceof Error ? err.message : String(err);
  // Whatever failed, the broker password is not printed (amqplib may quote the URL it was given).
  if (url !== undefined) message = scrubSecrets(message, url);
  io.stderr.write(`bbonectl: ${prefix}: ${message}\n`);
}

function isValidationError(err: unknown): boolean {
  return err instanceof UsageError || err instanceof ConfigError || err instanceof MessageError;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: CtlIo): Promise<number> {
  let args;
  let run: Prepared;
  let config;
  try {
    args = parseCtlArgs(argv);
    if (args.help) {
      io.stdout.write(CTL_USAGE);
      return 0;
    }
    if (args.version) {
      io.stdout.write(`bbonectl ${AGENT_VERSION}\n`);
      return 0;
    }
    const loaded = loadConfig({ file: args.configFile, fileRequired: args.configFile !== undefined, env, sets: args.sets });
    // An operator's workstation usually has no agent config: the default file missing is no news there.
    const quiet = args.configFile === undefined ? `config file ${DEFAULT_CONFIG_FILE} not found` : undefined;
    for (const w of loaded.warnings.filter((text) => quiet === undefined || !text.startsWith(quiet))) io.stderr.write(`bbonectl: warning: ${w}\n`);
    config = loaded.config;
    if (args.command === undefined) throw new UsageError('a command is needed; see bbonectl --help');
    run = await prepare(args.command, io);
  } catch (err) {
    report(io, err);
    return isValidationError(err) ? 2 : 1;
  }

  const url = config.amqp.url;
  let client: MasterClient;
  try {
    client = await MasterClient.connect(config);
  } catch (err) {
    report(io, new Error(`cannot reach the broker at ${maskUrl(url)}: ${err instanceof Error ? err.message : String(err)}`), url);
    return 1;
  }
  try {
    for (const w of client.warnings) io.stderr.write(`bbonectl: warning: ${w}\n`);
    return await run(client);
  } catch (err) {
    report(io, err, url);
    return 1;
  } finally {
    await client.close();
  }
}
