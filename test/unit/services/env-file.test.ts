import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../../src/services/env-file.js';

describe('parseEnvFile', () => {
  it.each([
    ['bare value, trailing blanks dropped', 'A=hello world  \n', { A: 'hello world' }],
    ['blanks around the value start', 'A=  x', { A: 'x' }],
    ['single quotes are literal', "A='a \\n $B \"c\"'", { A: 'a \\n $B "c"' }],
    ['double quotes with escapes', 'A="say \\"hi\\" \\\\ \\$HOME \\n"', { A: 'say "hi" \\ $HOME \\n' }],
    ['quoted value spanning lines', 'A="one\ntwo"\nB=3', { A: 'one\ntwo', B: '3' }],
    ['backslash-newline continues a bare value', 'A=one \\\ntwo', { A: 'one two' }],
    ['comments and blank lines', '# c\n; c\n\n  A=1\nB=2 # not a comment', { A: '1', B: '2 # not a comment' }],
    ['empty value', 'A=\nB=', { A: '', B: '' }],
    ['later wins', 'A=1\nA=2', { A: '2' }],
    ['CRLF', 'A=1\r\nB=2\r\n', { A: '1', B: '2' }],
  ])('%s', (_name, text, env) => {
    expect(parseEnvFile(text)).toEqual({ env, warnings: [] });
  });

  it('reports lines it cannot use and keeps the others', () => {
    const r = parseEnvFile('GOOD=1\nexport BAD=2\nnoequals\n9X=3\nA="open');
    expect(r.env).toEqual({ GOOD: '1', A: 'open' });
    expect(r.warnings).toEqual([
      'line 2: invalid variable name "export BAD"',
      'line 3: no "=" in "noequals"',
      'line 4: invalid variable name "9X"',
      'line 5: unterminated " quote',
    ]);
  });
});
