/** The bit shared by every label key past the first 30: a hit on it must be confirmed against the key itself. */
export const OVERFLOW_BIT = 1 << 30;

/**
 * One bit per label key that some selector reads, handed out in order of first use and never taken back, so that
 * "does this selector read one of the changed keys?" is one AND of two small integers in the common case.
 */
export class LabelBits {
  private readonly bits = new Map<string, number>();

  /** The key's bit; 0 for a key no selector has ever read (nothing can depend on it). */
  bitOf(label: string): number {
    return this.bits.get(label) ?? 0;
  }

  /** The mask of these keys, giving bits to keys seen for the first time. */
  maskOf(labels: Iterable<string>): number {
    let mask = 0;
    for (const label of labels) {
      let bit = this.bits.get(label);
      if (bit === undefined) {
        bit = this.bits.size < 30 ? 1 << this.bits.size : OVERFLOW_BIT;
        this.bits.set(label, bit);
      }
      mask |= bit;
    }
    return mask;
  }
}

/** Whether a selector reading `reads` (mask `readBits`) reads one of `changed` (mask `changedBits`). */
export function readsAnyOf(
  readBits: number,
  reads: ReadonlySet<string>,
  changedBits: number,
  changed: readonly string[],
): boolean {
  const common = readBits & changedBits;
  if (common === 0) return false;
  if (common !== OVERFLOW_BIT) return true;
  for (const key of changed) if (reads.has(key)) return true;
  return false;
}
