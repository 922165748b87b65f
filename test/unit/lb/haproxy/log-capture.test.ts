/** Splitting HAProxy's log file per load balancer, on real files in a temp dir. */
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogCapture, parseLogLine } from '../../../../src/lb/haproxy/log-capture.js';

const line = (tag: string, msg: string): string => `<134>1 2026-11-23T16:17:22.389037+00:00 - ${tag} 1088 - - ${msg}\n`;

describe('parseLogLine', () => {
  it('takes the load balancer from the rfc5424 APP-NAME (the log-tag)', () => {
    expect(parseLogLine(line('10', '127.0.0.1:45396 [23/Nov/2026:16:17:22.388] 10 10/a 0/0/0/1/1 200 73 "GET / HTTP/1.1"').trimEnd())).toEqual({
      id: '10',
      line: '2026-11-23T16:17:22.389037+00:00 127.0.0.1:45396 [23/Nov/2026:16:17:22.388] 10 10/a 0/0/0/1/1 200 73 "GET / HTTP/1.1"',
    });
  });

  it('ignores HAProxy-wide lines and anything else', () => {
    expect(parseLogLine(line('haproxy', 'Proxy 10 started.').trimEnd())).toBeUndefined();
    expect(parseLogLine('[NOTICE]   (1) : Loading success.')).toBeUndefined();
    expect(parseLogLine(line('../x', 'm').trimEnd())).toBeUndefined();
  });
});

describe('LogCapture', () => {
  let dir: string;
  let source: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pf9-logcap-'));
    source = join(dir, 'haproxy.out');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('splits lines per load balancer, keeps a partial line for later, and never splits a line twice', async () => {
    await writeFile(source, line('10', 'one') + line('11', 'two') + line('haproxy', 'global') + '<134>1 2026-11-23T16:17:23Z - 10 1 - - par');
    const cap = new LogCapture({ source, dir });
    expect(await cap.read('10')).toBe('2026-11-23T16:17:22.389037+00:00 one\n');
    expect(await cap.read('11')).toBe('2026-11-23T16:17:22.389037+00:00 two\n');
    await appendFile(source, 'tial\n');
    // A new instance (agent restart) goes on from the saved offset.
    const again = new LogCapture({ source, dir });
    expect(await again.read('10')).toBe('2026-11-23T16:17:22.389037+00:00 one\n2026-11-23T16:17:23Z partial\n');
    expect(await again.read('12')).toBe('');
    expect(await again.read('../../etc/passwd')).toBe('');
  });

  it('keeps the newest half of a load balancer file past its cap, and empties the shared file once read past its cap', async () => {
    const cap = new LogCapture({ source, dir, maxBytesPerLb: 1000, maxSourceBytes: 2000 });
    for (let i = 0; i < 40; i++) await appendFile(source, line('10', `request ${String(i).padStart(3, '0')}`));
    await cap.collect();
    const text = await readFile(join(dir, '10.log'), 'utf8');
    expect(text.length).toBeLessThanOrEqual(500);
    expect(text.endsWith('request 039\n')).toBe(true);
    expect(text.startsWith('2026-')).toBe(true);
    expect((await stat(source)).size).toBe(0);
    await appendFile(source, line('10', 'after truncation'));
    expect(await cap.read('10')).toMatch(/request 039\n.* after truncation\n$/);
  });
});
