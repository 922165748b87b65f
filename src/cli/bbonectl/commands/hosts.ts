/**
 * `bbonectl hosts`: pings `slaves` and lists every host whose status
 * arrives (the answers, and heartbeats that happen to arrive meanwhile: both
 * are what the host says of itself). With --watch it keeps listening and
 * redraws; the heartbeats keep the list fresh, and a host that stays silent
 * for 3x its own heartbeat_period is shown as lost.
 */
import type { CtlCommand } from '../args.js';
import { seconds, type CtlIo, type Prepared } from '../io.js';
import { listen, statusData } from '../listen.js';
import type { MasterClient } from '../master-client.js';
import { hostView, renderHosts, type HostView } from '../table.js';

type HostsCommand = Extract<CtlCommand, { name: 'hosts' }>;

/** How often --watch redraws on a TTY without news, so "last seen" and lost marks stay current. */
const REDRAW_MS = 1000;
/** Home and clear screen: redraw in place rather than scroll. */
const CLEAR = '\x1b[H\x1b[2J';

class HostBook {
  private readonly hosts = new Map<string, { data: Record<string, unknown>; at: number }>();

  record(data: Record<string, unknown>, at: number): void {
    this.hosts.set(data.host_id as string, { data, at });
  }

  get size(): number {
    return this.hosts.size;
  }

  views(now: number): HostView[] {
    return [...this.hosts.values()].map((h) => hostView(h.data, h.at, now));
  }
}

export function prepareHosts(cmd: HostsCommand, io: CtlIo): Prepared {
  return (client) => (cmd.watch ? watch(client, io) : once(client, cmd, io));
}

async function once(client: MasterClient, cmd: HostsCommand, io: CtlIo): Promise<number> {
  const book = new HostBook();
  const ended = listen(client, {
    timeoutMs: cmd.timeoutS * 1000,
    signal: io.signal,
    onMessage: (m) => {
      const data = statusData(m);
      if (data !== undefined) book.record(data, m.wallAt);
    },
  });
  await client.publish('slaves', { opcode: 'ping' }, { correlationId: client.newCorrelationId() });
  await ended;
  const now = Date.now();
  if (cmd.json) {
    io.stdout.write(`${JSON.stringify(book.views(now).sort((a, b) => a.host_id.localeCompare(b.host_id)))}\n`);
  } else {
    io.stdout.write(renderHosts(book.views(now), now));
    if (book.size === 0) io.stderr.write(`bbonectl: no host answered within ${seconds(cmd.timeoutS)}\n`);
  }
  // A listing, not a health check: an empty fleet is an answer too (ping is the check).
  return 0;
}

async function watch(client: MasterClient, io: CtlIo): Promise<number> {
  const book = new HostBook();
  const tty = io.stdout.isTTY === true;
  let lastShape = '';
  const draw = (): void => {
    const now = Date.now();
    const views = book.views(now);
    if (tty) {
      const header = `bbonectl hosts --watch  ${new Date(now).toISOString()}  ${views.length} host(s); Ctrl-C to stop\n\n`;
      io.stdout.write(CLEAR + header + renderHosts(views, now));
      return;
    }
    // Not a terminal (a pipe, a log): print a new table only when something changed, not every second.
    const shape = JSON.stringify(views.map((v) => [v.host_id, v.status, v.apps]));
    if (shape === lastShape) return;
    lastShape = shape;
    io.stdout.write(`${new Date(now).toISOString()}\n${renderHosts(views, now)}\n`);
  };
  const timer = setInterval(draw, REDRAW_MS);
  try {
    const ended = listen(client, {
      timeoutMs: Infinity,
      signal: io.signal,
      onMessage: (m) => {
        const data = statusData(m);
        if (data === undefined) return;
        book.record(data, m.wallAt);
        draw();
      },
    });
    await client.publish('slaves', { opcode: 'ping' }, { correlationId: client.newCorrelationId() });
    draw();
    await ended;
  } finally {
    clearInterval(timer);
  }
  return 0;
}
