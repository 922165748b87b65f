/**
 * planActions(desired, observed, boundTopics) -> ordered actions. Pure: no
 * I/O, no clock. The executor applies them; applying them and observing
 * again must plan nothing (tested as a round trip, as sozu's
 * ConfigState::diff is).
 *
 * Ordering, like sozu's diff: everything that takes away runs before what
 * builds up (stop, unbind, remove; then download, install/upgrade, config,
 * start, bind), so a host never runs the old and the new at once and a topic
 * is bound only once its app is there to answer.
 *
 * Only managed apps are ever removed: a package that does not provide
 * `pf9app` and that the agent did not install is not ours, whatever the
 * desired set says.
 */
import type { DesiredApps } from '../protocol/bbone/types.js';
import { ACTION_ORDER, type Action, type Observed } from './types.js';

/** Every key of `want` is in `have` with an equal value, recursively (arrays compared whole). */
export function isConfigSubset(want: unknown, have: unknown): boolean {
  if (want === have) return true;
  if (typeof want !== 'object' || want === null || typeof have !== 'object' || have === null) return false;
  if (Array.isArray(want) || Array.isArray(have)) {
    return Array.isArray(want) && Array.isArray(have) && want.length === have.length && want.every((w, i) => isConfigSubset(w, have[i]) && isConfigSubset(have[i], w));
  }
  const h = have as Record<string, unknown>;
  return Object.entries(want as Record<string, unknown>).every(([k, v]) => k in h && isConfigSubset(v, h[k]));
}

export interface PlanOptions {
  /** App topics currently bound on the bus. */
  boundTopics: ReadonlySet<string>;
  /** Apps to leave alone this round (given up after too many attempts). */
  skip?: ReadonlySet<string>;
}

export function planActions(desired: DesiredApps, observed: Observed, opts: PlanOptions): Action[] {
  const actions: Action[] = [];
  const skip = opts.skip ?? new Set<string>();

  for (const [app, want] of Object.entries(desired)) {
    if (skip.has(app)) continue;
    const have = observed.get(app);
    const config = want.config;
    if (!have || have.version !== want.version) {
      actions.push({ kind: 'download', app, version: want.version, url: want.url, sha256: want.sha256 });
      actions.push(have ? { kind: 'upgrade', app, from: have.version, version: want.version } : { kind: 'install', app, version: want.version });
      if (config !== undefined) actions.push({ kind: 'set_config', app, config });
      // The old binary keeps running through a package upgrade; restart it into the new one.
      if (want.running) actions.push({ kind: have?.running ? 'restart' : 'start', app });
      else if (have?.running) actions.push({ kind: 'stop', app });
    } else {
      if (config !== undefined && (have.config === undefined || !isConfigSubset(config, have.config))) {
        actions.push({ kind: 'set_config', app, config });
      }
      if (want.running && !have.running) actions.push({ kind: 'start', app });
      if (!want.running && have.running) actions.push({ kind: 'stop', app });
    }
    if (!opts.boundTopics.has(app)) actions.push({ kind: 'bind_topic', app });
  }

  for (const [app, have] of observed) {
    if (app in desired || !have.managed || skip.has(app)) continue;
    if (have.running) actions.push({ kind: 'stop', app });
    if (opts.boundTopics.has(app)) actions.push({ kind: 'unbind_topic', app });
    actions.push({ kind: 'remove', app });
  }

  for (const topic of opts.boundTopics) {
    if (!(topic in desired) && !observed.get(topic)?.managed) actions.push({ kind: 'unbind_topic', app: topic });
  }

  return sortActions(actions);
}

/** Stable sort by ACTION_ORDER: within a kind, apps keep the order they were planned in. */
export function sortActions(actions: Action[]): Action[] {
  const rank = (a: Action): number => ACTION_ORDER.indexOf(a.kind);
  return actions
    .map((a, i) => ({ a, i }))
    .sort((x, y) => rank(x.a) - rank(y.a) || x.i - y.i)
    .map(({ a }) => a);
}
