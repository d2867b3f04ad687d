import { createHash } from 'node:crypto';

const hexDigits = Buffer.from('0123456789abcdef', 'latin1');
/** Byte offsets in the digest after which a hyphen follows (8-4-4-4-12 hex digits). */
const hyphenAfter = new Set([3, 5, 7, 9]);

/**
 * A UUID (version 5 layout) derived from where an object comes from, so that every replica and every restart
 * gives a derived object the same uid, and a recreated source object (new source uid) a new one.
 */
export function stableUid(cluster: string, kind: string, sourceUid: string): string {
  const h = createHash('sha1').update(`${cluster}\0${kind}\0${sourceUid}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  // Written into one buffer and decoded once: the result is a single flat string. Joining slices would
  // leave a tree of concatenated strings behind every uid the cache holds (about 300 bytes each instead of 56).
  const out = Buffer.allocUnsafe(36);
  let o = 0;
  for (let i = 0; i < 16; i++) {
    const b = h[i] ?? 0;
    out[o++] = hexDigits[b >> 4] ?? 0;
    out[o++] = hexDigits[b & 15] ?? 0;
    if (hyphenAfter.has(i)) out[o++] = 0x2d;
  }
  return out.toString('latin1');
}
