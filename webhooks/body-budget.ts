// How many request-body bytes the webhook server holds at once, over all connections. Each body may be up to
// MAX_BODY_BYTES, and anyone who reaches the port can open connections and send most of a body slowly: without a
// total, memory grows with the connections until the pod is killed, and with failurePolicy Fail every policy write
// of the cluster fails with it. A request that would go over the total gets 429 with Retry-After (kube-apiserver's
// own reviews are a few KiB: they fit thousands at a time).

import type { NextFunction, Request, Response } from 'express';

export class BodyBudget {
  private used = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes held now. */
  get inUse(): number {
    return this.used;
  }

  /** Reserves `bytes`; false (and nothing reserved) when that would go over the total. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.maxBytes) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

/**
 * Express middleware before the body parser: charges each chunk of the body as it arrives and gives the bytes back
 * when the response is done or the connection goes. Bytes are charged as they come, not as declared: a connection
 * that declares a large body and sends nothing holds nothing (declared lengths once let one silent connection
 * hold the whole total and refuse every review for a minute). A chunk that does not fit is answered by `refuse`,
 * and the connection closes after that answer (the rest of the body is not read). `then`, if given, is the next
 * middleware (a body parser), called from this one.
 */
export function holdBodyBudget(
  budget: BodyBudget,
  refuse: (res: Response, message: string) => void,
  then?: (req: Request, res: Response, next: NextFunction) => void,
): (req: Request, res: Response, next: NextFunction) => void {
  // `then` (the body reader) runs in the same middleware: one router layer less for every request.
  const proceed = then === undefined ? (_req: Request, _res: Response, next: NextFunction) => next() : then;
  return (req, res, next) => {
    let held = 0;
    let refused = false;
    res.on('close', () => {
      // A response closes once: no once() wrapper per request.
      budget.give(held);
      held = 0;
    });
    // Attached before the reader's own listener (same tick, before any data): every chunk is charged first.
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      if (budget.take(chunk.length)) {
        held += chunk.length;
        return;
      }
      refused = true;
      if (!res.headersSent) res.setHeader('Connection', 'close');
      refuse(res, `the server holds ${budget.inUse} bytes of request bodies already; retry shortly`);
    });
    // A refused request goes no further, even when the rest of its body was already in.
    proceed(req, res, (err?: unknown) => {
      if (!refused) next(err);
    });
  };
}
