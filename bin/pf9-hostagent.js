#!/usr/bin/env node
// Thin launcher: the daemon is compiled to dist/ by `npm ci` (prepare) or `npm run build`.
//
// Memory: an idle agent should cost what the historical Python agent did
// (~26 MB private). Measured with `npm run bench`: Maglev's compiled code and
// compiler zones cost ~4 MB once the message path is warm, and V8 grows the
// young generation to 8 MB under a burst of pings. Neither buys anything for
// a process that handles a few messages a minute, so both are capped here,
// before any JavaScript of ours is compiled. Turbofan still optimizes hot code.
import v8 from 'node:v8';

v8.setFlagsFromString('--max-semi-space-size=1');

const { main } = await import('../dist/cli/hostagent.js');
process.exitCode = await main(process.argv.slice(2), process.env);
