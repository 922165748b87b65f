import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DesiredStateStore } from '../../../src/state/desired-state-store.js';

describe('DesiredStateStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pf9-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns undefined when nothing was saved, then what was saved, at the historical path', async () => {
    const store = new DesiredStateStore(dir, 'AA:BB');
    expect(store.path).toBe(join(dir, 'AA:BB', 'desired_apps.json'));
    expect(await store.load()).toBeUndefined();
    const apps = { 'pf9-foo': { version: '1', running: true, config: { k: 'v' } } };
    await store.save(apps);
    expect(await new DesiredStateStore(dir, 'AA:BB').load()).toEqual(apps);
    // No temp files are left beside it.
    expect(await readdir(join(dir, 'AA:BB'))).toEqual(['desired_apps.json']);
  });

  it('keeps a corrupt file aside and reports it instead of dropping it', async () => {
    const store = new DesiredStateStore(dir, 'H');
    await mkdir(join(dir, 'H'));
    await writeFile(store.path, '{"pf9-foo": {"version": ');
    expect(await store.load(new Date('2026-01-02T03:04:05.000Z'))).toBeUndefined();
    expect(store.lastLoadError?.code).toBe('STATE_CORRUPT');
    const files = await readdir(join(dir, 'H'));
    expect(files).toEqual(['desired_apps.json.corrupt-2026-01-02T03-04-05-000Z']);
    expect(await readFile(join(dir, 'H', files[0] ?? ''), 'utf8')).toBe('{"pf9-foo": {"version": ');
    expect(store.lastLoadError?.message).toContain('corrupt-2026');
  });

  it('treats valid JSON of the wrong shape as corrupt too', async () => {
    const store = new DesiredStateStore(dir, 'H');
    await mkdir(join(dir, 'H'));
    await writeFile(store.path, '{"pf9-foo": {"running": "yes"}}');
    expect(await store.load()).toBeUndefined();
    expect(store.lastLoadError?.message).toContain('data.pf9-foo.version');
  });

  it('fails with STATE_WRITE_FAILED and keeps the previous file when it cannot write', async () => {
    const store = new DesiredStateStore(dir, 'H');
    await store.save({ a: { version: '1', running: true } });
    // Tests run as root, which ignores directory permissions: make the state dir path run through a file instead.
    const blocked = new DesiredStateStore(store.path, 'X');
    await expect(blocked.save({ b: { version: '2', running: false } })).rejects.toMatchObject({ code: 'STATE_WRITE_FAILED' });
    expect(await store.load()).toEqual({ a: { version: '1', running: true } });
  });
});
