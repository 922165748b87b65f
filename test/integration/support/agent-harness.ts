/**
 * Starts a real agent in this process against a test vhost, with its own
 * host_id and a temporary state dir, and logs captured for assertions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { resolveConfig } from '../../../src/config/index.js';
import { startAgent, type RunningAgent, type StartAgentOptions } from '../../../src/agent/run-agent.js';

export interface TestAgent extends RunningAgent {
  logs: Array<Record<string, unknown>>;
  stateDir: string;
  dispose(): Promise<void>;
}

export function randomHostId(): string {
  return [...randomBytes(6)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

export async function startTestAgent(opts: {
  url: string;
  hostId?: string;
  sets?: string[];
  stateDir?: string;
  seams?: Pick<StartAgentOptions, 'connect' | 'delay'>;
}): Promise<TestAgent> {
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'pf9-agent-state-')));
  // resolveConfig reads no file: the test machine's own /etc/pf9/hostagent.conf must not leak in.
  const { config, warnings } = resolveConfig({
    env: {},
    sets: [
      `amqp.url=${opts.url}`,
      `hostagent.host_id=${opts.hostId ?? randomHostId()}`,
      `hostagent.state_dir=${stateDir}`,
      // Never the machine's own packages or services: a root of the test's own, and the built-in supervisor.
      `packages.root=${join(stateDir, 'root')}`,
      `packages.cache_dir=${join(stateDir, 'cache')}`,
      'packages.backend=deb',
      'services.driver=supervisor',
      `control.socket=${join(stateDir, 'ctl.sock')}`,
      'hostagent.connection_retry_period=0.05',
      'hostagent.connection_retry_max=0.5',
      'log.level=debug',
      ...(opts.sets ?? []),
    ],
  });
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const running = await startAgent({ config, env: {}, warnings, logDestination: destination, ...opts.seams });
  return {
    ...running,
    logs,
    stateDir,
    async dispose() {
      await running.stop();
      if (!opts.stateDir) await rm(stateDir, { recursive: true, force: true });
    },
  };
}
