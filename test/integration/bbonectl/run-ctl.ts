/**
 * Runs `bin/bbonectl.js` as an operator does: a program found by its
 * shebang, with the pinned Node first in PATH, and only the environment
 * given here (the broker URL through HOSTAGENT_AMQP_URL, as the agent reads it).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';

const ROOT = resolve(import.meta.dirname, '../../..');
export const BIN = join(ROOT, 'bin/bbonectl.js');
const NODE = join(ROOT, 'node_modules/.bin/node');

/** Called in beforeAll: the launcher imports dist/, which only `npm run build` makes. */
export function requireDist(): void {
  if (!existsSync(join(ROOT, 'dist/cli/bbonectl.js'))) {
    throw new Error('dist/cli/bbonectl.js is missing: run `npm run build` first (npm test does)');
  }
}

export function runCtl(url: string, args: string[], opts: { input?: string; configFile: string }) {
  const PATH = `${dirname(NODE)}:${process.env.PATH ?? ''}`;
  // An empty config file of the test's own: the machine's /etc/pf9/hostagent.conf must not leak in.
  const env = { PATH, HOSTAGENT_AMQP_URL: url, HOSTAGENT_CONFIG_FILE: opts.configFile };
  // Always an input (empty by default), so a command reading `-` never waits on the test's own stdin.
  return execa(BIN, args, { env, extendEnv: false, reject: false, all: true, input: opts.input ?? '' });
}
