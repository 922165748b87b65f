/**
 * The subset of a systemd service unit the built-in supervisor honours, read
 * from the unit file an app package installs (so one package works under
 * systemd and under the supervisor). From [Service]:
 *
 * - ExecStart= exactly one command (Type=oneshot's several are refused).
 *   Prefixes: `-` (a failing exit counts as success), `@` (second word is
 *   argv[0]), `:` (no variable substitution), `+` `!` `!!` (run with the
 *   agent's credentials, ignoring User=/Group=: the supervisor has no
 *   ambient capabilities, which is the case `!!` exists for). `|` and a `;`
 *   separator are refused. `$VAR`/`${VAR}` are substituted at start time
 *   (expandArgv) in the arguments, argv[0] included, not in the program
 *   path, as systemd does; `%n %N %p %i %I %t %S %C %L %E %T %V %%` are
 *   expanded here, other specifiers refused.
 * - Environment= (several, quoted `NAME=value` pairs; empty resets),
 *   EnvironmentFile= (`-` = optional; read at start), User=, Group=,
 *   WorkingDirectory= (`-` optional, `~` the user's home),
 * - Restart= no|always|on-success|on-failure|on-abnormal|on-abort|on-watchdog
 *   (on-watchdog never fires: no watchdog here), RestartSec= (default 100ms),
 * - Type=: simple, exec, notify, notify-reload, dbus, idle and oneshot are
 *   run as `exec` (started once exec succeeded; no readiness protocol);
 *   `forking` is refused by the supervisor, since it would lose the daemon.
 *
 * Other keys and sections are ignored; drop-in directories are not read.
 * Malformed values of keys we honour become `warnings` and keep defaults,
 * as systemd logs and ignores them.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { expandSpecifiers, isValidEnvName, parseTimeSpanMs, splitWords } from './unit-words.js';

export const RESTART_POLICIES = ['no', 'always', 'on-success', 'on-failure', 'on-abnormal', 'on-abort', 'on-watchdog'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

export interface ExecCommand {
  /** The program as written: an absolute path, or a bare name looked up in the default PATH. */
  path: string;
  /** argv including argv[0] (the path, or the `@` word); unquoted and unescaped, variables not yet substituted. */
  argv: string[];
  /** `-`: a failing exit status or signal is treated as success. */
  ignoreFailure: boolean;
  /** `+`, `!`, `!!`: do not switch to User=/Group=. */
  keepCredentials: boolean;
  /** `:`: argv is used without `$VAR` substitution. */
  noSubstitution: boolean;
}

export interface UnitSpec {
  execStart: ExecCommand;
  /** From Environment=, in order, later assignments win. */
  environment: Record<string, string>;
  environmentFiles: Array<{ path: string; optional: boolean }>;
  user?: string;
  group?: string;
  workingDirectory?: { path: string; optional: boolean };
  restart: RestartPolicy;
  restartSecMs: number;
  /** As written (lower case), default `simple`. */
  type: string;
  warnings: string[];
}

export interface ParseUnitOptions {
  /** e.g. `pf9-foo.service`: for `%n`, `%i` ... and for messages. */
  unitName?: string;
  /** The file's path, for messages (default: the unit name). */
  source?: string;
}

/** systemd's default RestartSec=. */
export const DEFAULT_RESTART_SEC_MS = 100;
const KNOWN_TYPES = new Set(['simple', 'exec', 'forking', 'oneshot', 'dbus', 'notify', 'notify-reload', 'idle']);

/** Logical lines of one section: continuations joined, comments dropped, with the line number where each began. */
function serviceAssignments(text: string): Array<{ key: string; value: string; line: number }> {
  const out: Array<{ key: string; value: string; line: number }> = [];
  let section = '';
  let pending: { text: string; line: number } | undefined;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    const trimmed = raw.trim();
    // systemd skips comment lines even in the middle of a continued value.
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const trailing = /\\+$/.exec(raw)?.[0].length ?? 0;
    const continues = trailing % 2 === 1;
    const piece = continues ? `${raw.slice(0, -1)} ` : raw;
    const joined = pending ? { text: pending.text + piece, line: pending.line } : { text: piece, line: n + 1 };
    if (continues && n < lines.length - 1) {
      pending = joined;
      continue;
    }
    pending = undefined;
    const logical = joined.text.trim();
    if (logical === '') continue;
    const header = /^\[([^\]]+)\]$/.exec(logical);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = logical.indexOf('=');
    if (section !== 'Service' || eq < 0) continue;
    out.push({ key: logical.slice(0, eq).trim(), value: logical.slice(eq + 1).trim(), line: joined.line });
  }
  return out;
}

