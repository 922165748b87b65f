/** A self-signed certificate made at test time with openssl (nothing secret is checked in). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function selfSigned(cn: string): { certificate: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sozu-cert-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-days', '2'], { stdio: 'ignore' });
    return { certificate: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
