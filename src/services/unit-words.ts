/**
 * The lexical rules of systemd unit values (systemd.syntax(7),
 * systemd.service(5) "Command lines"): splitting into words with quotes and
 * C escapes, `%` specifiers, and the `$VAR` / `${VAR}` substitution done when
 * a command is started. Pure functions; errors are AppError SERVICE_FAILED
 * with the offending text, because a unit we misread would run the wrong
 * command, which is worse than not running it.
 */
import { AppError } from '../errors.js';

export interface SplitOptions {
  /** Decode C escapes (`\n`, `\x41`, `\s` ...) as ExecStart= and Environment= do. */
  cunescape: boolean;
  /** Tolerate an unterminated quote or a trailing backslash (used when splitting a variable's value). */
  relax?: boolean;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
  '\\': '\\', '"': '"', "'": "'", s: ' ',
};
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isValidEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/**
 * Splits `text` into words. Quotes may open anywhere inside a word
 * (`a"b c"d` is one word `ab cd`), as in systemd's extract_first_word with
 * EXTRACT_UNQUOTE; a backslash before whitespace keeps the whitespace.
 */
export function splitWords(text: string, what: string, opts: SplitOptions): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++;
    if (i >= text.length) break;
    let word = '';
    let quote: string | undefined;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quote === undefined && WHITESPACE.has(c)) break;
      if (c === '\\') {
        const decoded = decodeEscape(text, i, what, opts);
        word += decoded.value;
        i += decoded.length - 1;
      } else if (quote !== undefined && c === quote) {
        quote = undefined;
      } else if (quote === undefined && (c === '"' || c === "'")) {
        quote = c;
      } else {
        word += c;
      }
    }
    if (quote !== undefined && !opts.relax) fail(`${what}: unterminated ${quote} quote in: ${text}`);
    words.push(word);
  }
  return words;
}

/** One backslash sequence starting at `text[at]`: its value and how many characters it spans. */
function decodeEscape(text: string, at: number, what: string, opts: SplitOptions): { value: string; length: number } {
  const next = text[at + 1];
  if (next === undefined) {
    if (opts.relax) return { value: '\\', length: 1 };
    return fail(`${what}: trailing backslash in: ${text}`);
  }
  if (!opts.cunescape || WHITESPACE.has(next)) return { value: next, length: 2 };
  const simple = SIMPLE_ESCAPES[next];
  if (simple !== undefined) return { value: simple, length: 2 };
  const hexLength = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
  if (hexLength > 0) {
    const digits = text.slice(at + 2, at + 2 + hexLength);
    const code = /^[0-9a-fA-F]+$/.test(digits) && digits.length === hexLength ? parseInt(digits, 16) : 0;
    if (code > 0 && code <= 0x10ffff) return { value: String.fromCodePoint(code), length: 2 + hexLength };
  } else if (next >= '0' && next <= '7') {
    const digits = text.slice(at + 1, at + 4);
    const code = /^[0-7]{3}$/.test(digits) ? parseInt(digits, 8) : 0;
    if (code > 0 && code < 256) return { value: String.fromCharCode(code), length: 4 };
  }
  return fail(`${what}: invalid escape \\${next} in: ${text}`);
}

export interface SpecifierContext {
  /** Full unit name, e.g. `pf9-foo.service` or `pf9-foo@a.service`. */
  unitName?: string;
}

/** Directories of the system manager; paths as written, not moved under an install root. */
const FIXED_SPECIFIERS: Record<string, string> = {
  '%': '%', t: '/run', S: '/var/lib', C: '/var/cache', L: '/var/log', E: '/etc', T: '/tmp', V: '/var/tmp',
};

/**
 * Expands the `%` specifiers we can know without a running systemd. Others
 * (`%H`, `%u`, `%m` ...) are refused rather than passed through: systemd
 * would have replaced them, so the literal text is never what was meant.
 */
export function expandSpecifiers(value: string, what: string, ctx: SpecifierContext): string {
  if (!value.includes('%')) return value;
  const full = ctx.unitName ?? '';
  const base = full.replace(/\.service$/, '');
  const at = base.indexOf('@');
  const prefix = at >= 0 ? base.slice(0, at) : base;
  const instance = at >= 0 ? base.slice(at + 1) : '';
  const byName: Record<string, string> = { ...FIXED_SPECIFIERS, n: full, N: base, p: prefix, P: prefix, i: instance, I: instance };
  return value.replace(/%(.?)/g, (_match, letter: string) => {
    const replacement = byName[letter];
    if (replacement === undefined) return fail(`${what}: specifier %${letter} is not supported by the built-in supervisor`);
    if (replacement === '' && letter !== '%' && ctx.unitName === undefined) {
      return fail(`${what}: specifier %${letter} needs the unit name`);
    }
    return replacement;
  });
}

/**
 * Substitutes variables in a command's argv at start time, as systemd does:
 * a word that is exactly `$NAME` becomes the value split at whitespace (zero
 * or more words, quotes honoured); `${NAME}` anywhere becomes the value as
 * one piece; `$$` is a literal `$`; any other `$` stays as written. Unset
 * variables are empty.
 */
export function expandArgv(argv: readonly string[], env: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const word of argv) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) {
      const value = env[whole[1]!];
      if (value !== undefined) out.push(...splitWords(value, `$${whole[1]}`, { cunescape: false, relax: true }));
      continue;
    }
    out.push(word.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string | undefined) => (name === undefined ? '$' : (env[name] ?? ''))));
  }
  return out;
}

/**
 * systemd time spans (`100ms`, `5`, `1min 30s`, `infinity`) in milliseconds;
 * undefined when malformed. A bare number is seconds.
 */
export function parseTimeSpanMs(text: string): number | undefined {
  const t = text.trim();
  if (t === 'infinity') return Number.POSITIVE_INFINITY;
  if (t === '') return undefined;
  const units: Record<string, number> = {
    us: 0.001, usec: 0.001, ms: 1, msec: 1, '': 1000, s: 1000, sec: 1000, second: 1000, seconds: 1000,
    m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000,
    hours: 3_600_000, d: 86_400_000, day: 86_400_000, days: 86_400_000, w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
  };
  let total = 0;
  const re = /\s*(\d+(?:\.\d+)?)\s*([a-z]*)/gy;
  let consumed = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    const factor = units[m[2]!];
    if (factor === undefined) return undefined;
    total += Number(m[1]) * factor;
    consumed = re.lastIndex;
  }
  return consumed === t.length ? Math.round(total) : undefined;
}

function fail(message: string): never {
  throw new AppError('SERVICE_FAILED', message);
}
