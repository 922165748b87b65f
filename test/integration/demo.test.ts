/** The README's demo command is part of the suite: if it breaks, the first thing a new user runs breaks. */
import { execa } from 'execa';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokerBaseUrl } from '../helpers/broker.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('npm run demo', () => {
  it('runs the whole loop against the local broker and exits 0', async () => {
    const url = await brokerBaseUrl();
    const r = await execa(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'scripts/demo.js')], {
      env: { RABBITMQ_URL: url },
      reject: false,
      all: true,
      timeout: 60_000,
    });
    expect(r.all).toContain('demo: ok');
    expect(r.exitCode).toBe(0);
    expect(r.all).toContain('"opcode": "error"');
    expect(r.all).toContain('"desired_hash"');
    // The app really was installed, served, and upgraded.
    expect(r.all).toMatch(/the app answers on 127\.0\.0\.1:\d+: pf9-demo 1\.0-1/);
    expect(r.all).toMatch(/the app answers on 127\.0\.0\.1:\d+: pf9-demo 1\.1-1/);
    expect(r.all).not.toContain('guest:guest@');
  }, 90_000);
});