export function parseUnitFile(text: string, opts: ParseUnitOptions = {}): UnitSpec {
  const where = opts.source ?? opts.unitName ?? 'unit file';
  const ctx = { unitName: opts.unitName };
  const warnings: string[] = [];
  const execStarts: ExecCommand[] = [];
  const spec: Omit<UnitSpec, 'execStart'> = {
    environment: {},
    environmentFiles: [],
    restart: 'no',
    restartSecMs: DEFAULT_RESTART_SEC_MS,
    type: 'simple',
    warnings,
  };
  for (const { key, value, line } of serviceAssignments(text)) {
    const what = `${where}:${line} ${key}=`;
    switch (key) {
      case 'ExecStart':
        if (value === '') execStarts.length = 0;
        else execStarts.push(parseExecCommand(value, what, ctx));
        break;
      case 'Environment':
        if (value === '') spec.environment = {};
        for (const word of value === '' ? [] : splitWords(value, what, { cunescape: true })) {
          const assignment = expandSpecifiers(word, what, ctx);
          const eq = assignment.indexOf('=');
          const name = eq > 0 ? assignment.slice(0, eq) : '';
          if (!isValidEnvName(name)) warnings.push(`${what} ignores invalid assignment "${assignment}"`);
          else spec.environment[name] = assignment.slice(eq + 1);
        }
        break;
      case 'EnvironmentFile':
        if (value === '') spec.environmentFiles = [];
        else spec.environmentFiles.push(optionalPath(expandSpecifiers(value, what, ctx)));
        break;
      case 'User':
        spec.user = value === '' ? undefined : expandSpecifiers(value, what, ctx);
        break;
      case 'Group':
        spec.group = value === '' ? undefined : expandSpecifiers(value, what, ctx);
        break;
      case 'WorkingDirectory':
        spec.workingDirectory = value === '' ? undefined : optionalPath(expandSpecifiers(value, what, ctx));
        break;
      case 'Restart':
        if ((RESTART_POLICIES as readonly string[]).includes(value)) spec.restart = value as RestartPolicy;
        else warnings.push(`${what} has unknown value "${value}"; using "${spec.restart}"`);
        break;
      case 'RestartSec': {
        const ms = parseTimeSpanMs(value);
        if (ms !== undefined && Number.isFinite(ms)) spec.restartSecMs = ms;
        else warnings.push(`${what} is not a time span: "${value}"`);
        break;
      }
      case 'Type':
        if (KNOWN_TYPES.has(value)) spec.type = value;
        else warnings.push(`${what} has unknown value "${value}"; using "${spec.type}"`);
        break;
    }
  }
  const execStart = execStarts[0];
  if (!execStart) throw new AppError('SERVICE_FAILED', `${where}: [Service] has no ExecStart=`);
  if (execStarts.length > 1) {
    throw new AppError('SERVICE_FAILED', `${where}: ${execStarts.length} ExecStart= commands; only one is supported (Type=oneshot chains are not)`);
  }
  return { ...spec, execStart };
}

function optionalPath(value: string): { path: string; optional: boolean } {
  return value.startsWith('-') ? { path: value.slice(1), optional: true } : { path: value, optional: false };
}

function parseExecCommand(value: string, what: string, ctx: { unitName: string | undefined }): ExecCommand {
  const words = splitWords(value, what, { cunescape: true });
  if (words.includes(';')) fail(`${what}: several commands separated by ";" are not supported`);
  const first = words[0] ?? '';
  const prefix = /^[-@:+!|]*/.exec(first)?.[0] ?? '';
  const cmd = { ignoreFailure: false, keepCredentials: false, noSubstitution: false, argv0: false };
  let credentialPrefixes = 0;
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix[i]!;
    if (c === '-') cmd.ignoreFailure = true;
    else if (c === '@') cmd.argv0 = true;
    else if (c === ':') cmd.noSubstitution = true;
    else if (c === '|') fail(`${what}: prefix "|" (run through the user's shell) is not supported`);
    else {
      // "+", "!" or "!!": all mean "do not switch credentials" here.
      if (c === '!' && prefix[i + 1] === '!') i++;
      credentialPrefixes++;
      cmd.keepCredentials = true;
    }
  }
  if (credentialPrefixes > 1) fail(`${what}: "+", "!" and "!!" cannot be combined`);
  const path = expandSpecifiers(first.slice(prefix.length), what, ctx);
  if (path === '') fail(`${what}: no program to run`);
  if (!path.startsWith('/') && path.includes('/')) fail(`${what}: program "${path}" must be an absolute path or a plain name`);
  const rest = words.slice(1).map((w) => expandSpecifiers(w, what, ctx));
  if (cmd.argv0 && rest.length === 0) fail(`${what}: prefix "@" needs argv[0] after the program`);
  const argv = cmd.argv0 ? rest : [path, ...rest];
  return { path, argv, ignoreFailure: cmd.ignoreFailure, keepCredentials: cmd.keepCredentials, noSubstitution: cmd.noSubstitution };
}

function fail(message: string): never {
  throw new AppError('SERVICE_FAILED', message);
}

/** Where packages put unit files, most specific first (as systemd's search path orders them). */
export const UNIT_DIRS = ['etc/systemd/system', 'usr/lib/systemd/system', 'lib/systemd/system'] as const;

/**
 * The unit file of `service` under `root`: `<service>.service`, or for an
 * instance `name@x` the template `name@.service`. Undefined when none exists.
 */
export async function findUnitFile(root: string, service: string): Promise<string | undefined> {
  const base = service.endsWith('.service') ? service.slice(0, -'.service'.length) : service;
  const at = base.indexOf('@');
  const names = [`${base}.service`];
  if (at >= 0 && at < base.length - 1) names.push(`${base.slice(0, at + 1)}.service`);
  for (const name of names) {
    for (const dir of UNIT_DIRS) {
      const file = join(root, dir, name);
      try {
        if ((await stat(file)).isFile()) return file;
      } catch {
        // not in this directory; try the next
      }
    }
  }
  return undefined;
}

/** Reads and parses the unit of `service`; AppError SERVICE_FAILED when there is none. */
export async function loadUnit(root: string, service: string): Promise<{ file: string; spec: UnitSpec }> {
  const file = await findUnitFile(root, service);
  if (!file) {
    const tried = UNIT_DIRS.map((d) => join(root, d)).join(', ');
    throw new AppError('SERVICE_FAILED', `no unit file ${service}.service in ${tried}`);
  }
  const unitName = service.endsWith('.service') ? service : `${service}.service`;
  return { file, spec: parseUnitFile(await readFile(file, 'utf8'), { unitName, source: file }) };
}
