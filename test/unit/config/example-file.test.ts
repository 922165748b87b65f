import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/load-config.js';
import { SCHEMA_KEYS } from '../../../src/config/schema.js';

const EXAMPLE = fileURLToPath(new URL('../../../etc/hostagent.conf', import.meta.url));
const text = readFileSync(EXAMPLE, 'utf8');

describe('etc/hostagent.conf', () => {
  it('loads as is without warnings', () => {
    const { warnings, origins } = resolveConfig({ file: { path: EXAMPLE, text }, env: {}, sets: [] });
    expect(warnings).toEqual([]);
    expect(new Set(Object.values(origins))).toEqual(new Set(['default']));
  });

  it('lists every key with its true default', () => {
    const uncommented = text.replace(/^;(?=\s*\w+\s*=)/gm, '');
    const fromFile = resolveConfig({ file: { path: EXAMPLE, text: uncommented }, env: {}, sets: [] });
    const defaults = resolveConfig({ env: {}, sets: [] });
    expect(fromFile.warnings).toEqual([]);
    expect(fromFile.config).toEqual(defaults.config);
    for (const key of SCHEMA_KEYS) expect(fromFile.origins[key]).toMatch(/^file /);
  });
});
