// The caBundle of the webhook configuration as a set of PEM certificates: merged, not replaced, so that replicas
// that each generated their own CA (and a CA being rotated) are all trusted at once; expired ones drop out.

import { X509Certificate } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function splitPemBundle(bundle: string): string[] {
  return (bundle.match(PEM_BLOCK) ?? []).map((p) => `${p.trim()}\n`);
}

/** Whether the certificate is still valid at `now` (unreadable ones are not). */
export function certificateValid(pem: string, now: Date): boolean {
  try {
    const c = new X509Certificate(pem);
    return new Date(c.validFrom) <= now && now < new Date(c.validTo);
  } catch {
    return false;
  }
}

/** `current`'s unexpired certificates plus `ours`, each once, in that order. */
export function mergeCaBundle(current: string, ours: readonly string[], now: Date): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const pem of [...splitPemBundle(current), ...ours.flatMap(splitPemBundle)]) {
    const key = pem.replace(/\s+/g, '');
    if (seen.has(key) || !certificateValid(pem, now)) continue;
    seen.add(key);
    out.push(pem);
  }
  return out.join('');
}
