/**
 * EnvironmentFile= contents as systemd reads them: `NAME=value` lines,
 * `#`/`;` comment lines, values single-quoted (literal), double-quoted
 * (backslash escapes `"` `\` `$` and a newline) or bare (backslash escapes
 * the next character, trailing blanks dropped); a backslash before a newline
 * continues the value. No `$VAR` expansion and no `export` keyword, as in
 * systemd. Invalid lines are reported, not fatal.
 */
import { isValidEnvName } from './unit-words.js';

export function parseEnvFile(input: string): { env: Record<string, string>; warnings: string[] } {
  const text = input.replace(/\r\n/g, '\n');
  const env: Record<string, string> = {};
  const warnings: string[] = [];
  let i = 0;
  let line = 1;
  const peek = (k = 0): string | undefined => text[i + k];
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) {
      if (text[i] === '\n') line++;
      i++;
    }
    if (i >= text.length) break;
    const startLine = line;
    if (peek() === '#' || peek() === ';') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    let key = '';
    while (i < text.length && text[i] !== '=' && text[i] !== '\n') key += text[i++];
    if (peek() !== '=') {
      warnings.push(`line ${startLine}: no "=" in "${key.trim()}"`);
      continue;
    }
    i++; // '='
    while (peek() === ' ' || peek() === '\t') i++;
    let value = '';
    let keep = 0; // length of value without trailing bare blanks
    while (i < text.length && text[i] !== '\n') {
      const c = text[i]!;
      if (c === "'" || c === '"') {
        i++;
        while (i < text.length && text[i] !== c) {
          if (text[i] === '\n') line++;
          if (c === '"' && text[i] === '\\' && i + 1 < text.length) {
            const next = text[i + 1]!;
            if (next === '\n') line++;
            else value += '"\\`$'.includes(next) ? next : `\\${next}`;
            i += 2;
            continue;
          }
          value += text[i++];
        }
        if (i >= text.length) warnings.push(`line ${startLine}: unterminated ${c} quote`);
        i++;
        keep = value.length;
      } else if (c === '\\' && i + 1 < text.length) {
        if (text[i + 1] === '\n') line++;
        else value += text[i + 1];
        i += 2;
        keep = value.length;
      } else {
        value += c;
        i++;
        if (c !== ' ' && c !== '\t') keep = value.length;
      }
    }
    const name = key.trim();
    if (!isValidEnvName(name)) warnings.push(`line ${startLine}: invalid variable name "${name}"`);
    else env[name] = value.slice(0, keep);
  }
  return { env, warnings };
}
