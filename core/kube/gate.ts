/**
 * A counting semaphore: at most `width` holders at once. Informers share one for their lists, so that a process
 * with many clusters never parses all their full lists at the same moment (the transient peak is what stays
 * in RSS afterwards).
 */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly width: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.width) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
