/**
 * An amount that no single user, and no crowd of users, may hold more of at once (open watches; bytes of answers
 * their clients have not taken): past a limit a new claim is refused instead of slowing or starving everyone.
 */
export class UserQuota {
  private total = 0;
  private readonly perUser = new Map<string, number>();

  constructor(
    readonly maxTotal: number,
    readonly maxPerUser: number,
  ) {}

  /** A release function for `amount` more held by `user`, or whose limit refuses it and what is held already. */
  acquire(user: string, amount = 1): { release: () => void } | { refused: 'user' | 'total'; held: number } {
    const mine = this.perUser.get(user) ?? 0;
    if (mine + amount > this.maxPerUser) return { refused: 'user', held: mine };
    if (this.total + amount > this.maxTotal) return { refused: 'total', held: this.total };
    this.total += amount;
    this.perUser.set(user, mine + amount);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= amount;
        const n = (this.perUser.get(user) ?? amount) - amount;
        if (n <= 0) this.perUser.delete(user);
        else this.perUser.set(user, n);
      },
    };
  }

  get held(): number {
    return this.total;
  }
}
