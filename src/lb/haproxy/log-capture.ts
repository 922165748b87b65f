/**
 * HAProxy's log lines, split per load balancer.
 *
 * Why a file: HAProxy logs to syslog sockets (unix datagram, which Node
 * cannot open; UDP, lost while the agent is down and tied to a port that
 * must be free again after an agent restart), to a ring, or to a file
 * descriptor. HAProxy must outlive the agent (fail static), so its stdout
 * is a file the engine opens in append mode when it starts HAProxy
 * (`log stdout`): the workers inherit it across reloads, and lines written
 * while no agent runs wait there. HAProxy's manual warns that an fd log
 * target pointing to a file makes writes blocking; on a local file system
 * that is a page-cache copy per line.
 *
 * Each proxy sets `log-tag <lb id>` and the format is rfc5424, whose
 * APP-NAME field is that tag, so a line names its load balancer without
 * parsing HAProxy's traffic formats. `collect()` reads what is new, appends
 * each line to `<dir>/<id>.log` as `<ISO time> <message>`, and caps each
 * file by keeping its newest half. The shared file is emptied once read past
 * `maxSourceBytes`: HAProxy writes with O_APPEND, so after truncation its
 * next line lands at offset 0 (the copytruncate way of logrotate; a line
 * written between the last read and the truncation is lost). The read
 * offset is kept in `<source>.offset`, so a restarted agent does not split
 * the same lines twice.
 */
import { appendFile, open, readFile, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidName } from './render.js';

export interface LogCaptureOptions {
  /** The file HAProxy's stdout appends to. */
  source: string;
  /** Where `<id>.log` files go. */
  dir: string;
  /** Per load balancer; default 1 MiB. */
  maxBytesPerLb?: number;
  /** Default 4 MiB. */
  maxSourceBytes?: number;
}

const RFC5424 = /^<\d+>1 (\S+) \S+ (\S+) \S+ \S+ (?:-|\[[^\]]*\]) ?(.*)$/;

/** `{ id, line }` for a log line HAProxy wrote for a load balancer; undefined for others (global ones say `haproxy`). */
export function parseLogLine(raw: string): { id: string; line: string } | undefined {
  const m = RFC5424.exec(raw);
  if (!m) return undefined;
  const [, time = '', tag = '', message = ''] = m;
  if (tag === 'haproxy' || !isValidName(tag)) return undefined;
  return { id: tag, line: `${time} ${message}` };
}

export class LogCapture {
  private readonly maxBytesPerLb: number;
  private readonly maxSourceBytes: number;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: LogCaptureOptions) {
    this.maxBytesPerLb = opts.maxBytesPerLb ?? 1024 * 1024;
    this.maxSourceBytes = opts.maxSourceBytes ?? 4 * 1024 * 1024;
  }

  lbLogPath(id: string): string {
    return join(this.opts.dir, `${id}.log`);
  }

  /** One collection at a time; a call during one waits for it and runs again (new lines may have come). */
  async collect(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.collectOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async collectOnce(): Promise<void> {
    const offsetFile = `${this.opts.source}.offset`;
    let size: number;
    try {
      size = (await stat(this.opts.source)).size;
    } catch {
      return; // HAProxy never started here: nothing to split
    }
    let offset = Number((await readFile(offsetFile, 'utf8').catch(() => '0')).trim()) || 0;
    if (offset > size) offset = 0; // truncated by someone else, or a new file
    if (size > offset) {
      const fh = await open(this.opts.source, 'r');
      let text: string;
      try {
        const buf = Buffer.alloc(size - offset);
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        text = buf.subarray(0, bytesRead).toString('utf8');
      } finally {
        await fh.close();
      }
      // A line still being written has no newline yet: leave it for next time.
      const end = text.lastIndexOf('\n') + 1;
      await this.distribute(text.slice(0, end));
      offset += Buffer.byteLength(text.slice(0, end));
    }
    if (offset >= this.maxSourceBytes && offset >= size) {
      await truncate(this.opts.source, 0);
      offset = 0;
    }
    await writeFile(offsetFile, `${offset}\n`);
  }

  private async distribute(text: string): Promise<void> {
    const perLb = new Map<string, string[]>();
    for (const raw of text.split('\n')) {
      const parsed = raw ? parseLogLine(raw) : undefined;
      if (!parsed) continue;
      const list = perLb.get(parsed.id) ?? [];
      list.push(parsed.line);
      perLb.set(parsed.id, list);
    }
    for (const [id, lines] of perLb) {
      const file = this.lbLogPath(id);
      await appendFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
      await this.cap(file);
    }
  }

  /** Keeps the newest half (from a line start) once a file passes its cap. */
  private async cap(file: string): Promise<void> {
    const { size } = await stat(file);
    if (size <= this.maxBytesPerLb) return;
    const buf = await readFile(file);
    let tail = buf.subarray(buf.length - Math.floor(this.maxBytesPerLb / 2));
    const nl = tail.indexOf(10);
    if (nl >= 0) tail = tail.subarray(nl + 1);
    await writeFile(`${file}.tmp`, tail, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  /** The captured lines of one load balancer ('' when none, or for an id that cannot be a file name). */
  async read(id: string): Promise<string> {
    if (!isValidName(id)) return '';
    await this.collect();
    return readFile(this.lbLogPath(id), 'utf8').catch(() => '');
  }
}
