import { describe, expect, it } from 'vitest';
import { TaskRegistry, type TaskInfo, type TaskReporter } from '../../../src/control/tasks.js';

function gate(): { promise: Promise<void>; open: () => void; fail: (err: Error) => void } {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

function setup() {
  let now = 1_000_000;
  const tasks = new TaskRegistry({ now: () => now, keepFinished: 2 });
  const updates: TaskInfo[] = [];
  tasks.onUpdate((t) => updates.push(t));
  return { tasks, updates, advance: (ms: number) => (now += ms) };
}

/** Starts a task whose body waits on a gate; resolves once the body runs and has its reporter. */
async function startGated(tasks: TaskRegistry, kind = 'converge') {
  const g = gate();
  let reporter!: TaskReporter;
  const ran = new Promise<void>((resolve) => {
    const { task } = tasks.start(kind, (r) => {
      reporter = r;
      resolve();
      return g.promise;
    });
    void task;
  });
  await ran;
  const id = tasks.list().find((t) => t.kind === kind && t.state === 'running')?.task_id ?? '';
  return { gate: g, reporter, id };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('TaskRegistry', () => {
  it('runs a task to complete with percent never going back and an eta from the rate', async () => {
    const { tasks, updates, advance } = setup();
    const { gate: g, reporter, id } = await startGated(tasks);
    advance(10_000);
    reporter.progress(25, 'downloading');
    expect(tasks.get(id)).toMatchObject({ state: 'running', percent: 25, eta: 30, msg: 'downloading' });
    reporter.progress(10); // backwards: ignored
    expect(tasks.get(id)?.percent).toBe(25);
    advance(10_000);
    reporter.step(3, 4, 'installing');
    expect(tasks.get(id)).toMatchObject({ percent: 75, eta: 7, msg: 'installing' });
    g.open();
    await settle();
    expect(tasks.get(id)).toMatchObject({ state: 'complete', percent: 100, eta: 0, msg: 'installing' });
    expect(updates.map((u) => [u.state, u.percent])).toEqual([
      ['running', 0],
      ['running', 25],
      ['running', 75],
      ['complete', 100],
    ]);
  });

  it('emits only when the whole percent or the message changes', async () => {
    const { tasks, updates } = setup();
    const { gate: g, reporter } = await startGated(tasks);
    for (let i = 0; i < 1000; i += 1) reporter.step(i, 1000);
    g.open();
    await settle();
    expect(updates.length).toBeLessThanOrEqual(102);
  });

  it('ends in error with the thrown message, and ignores late reports', async () => {
    const { tasks } = setup();
    const { gate: g, reporter, id } = await startGated(tasks);
    g.fail(new Error('dpkg exploded'));
    await settle();
    reporter.progress(90, 'late');
    expect(tasks.get(id)).toMatchObject({ state: 'error', msg: 'dpkg exploded', eta: null });
  });

  it('joins a running task of the same kind instead of starting a second', async () => {
    const { tasks } = setup();
    const { gate: g, id } = await startGated(tasks);
    const again = tasks.start('converge', () => Promise.resolve());
    expect(again).toMatchObject({ joined: true, task: { task_id: id } });
    g.open();
    await settle();
    const third = tasks.start('converge', () => Promise.resolve());
    expect(third.joined).toBe(false);
    expect(third.task.task_id).not.toBe(id);
  });

  it('keeps only the last finished tasks', async () => {
    const { tasks } = setup();
    for (let i = 0; i < 4; i += 1) {
      tasks.start('converge', () => Promise.resolve());
      await settle();
      await settle();
    }
    expect(tasks.list()).toHaveLength(2);
  });

  it('survives a throwing listener, and unsubscribes', async () => {
    const { tasks } = setup();
    const off = tasks.onUpdate(() => {
      throw new Error('socket gone');
    });
    expect(tasks.listenerCount).toBe(2);
    tasks.start('converge', () => Promise.resolve());
    await settle();
    await settle();
    expect(tasks.list()[0]?.state).toBe('complete');
    off();
    expect(tasks.listenerCount).toBe(1);
  });
});
