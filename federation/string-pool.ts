// One shared copy of strings that repeat across thousands of objects (namespaces, node names, label keys, short
// label values): JSON.parse makes a new string for each occurrence. Strings cannot be held weakly, so the pool
// forgets by generations instead of never: a string not met again within a generation is dropped from it (objects
// that hold it keep it; a later occurrence simply starts a new shared copy). Churning values, such as the
// pod-template-hash of every rollout or the node names of an autoscaled pool, therefore cost at most two
// generations of entries, not a lifetime's.

export class StringPool {
  private young = new Map<string, string>();
  private old = new Map<string, string>();

  /** `generation`: strings met before the pool turns over, at the least (it also waits for as many as it keeps). */
  constructor(private readonly generation = 65_536) {}

  intern(s: string): string {
    const hit = this.young.get(s);
    if (hit !== undefined) return hit;
    const kept = this.old.get(s) ?? s;
    this.young.set(kept, kept);
    if (this.young.size >= Math.max(this.generation, this.old.size)) {
      this.old = this.young;
      this.young = new Map();
    }
    return kept;
  }

  /** Whether the pool holds a shared copy of `s` now. */
  holds(s: string): boolean {
    return this.young.has(s) || this.old.has(s);
  }

  /** Strings held now, both generations. */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
