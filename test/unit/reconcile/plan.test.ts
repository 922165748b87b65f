import { describe, expect, it } from 'vitest';
import { isConfigSubset, planActions } from '../../../src/reconcile/plan.js';
import type { Action, ObservedApp } from '../../../src/reconcile/types.js';
import type { DesiredApps } from '../../../src/protocol/bbone/types.js';

const app = (name: string, version: string, over: Partial<ObservedApp> = {}): [string, ObservedApp] => [
  name,
  { name, version, managed: true, running: true, config: {}, ...over },
];

/** What the executor would leave behind, for round-trip tests. */
function simulate(observed: Map<string, ObservedApp>, topics: Set<string>, actions: Action[], desired: DesiredApps): void {
  for (const a of actions) {
    const cur = observed.get(a.app);
    switch (a.kind) {
      case 'install':
      case 'upgrade':
        observed.set(a.app, { name: a.app, version: a.version, managed: true, running: cur?.running ?? false, config: {} });
        break;
      case 'remove':
        observed.delete(a.app);
        break;
      case 'set_config':
        if (cur) cur.config = { ...a.config };
        break;
      case 'start':
      case 'restart':
        if (cur) cur.running = true;
        break;
      case 'stop':
        if (cur) cur.running = false;
        break;
      case 'bind_topic':
        topics.add(a.app);
        break;
      case 'unbind_topic':
        topics.delete(a.app);
        break;
      case 'download':
        expect(desired[a.app]?.url).toBe(a.url);
        break;
    }
  }
}

const desiredTwo: DesiredApps = {
  'pf9-a': { version: '1.0-1', url: 'http://r/pf9-a-1.0-1.rpm', running: true, config: { port: 80, nested: { x: 1 } } },
  'pf9-b': { version: '2.0-1', url: 'http://r/pf9-b-2.0-1.rpm', running: false },
};

describe('planActions', () => {
  it.each<[string, DesiredApps, Array<[string, ObservedApp]>, string[], string[]]>([
    ['nothing desired, nothing there', {}, [], [], []],
    [
      'a new app: download, install, configure, start, bind',
      { 'pf9-a': { version: '1', url: 'u', running: true, config: { k: 1 } } },
      [],
      [],
      ['download pf9-a', 'install pf9-a', 'set_config pf9-a', 'start pf9-a', 'bind_topic pf9-a'],
    ],
    [
      'same version, config a subset, same running: nothing',
      { 'pf9-a': { version: '1', running: true, config: { k: 1 } } },
      [app('pf9-a', '1', { config: { k: 1, extra: 'set by the app' } })],
      ['pf9-a'],
      [],
    ],
    [
      'config changed only: set_config, no reinstall',
      { 'pf9-a': { version: '1', running: true, config: { k: 2 } } },
      [app('pf9-a', '1', { config: { k: 1 } })],
      ['pf9-a'],
      ['set_config pf9-a'],
    ],
    [
      'unknown current config (no hook output yet): set it',
      { 'pf9-a': { version: '1', running: true, config: {} } },
      [app('pf9-a', '1', { config: undefined })],
      ['pf9-a'],
      ['set_config pf9-a'],
    ],
    [
      'no config in the desired entry: config is not the agent\'s business',
      { 'pf9-a': { version: '1', running: true } },
      [app('pf9-a', '1', { config: undefined })],
      ['pf9-a'],
      [],
    ],
    [
      'running false: stop',
      { 'pf9-a': { version: '1', running: false } },
      [app('pf9-a', '1')],
      ['pf9-a'],
      ['stop pf9-a'],
    ],
    [
      'stopped but wanted running (drift): start',
      { 'pf9-a': { version: '1', running: true } },
      [app('pf9-a', '1', { running: false })],
      ['pf9-a'],
      ['start pf9-a'],
    ],
    [
      'new version: download, upgrade, config, restart',
      { 'pf9-a': { version: '1.1', url: 'u', running: true, config: { k: 1 } } },
      [app('pf9-a', '1.0', { config: { k: 1 } })],
      ['pf9-a'],
      ['download pf9-a', 'upgrade pf9-a', 'set_config pf9-a', 'restart pf9-a'],
    ],
    [
      'new version and running false: stop first, then upgrade',
      { 'pf9-a': { version: '1.1', url: 'u', running: false } },
      [app('pf9-a', '1.0')],
      ['pf9-a'],
      ['stop pf9-a', 'download pf9-a', 'upgrade pf9-a'],
    ],
    [
      'a managed app no longer desired: stop, unbind, remove',
      {},
      [app('pf9-a', '1')],
      ['pf9-a'],
      ['stop pf9-a', 'unbind_topic pf9-a', 'remove pf9-a'],
    ],
    ['an unmanaged package is never touched', {}, [app('openssh-server', '9.2', { managed: false })], [], []],
    ['a stray topic with no app behind it is unbound', {}, [], ['pf9-gone'], ['unbind_topic pf9-gone']],
  ])('%s', (_name, desired, observed, topics, expected) => {
    const actions = planActions(desired, new Map(observed), { boundTopics: new Set(topics) });
    expect(actions.map((a) => `${a.kind} ${a.app}`)).toEqual(expected);
  });

  it('orders every take-away before any build-up, across apps', () => {
    const desired: DesiredApps = { 'pf9-new': { version: '1', url: 'u', running: true }, 'pf9-keep': { version: '2', url: 'u', running: true } };
    const actions = planActions(desired, new Map([app('pf9-old', '1'), app('pf9-keep', '1')]), { boundTopics: new Set(['pf9-old', 'pf9-keep']) });
    const kinds = actions.map((a) => `${a.kind} ${a.app}`);
    expect(kinds).toEqual([
      'stop pf9-old',
      'unbind_topic pf9-old',
      'remove pf9-old',
      'download pf9-new',
      'download pf9-keep',
      'install pf9-new',
      'upgrade pf9-keep',
      'start pf9-new',
      'restart pf9-keep',
      'bind_topic pf9-new',
    ]);
  });

  it('leaves skipped (given-up) apps alone, in both directions', () => {
    const actions = planActions({ 'pf9-a': { version: '2', url: 'u', running: true } }, new Map([app('pf9-b', '1')]), {
      boundTopics: new Set(),
      skip: new Set(['pf9-a', 'pf9-b']),
    });
    expect(actions).toEqual([]);
  });
});

