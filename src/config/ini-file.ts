/**
 * Reading the INI file. The historical agent read it with Python 2's
 * ConfigParser, and existing files must mean the same thing here, while the
 * `ini` package differs in ways that would silently change values:
 *
 * - `ini` ends a value at any `;` or `#` (a password `s3cr#t` becomes `s3cr`);
 *   ConfigParser keeps both and only treats ` ;` (after a blank) as a comment.
 * - `ini` unquotes "quoted" values and drops backslashes; ConfigParser keeps
 *   the text as written.
 * - ConfigParser also accepts `key: value` and lower-cases key names.
 * - `ini` nests `[amqp.tls]` into `amqp.tls` (and moves it last); we keep
 *   the section name as written so an origin names the exact spelling.
 *
 * So one pass over the lines applies ConfigParser's rules and hands `ini`
 * each value JSON-quoted, which `ini` decodes back to exactly that text.
 */
import { readFileSync } from 'node:fs';
import { decode } from 'ini';
import { ConfigError } from '../errors.js';

export interface IniEntry {
  section: string;
  key: string;
  value: string;
}

export interface ParsedIni {
  entries: IniEntry[];
  warnings: string[];
}

const SECTION = /^\[([^\]]+)\]/;
const COMMENT = /^[;#]/;

/** ConfigParser's value rules: an inline comment starts at a `;` that follows a blank. */
function cleanValue(text: string): string {
  const comment = text.search(/\s;/);
  const value = (comment < 0 ? text : text.slice(0, comment)).trim();
  return value === '""' ? '' : value;
}

/**
 * Rewrites the text for `ini`: each value JSON-quoted, each section named by
 * its index in `sections` (so `ini` neither nests dotted names nor reorders
 * them).
 */
function normalizeLines(text: string, label: string, sections: string[], warnings: string[]): string {
  const out: string[] = [];
  // Where each [section] key was last written, so a repeated key replaces the earlier line.
  const seen = new Map<string, number>();
  let section: string | undefined;
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || COMMENT.test(trimmed)) return;
    const header = SECTION.exec(trimmed);
    if (header?.[1] !== undefined) {
      section = header[1].trim();
      if (!sections.includes(section)) sections.push(section);
      out.push(`[s${sections.indexOf(section)}]`);
      return;
    }
    const where = `${label} line ${index + 1}`;
    // The line's text is not quoted back: a mistyped line may hold a password.
    const sep = trimmed.search(/[:=]/);
    if (sep <= 0) {
      warnings.push(`${where}: not "key = value" nor "[section]"; ignored`);
      return;
    }
    if (section === undefined) {
      warnings.push(`${where}: key outside any [section]; ignored`);
      return;
    }
    const key = trimmed.slice(0, sep).trim().toLowerCase();
    const id = `[${section}] ${key}`;
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      warnings.push(`${where}: ${id} given again; this later value wins`);
      out[earlier] = '';
    }
    seen.set(id, out.length);
    out.push(`${JSON.stringify(key)}=${JSON.stringify(cleanValue(trimmed.slice(sep + 1)))}`);
  });
  return out.join('\n');
}

function asText(value: unknown): string {
  // `ini` turns the words true, false and null into JSON values even when quoted.
  return String(value);
}

/** Parses INI text into entries in file order; `label` names the file in warnings. */
export function parseIni(text: string, label: string): ParsedIni {
  const warnings: string[] = [];
  // bracketedArray off: `key[]` is just an odd (unknown) name, as for ConfigParser; repeats are gone already.
  const sections: string[] = [];
  const normalized = normalizeLines(text, label, sections, warnings);
  const decoded = decode(normalized, { bracketedArray: false }) as Record<string, Record<string, unknown> | undefined>;
  const entries: IniEntry[] = [];
  sections.forEach((section, index) => {
    for (const [key, value] of Object.entries(decoded[`s${index}`] ?? {})) {
      entries.push({ section, key, value: asText(value) });
    }
  });
  return { entries, warnings };
}

export interface ConfigFileText {
  /** Undefined when the file is absent and was not required. */
  text: string | undefined;
  warnings: string[];
}

function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}

/**
 * The only I/O of this module. A missing file that was not asked for is
 * fine; any other failure is fatal even for the default path, because
 * running on defaults when the operator's file exists but cannot be read
 * would connect to the wrong broker.
 */
export function readConfigFile(path: string, required: boolean): ConfigFileText {
  try {
    return { text: readFileSync(path, 'utf8'), warnings: [] };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT' && !required) {
      return { text: undefined, warnings: [`config file ${path} not found; using defaults, environment and --set`] };
    }
    throw new ConfigError(`cannot read config file ${path}: ${describeReadError(err)}`, { cause: err, code: 'CONFIG_FILE_UNREADABLE' });
  }
}
