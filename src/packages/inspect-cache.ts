/**
 * What is inside a cached package file, remembered beside it
 * (`<file>.inspect.json`), so a file the agent already looked into is not
 * opened with dpkg-deb/rpm again on every converge that installs it (one
 * process per app was most of a cache-warm converge's own cost). The record
 * is keyed by the file's size and mtime: a file replaced or touched behind
 * our back is inspected anew.
 */
import { readFile, stat, writeFile, rename } from 'node:fs/promises';
import type { PackageBackend } from './types.js';

interface InspectRecord {
  size: number;
  mtimeMs: number;
  name: string;
  version: string;
}

export async function inspectCached(backend: Pick<PackageBackend, 'inspect' | 'kind'>, file: string): Promise<{ name: string; version: string }> {
  const meta = `${file}.inspect.json`;
  const st = await stat(file).catch(() => undefined);
  // Nothing to key a record on: just ask the backend, which reports the problem with the file.
  if (!st) return backend.inspect(file);
  try {
    const rec = JSON.parse(await readFile(meta, 'utf8')) as Partial<InspectRecord>;
    if (rec.size === st.size && rec.mtimeMs === st.mtimeMs && typeof rec.name === 'string' && typeof rec.version === 'string') {
      return { name: rec.name, version: rec.version };
    }
  } catch {
    // No record yet (or an unreadable one): inspect below.
  }
  const inside = await backend.inspect(file);
  const record: InspectRecord = { size: st.size, mtimeMs: st.mtimeMs, ...inside };
  const tmp = `${meta}.${process.pid}.tmp`;
  // Best effort: without the record the next converge just inspects again.
  await writeFile(tmp, JSON.stringify(record))
    .then(() => rename(tmp, meta))
    .catch(() => undefined);
  return inside;
}
