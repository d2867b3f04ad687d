/**
 * A counting semaphore: at most `width` holders at once. Informers share one for their lists, so that a process
 * with many clusters never parses all their full lists at the same moment (the transient peak is what stays
 * in RSS afterwards).
 */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  /**
   * @param parent a gate this one's holders also hold while they run, taken after this one: a narrow gate per
   *   cluster under the shared one keeps any one cluster (a slow or hostile one) to its own share of the shared
   *   slots, and its waiting holders take none.
   */
  constructor(
    readonly width: number,
    private readonly parent?: Gate,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.width) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return this.parent ? await this.parent.run(fn) : await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
