import { describe, expect, it } from 'vitest';
import { formatEta, formatTaskLine, renderProgressBar } from '../../../src/control/progress.js';
import { LogTee } from '../../../src/control/log-tee.js';
import { createLogger } from '../../../src/logger.js';

describe('progress rendering', () => {
  it('formats eta', () => {
    expect(formatEta(null)).toBe('?');
    expect(formatEta(12)).toBe('12s');
    expect(formatEta(125)).toBe('2m5s');
    expect(formatEta(7260)).toBe('2h1m');
  });

  it('writes plain lines', () => {
    expect(formatTaskLine({ task_id: 't1', state: 'running', percent: 45.7, eta: 12, msg: 'installing pf9-foo' })).toBe(
      'task t1: running 45% eta 12s: installing pf9-foo',
    );
    expect(formatTaskLine({ task_id: 't1', state: 'complete', percent: 100, eta: 0, msg: '' })).toBe('task t1: complete 100%');
  });

  it('draws a bar that fits the width', () => {
    const bar = renderProgressBar({ percent: 50, eta: 3, msg: 'x'.repeat(200) }, 80);
    expect(bar.startsWith(`[${'#'.repeat(15)}${'.'.repeat(15)}]  50% eta 3s`)).toBe(true);
    expect(bar.length).toBeLessThanOrEqual(80);
  });
});

describe('LogTee', () => {
  it('writes through and copies lines to subscribers until they leave', () => {
    const written: string[] = [];
    const tee = new LogTee({ write: (l) => written.push(l) });
    const seen: string[] = [];
    const off = tee.subscribe((l) => seen.push(l));
    tee.subscribe(() => {
      throw new Error('bad subscriber');
    });
    tee.write('{"a":1}\n');
    off();
    tee.write('{"a":2}\n');
    expect(written).toEqual(['{"a":1}\n', '{"a":2}\n']);
    expect(seen).toEqual(['{"a":1}']);
    expect(tee.subscriberCount).toBe(1);
  });

  it('forwards flush', () => {
    let flushed = false;
    const tee = new LogTee({ write: () => true, flush: (cb) => ((flushed = true), cb?.()) });
    let called = false;
    tee.flush(() => (called = true));
    expect([flushed, called]).toEqual([true, true]);
    const bare = new LogTee({ write: () => true });
    let bareCalled = false;
    bare.flush(() => (bareCalled = true));
    expect(bareCalled).toBe(true);
  });

  it('works as the pino destination of the agent logger', () => {
    const written: string[] = [];
    const tee = new LogTee({ write: (l) => written.push(l) });
    const seen: string[] = [];
    tee.subscribe((l) => seen.push(l));
    const logger = createLogger({ level: 'info', base: { host_id: 'H' }, destination: tee });
    logger.info({ event: 'x', password: 'hunter2' }, 'hello');
    logger.flush();
    expect(written).toHaveLength(1);
    expect(JSON.parse(seen[0] ?? '')).toMatchObject({ level: 'info', host_id: 'H', event: 'x', password: '*****', msg: 'hello' });
  });
});