describe('round trips', () => {
  it('planning from empty builds the state; re-planning then gives nothing', () => {
    const observed = new Map<string, ObservedApp>();
    const topics = new Set<string>();
    simulate(observed, topics, planActions(desiredTwo, observed, { boundTopics: topics }), desiredTwo);
    expect(planActions(desiredTwo, observed, { boundTopics: topics })).toEqual([]);
    expect([...observed.keys()].sort()).toEqual(['pf9-a', 'pf9-b']);
    expect(observed.get('pf9-a')).toMatchObject({ version: '1.0-1', running: true, config: { port: 80, nested: { x: 1 } } });
    expect(observed.get('pf9-b')).toMatchObject({ version: '2.0-1', running: false });
    expect([...topics].sort()).toEqual(['pf9-a', 'pf9-b']);
  });

  it('planning to empty tears it all down, and then nothing is left to do', () => {
    const observed = new Map([app('pf9-a', '1'), app('pf9-b', '2', { running: false }), app('bash', '5.2', { managed: false })]);
    const topics = new Set(['pf9-a', 'pf9-b']);
    simulate(observed, topics, planActions({}, observed, { boundTopics: topics }), {});
    expect([...observed.keys()]).toEqual(['bash']);
    expect(topics.size).toBe(0);
    expect(planActions({}, observed, { boundTopics: topics })).toEqual([]);
  });

  it('from one desired state to another converges in one round', () => {
    const observed = new Map<string, ObservedApp>();
    const topics = new Set<string>();
    simulate(observed, topics, planActions(desiredTwo, observed, { boundTopics: topics }), desiredTwo);
    const next: DesiredApps = {
      'pf9-a': { version: '1.1-1', url: 'http://r/pf9-a-1.1-1.rpm', running: false, config: { port: 81 } },
      'pf9-c': { version: '1', url: 'http://r/c.rpm', running: true },
    };
    simulate(observed, topics, planActions(next, observed, { boundTopics: topics }), next);
    expect(planActions(next, observed, { boundTopics: topics })).toEqual([]);
    expect([...observed.keys()].sort()).toEqual(['pf9-a', 'pf9-c']);
  });
});

describe('isConfigSubset', () => {
  it.each<[unknown, unknown, boolean]>([
    [{}, {}, true],
    [{}, { a: 1 }, true],
    [{ a: 1 }, {}, false],
    [{ a: 1 }, { a: 1, b: 2 }, true],
    [{ a: { b: 1 } }, { a: { b: 1, c: 2 } }, true],
    [{ a: { b: 1 } }, { a: { b: 2 } }, false],
    [{ a: [1, 2] }, { a: [1, 2] }, true],
    [{ a: [1] }, { a: [1, 2] }, false],
    [{ a: [{ x: 1 }] }, { a: [{ x: 1, y: 2 }] }, false],
    [{ a: null }, { a: null }, true],
    [{ a: '1' }, { a: 1 }, false],
  ])('%j within %j: %s', (want, have, expected) => {
    expect(isConfigSubset(want, have)).toBe(expected);
  });
});
