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
 * Express middleware before the body parser: reserves the declared Content-Length (or, for a chunked body, each
 * chunk as it comes) and gives it back when the response is done or the connection goes. `refuse` answers a
 * request that does not fit; `then`, if given, is the next middleware (a body parser), called from this one.
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
    const release = () => {
      budget.give(held);
      held = 0;
    };
    res.on('close', release); // a response closes once: no once() wrapper per request
    const declared = req.headers['content-length'];
    if (declared !== undefined) {
      const bytes = Number(declared);
      // A malformed length is the body parser's to refuse (400); it reads no more than the limit anyway.
      if (Number.isSafeInteger(bytes) && bytes > 0) {
        if (!budget.take(bytes)) {
          refuse(res, `the server holds ${budget.inUse} bytes of request bodies already; retry shortly`);
          req.resume(); // drain what the client sends, so that the answer reaches it
          return;
        }
        held = bytes;
      }
      proceed(req, res, next);
      return;
    }
    // Chunked: count as it arrives (the parser's own listener is attached in the same tick, before any data).
    req.on('data', (chunk: Buffer) => {
      if (budget.take(chunk.length)) held += chunk.length;
      else req.destroy();
    });
    proceed(req, res, next);
  };
}
