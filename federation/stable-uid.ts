import { createHash } from 'node:crypto';

/**
 * A UUID (version 5 layout) derived from where an object comes from, so that every replica and every restart
 * gives a derived object the same uid, and a recreated source object (new source uid) a new one.
 */
export function stableUid(cluster: string, kind: string, sourceUid: string): string {
  const h = createHash('sha1').update(`${cluster}\0${kind}\0${sourceUid}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
