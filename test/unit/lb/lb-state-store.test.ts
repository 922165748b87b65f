import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LbStateStore } from '../../../src/state/lb-state-store.js';
import { sampleState } from './samples.js';

describe('LbStateStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pf9-lbstate-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves atomically at <state_dir>/<host_id>/lb_state.json, readable by the owner only, and loads it back', async () => {
    const store = new LbStateStore(dir, 'AA:BB');
    expect(store.path).toBe(join(dir, 'AA:BB', 'lb_state.json'));
    expect(await store.load()).toBeUndefined();
    await store.save(sampleState);
    expect(await new LbStateStore(dir, 'AA:BB').load()).toEqual(sampleState);
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'AA:BB'))).mode & 0o777).toBe(0o700);
    // No temp files are left beside it.
    expect(await readdir(join(dir, 'AA:BB'))).toEqual(['lb_state.json']);
    expect(JSON.parse(await readFile(store.path, 'utf8'))).toMatchObject({ format: 1, suspended: false });
  });

  it('replaces the whole file on each save', async () => {
    const store = new LbStateStore(dir, 'H');
    await store.save(sampleState);
    await store.save({ loadBalancers: [], suspended: true });
    expect(await store.load()).toEqual({ loadBalancers: [], suspended: true });
  });

  it('keeps a file that is not JSON aside, reports it, and does not quote its content', async () => {
    const store = new LbStateStore(dir, 'H');
    await mkdir(join(dir, 'H'));
    const broken = '{"format": 1, "loadBalancers": [{"tls": {"key": "-----BEGIN PRIVATE KEY-----SECRET';
    await writeFile(store.path, broken);
    expect(await store.load(new Date('2026-01-02T03:04:05.000Z'))).toBeUndefined();
    expect(store.lastLoadError?.code).toBe('STATE_CORRUPT');
    expect(store.lastLoadError?.message).toContain('kept as');
    expect(store.lastLoadError?.message).toContain('not valid JSON');
    expect(store.lastLoadError?.message).not.toContain('SECRET');
    const files = await readdir(join(dir, 'H'));
    expect(files).toEqual(['lb_state.json.corrupt-2026-01-02T03-04-05-000Z']);
    expect(await readFile(join(dir, 'H', files[0] ?? ''), 'utf8')).toBe(broken);
  });

  it('treats valid JSON that would not pass as a request as corrupt too (an id with a newline would inject config)', async () => {
    const store = new LbStateStore(dir, 'H');
    const bad = structuredClone(sampleState) as unknown as { loadBalancers: Array<{ id: string }> };
    bad.loadBalancers[0] = { ...bad.loadBalancers[0], id: '10\n  server evil 6.6.6.6:80' };
    await mkdir(join(dir, 'H'));
    await writeFile(store.path, JSON.stringify({ format: 1, ...bad }));
    expect(await store.load()).toBeUndefined();
    expect(store.lastLoadError?.message).toContain('lb_state.loadBalancers[0].id');
  });

  it('refuses a file of another format version rather than misreading it', async () => {
    const store = new LbStateStore(dir, 'H');
    await mkdir(join(dir, 'H'));
    await writeFile(store.path, JSON.stringify({ format: 2, suspended: false, loadBalancers: [] }));
    expect(await store.load()).toBeUndefined();
    expect(store.lastLoadError?.message).toContain('lb_state.format: must be 1, got 2');
  });

  it('throws STATE_CORRUPT for a file it cannot read, leaving it in place', async () => {
    const store = new LbStateStore(dir, 'H');
    await mkdir(store.path, { recursive: true });
    await expect(store.load()).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
    expect(await readdir(join(dir, 'H'))).toEqual(['lb_state.json']);
  });

  it('fails with STATE_WRITE_FAILED and keeps the previous file when it cannot write', async () => {
    const store = new LbStateStore(dir, 'H');
    await store.save(sampleState);
    // Tests run as root, which ignores permissions: route the state dir through a file instead.
    const blocked = new LbStateStore(store.path, 'X');
    await expect(blocked.save(sampleState)).rejects.toMatchObject({ code: 'STATE_WRITE_FAILED' });
    expect(await store.load()).toEqual(sampleState);
  });
});
