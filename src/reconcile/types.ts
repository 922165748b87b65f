/**
 * The reconciler's view of the host: what is desired (from the master), what
 * was observed (package db, service manager, config hooks), and the actions
 * that take one to the other.
 */
export interface ObservedApp {
  name: string;
  /** As the package database reports it. */
  version: string;
  /** The agent may remove it: it provides `pf9app`, or the agent recorded installing it. */
  managed: boolean;
  /** Every service of the app runs. */
  running: boolean;
  /** Config as last set or read through the app's hook; undefined when unknown (no hook). */
  config: Record<string, unknown> | undefined;
}

export type Observed = ReadonlyMap<string, ObservedApp>;

export type Action =
  | { kind: 'stop'; app: string }
  | { kind: 'unbind_topic'; app: string }
  | { kind: 'remove'; app: string }
  | { kind: 'download'; app: string; version: string; url: string | undefined; sha256: string | undefined }
  | { kind: 'install'; app: string; version: string }
  | { kind: 'upgrade'; app: string; from: string; version: string }
  | { kind: 'set_config'; app: string; config: Record<string, unknown> }
  | { kind: 'start'; app: string }
  | { kind: 'restart'; app: string }
  | { kind: 'bind_topic'; app: string };

export type ActionKind = Action['kind'];

/** The order in which the executor runs kinds: everything that takes away first, then what builds up. */
export const ACTION_ORDER: readonly ActionKind[] = [
  'stop',
  'unbind_topic',
  'remove',
  'download',
  'install',
  'upgrade',
  'set_config',
  'start',
  'restart',
  'bind_topic',
];
