/**
 * User= and Group= to numeric ids. `getent` asks NSS, so users from LDAP or
 * sssd resolve as systemd would resolve them; when getent is missing (a
 * minimal image) the host's /etc/passwd and /etc/group are read. Always the
 * host's databases, not the install root's: the process runs on this kernel
 * with these ids.
 */
import { readFile } from 'node:fs/promises';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

type Database = 'passwd' | 'group';

/** The matching line of `database`, undefined when there is no such entry. */
async function getent(database: Database, key: string): Promise<string[] | undefined> {
  // execa costs ~10 MB once loaded; only agents that start services as another user pay for it.
  const { execa } = await import('execa');
  try {
    const { stdout } = await execa('getent', [database, key], { timeout: 10_000 });
    const line = stdout.split('\n')[0];
    return line ? line.split(':') : undefined;
  } catch (err) {
    const e = err as { exitCode?: number; code?: string };
    if (e.exitCode === 2) return undefined; // getent: key not found
    if (e.code !== 'ENOENT') throw err;
  }
  const text = await readFile(`/etc/${database}`, 'utf8');
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 3 && (fields[0] === key || fields[2] === key)) return fields;
  }
  return undefined;
}

export async function lookupUser(nameOrId: string): Promise<PasswdEntry | undefined> {
  const f = await getent('passwd', nameOrId);
  if (!f || f.length < 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
  return { name: f[0]!, uid, gid, home: f[5]!, shell: f[6]! };
}

export async function lookupGroupId(nameOrId: string): Promise<number | undefined> {
  const f = await getent('group', nameOrId);
  const gid = Number(f?.[2]);
  return f && Number.isInteger(gid) ? gid : undefined;
}
