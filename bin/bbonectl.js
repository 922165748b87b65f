#!/usr/bin/env -S node --single-threaded --max-semi-space-size=1
// Thin launcher for the master-side CLI; compiled to dist/ by `npm ci` (prepare) or `npm run build`.
// Same runtime flags as pf9-hostagent (see bin/pf9-hostagent.js): one interpreter line for both tools.
import { main } from '../dist/cli/bbonectl.js';

// Ctrl-C (e.g. ending `hosts --watch`) aborts the wait so the connection is closed and the exit code is set.
const controller = new AbortController();
const onSignal = () => {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

process.exitCode = await main(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  signal: controller.signal,
});
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
