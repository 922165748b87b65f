import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const flagsOf = (line: string): string[] => line.split(/\s+/).filter((w) => w.startsWith('--') && !w.startsWith('--config'));

describe('the agent runs with the same V8 flags however it is started', () => {
  it('systemd ExecStart passes exactly the flags of the launcher shebang', () => {
    const shebang = readFileSync(resolve(ROOT, 'bin/pf9-hostagent.js'), 'utf8').split('\n')[0] ?? '';
    const unit = readFileSync(resolve(ROOT, 'packaging/systemd/pf9-hostagent.service'), 'utf8');
    const execStart = unit.split('\n').find((l) => l.startsWith('ExecStart=')) ?? '';
    expect(shebang.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    expect(flagsOf(shebang)).toEqual(['--single-threaded', '--max-semi-space-size=1']);
    expect(flagsOf(execStart.split('pf9-hostagent.js')[0] ?? '')).toEqual(flagsOf(shebang));
  });
});
