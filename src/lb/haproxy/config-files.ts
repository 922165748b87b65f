/**
 * The engine's files on disk: the running config, the candidate checked by
 * `haproxy -c` before it may replace it, and the TLS PEM files (certificate,
 * chain and key, mode 0600 in a 0700 directory: the only place key material
 * is written).
 *
 * Writes are a temporary file renamed into place, so HAProxy (which reads
 * the config at reload) and a restarted agent never see half a file. They
 * are not fsynced: the handler persists the state before it answers, and
 * after a power loss re-applies it, which writes these files again.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LbError } from '../../errors.js';
import type { LbState } from '../model.js';
import { checkConfig, type HaproxyPaths } from './process.js';
import { tlsPem, tlsPemPath } from './render.js';

async function writeReplace(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

export class ConfigFiles {
  constructor(
    private readonly paths: HaproxyPaths,
    private readonly bin: string,
  ) {}

  async ensureDirs(): Promise<void> {
    await mkdir(this.paths.runDir, { recursive: true, mode: 0o700 });
    await mkdir(this.paths.tlsDir, { recursive: true, mode: 0o700 });
    await mkdir(this.paths.logDir, { recursive: true, mode: 0o700 });
  }

  /** The config HAProxy runs (or last ran), if any. */
  read(): Promise<string | undefined> {
    return readFile(this.paths.config, 'utf8').catch(() => undefined);
  }

  /** Writes the PEMs and the candidate, runs `haproxy -c`; LB_INVALID with HAProxy's words when it refuses. */
  async validate(state: LbState, text: string): Promise<void> {
    for (const lb of state.loadBalancers) {
      const pem = tlsPem(lb);
      const file = tlsPemPath(this.paths.runDir, lb);
      if (pem !== undefined && file !== undefined) await writeReplace(file, pem);
    }
    await writeFile(this.paths.candidate, text, { mode: 0o600 });
    const r = await checkConfig(this.bin, this.paths.candidate);
    if (!r.ok) {
      await rm(this.paths.candidate, { force: true });
      throw new LbError('LB_INVALID', `haproxy rejected the configuration: ${r.message}`);
    }
  }

  /** The validated candidate becomes the config. */
  installCandidate(): Promise<void> {
    return rename(this.paths.candidate, this.paths.config);
  }

  write(text: string): Promise<void> {
    return writeReplace(this.paths.config, text);
  }

  /** Puts back what ran before a failed start or reload (nothing, if nothing ran). */
  async restore(previous: string | undefined): Promise<void> {
    if (previous === undefined) await rm(this.paths.config, { force: true });
    else await this.write(previous);
  }

  /** Whether the config on disk passes `haproxy -c` (false when there is none). */
  async onDiskValid(): Promise<boolean> {
    if ((await this.read()) === undefined) return false;
    return (await checkConfig(this.bin, this.paths.config)).ok;
  }

  /** Removes PEM files the running config no longer names (old certificates, deleted load balancers). */
  async prunePems(state: LbState): Promise<void> {
    const keep = new Set<string>();
    for (const lb of state.loadBalancers) {
      const file = tlsPemPath(this.paths.runDir, lb);
      if (file !== undefined) keep.add(basename(file));
    }
    const files = await readdir(this.paths.tlsDir).catch(() => [] as string[]);
    await Promise.all(files.filter((f) => !keep.has(f)).map((f) => rm(join(this.paths.tlsDir, f), { force: true })));
  }

  /** DELETE: everything but the run dir itself. */
  async removeAll(): Promise<void> {
    const p = this.paths;
    for (const f of [p.config, p.candidate, `${p.config}.tmp`, p.stateFile, p.pidFile, p.masterSocket, p.adminSocket]) {
      await rm(f, { force: true });
    }
    await rm(p.tlsDir, { recursive: true, force: true });
    await rm(p.logDir, { recursive: true, force: true });
  }
}
