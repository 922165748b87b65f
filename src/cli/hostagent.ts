/**
 * `pf9-hostagent`: the daemon. Exit codes: 0 clean stop, 1 failure at run
 * time (e.g. no host id), 2 bad usage or bad configuration.
 */
import { AgentError } from '../errors.js';
import { AGENT_USAGE, formatConfig, loadConfig, parseAgentArgs } from '../config/index.js';
import { startAgent } from '../agent/run-agent.js';
import { runCtl } from '../control/index.js';
import { AGENT_VERSION } from '../version.js';

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === 'ctl') return ctlMain(argv.slice(1), env);
  let args;
  let loaded;
  try {
    args = parseAgentArgs(argv);
    if (args.help) {
      process.stdout.write(AGENT_USAGE);
      return 0;
    }
    if (args.version) {
      process.stdout.write(`pf9-hostagent ${AGENT_VERSION}\n`);
      return 0;
    }
    loaded = loadConfig({
      // Undefined means the default file, or HOSTAGENT_CONFIG_FILE as the historical agent allowed.
      file: args.configFile,
      fileRequired: args.configFile !== undefined,
      env,
      sets: args.sets,
    });
  } catch (err) {
    return fail(err, 2);
  }
  if (args.printConfig) {
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(formatConfig(loaded.config, loaded.origins));
    return 0;
  }

  let running;
  try {
    running = await startAgent({ config: loaded.config, env, warnings: loaded.warnings });
  } catch (err) {
    return fail(err, 1);
  }
  const agent = running;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      agent.logger.info({ event: 'agent.signal', signal }, 'signal received');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      // A second signal while stopping means "now": the default handler kills us.
      void agent.stop().then(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return 0;
}

/** `pf9-hostagent ctl <method> [json-params]`: the client of the local control socket. */
async function ctlMain(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let socketPath = '/run/pf9/hostagent.sock';
  if (!argv.includes('--socket')) {
    try {
      socketPath = loadConfig({ file: undefined, fileRequired: false, env, sets: [] }).config.control.socket || socketPath;
    } catch (err) {
      return fail(err, 2);
    }
  }
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    return await runCtl(argv, { socketPath, stdout: process.stdout, stderr: process.stderr, isTTY: process.stderr.isTTY, signal: abort.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function fail(err: unknown, code: number): number {
  const prefix = err instanceof AgentError ? `error [${err.code}]` : 'error';
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`pf9-hostagent: ${prefix}: ${message}\n`);
  return code;
}
