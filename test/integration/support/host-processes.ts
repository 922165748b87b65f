/**
 * Looks at (and cleans up) the processes of apps installed into a test
 * root, through /proc: the supervisor leaves services running when the
 * agent stops (fail static), so tests must kill them themselves.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Pids whose command line mentions `marker` (e.g. `<root>/opt/pf9/pf9-hello/bin/pf9-hello`). */
export async function pidsMatching(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // A zombie is not running; its parent just has not reaped it yet.
      if (cmdline.includes(marker) && !/\) Z /.test(stat)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

export async function killMatching(marker: string): Promise<void> {
  for (const pid of await pidsMatching(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
