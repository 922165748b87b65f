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
    // The app really was installed, served and upgraded, driven by bbonectl.
    expect(r.all).toMatch(/the app answers on 127\.0\.0\.1:\d+: pf9-demo-web 1\.0-1/);
    expect(r.all).toMatch(/the app answers on 127\.0\.0\.1:\d+: pf9-demo-web 1\.1-1/);
    expect(r.all).toMatch(/pf9-demo-web=1\.1-1\(running\) pf9-demo-worker=1\.0-1\(running\)/);
    expect(r.all).toMatch(/\d+\.\d+ ms\s+ok/);
    expect(r.all).toContain('field "data.pf9-demo-web.running" must be true or false');
    expect(r.all).not.toContain('guest:guest@');
  }, 90_000);
});
