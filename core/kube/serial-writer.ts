/**
 * Runs an async write so that two never overlap, and a request made during a write leads to exactly one more
 * write afterwards. For status writers: two patches in flight may reach kube-apiserver in either order, so an
 * older state could land last and stay. The write reads the current state itself when it runs.
 */
export class SerialWriter {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly write: () => Promise<void>) {}

  /** Writes now, or once the write in flight ends; resolves when the state asked for is written (or failed). */
  request(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.write();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
