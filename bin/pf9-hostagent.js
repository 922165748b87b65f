#!/usr/bin/env -S node --single-threaded --max-semi-space-size=1
// Thin launcher: the daemon is compiled to dist/ by `npm ci` (prepare) or `npm run build`.
//
// The V8 flags on the line above (and in the systemd unit's ExecStart, kept
// equal by a test) hold an idle agent near what the historical Python agent
// cost (26 MB private). Measured by `npm run bench`, median of 3 runs after
// 1000 pings: 28.6 MB without them, 20.6 MB with them, same round-trip time.
// --single-threaded: JIT compilation and GC run on the main thread, so V8's
// worker threads do not each keep a glibc malloc arena of compiler zones;
// for a process that handles a few messages a minute nothing is lost.
// --max-semi-space-size=1 (MB): the young generation otherwise doubles to
// 8 MB under a burst of messages and stays there.
import { main } from '../dist/cli/hostagent.js';

process.exitCode = await main(process.argv.slice(2), process.env);
