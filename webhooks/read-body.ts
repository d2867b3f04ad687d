// The request body as a Buffer in req.body, as express.raw gives it. kube-apiserver sends every review with a
// Content-Length and no Content-Encoding: such a body is collected here from the request's own chunks (one chunk, a
// few KiB, nearly always) without body-parser's per-request work (type and charset checks, raw-body's async
// context, finish listeners, Buffer.concat), measured at about a tenth of a review's CPU against the floor of
// bench/webhook. A declared length over the limit is refused at once (413). Anything else (no length, an encoded
// body, an empty body) goes to express.raw, which answers it as before (413 over the limit, inflation, 400 on a
// short body).

import express, { type NextFunction, type Request, type Response } from 'express';

export function readBody(limit: number): (req: Request, res: Response, next: NextFunction) => void {
  const raw = express.raw({ type: () => true, limit });
  return (req, res, next) => {
    const declared = req.headers['content-length'];
    // Node's parser has checked Content-Length (digits only, not with Transfer-Encoding) and ends the body after
    // exactly that many bytes: the request emits 'end' with all of them, or never (the connection went).
    const length = declared === undefined ? 0 : Number(declared);
    if (length > limit) {
      // Refused at once, without reading a byte of it, and the connection closes after the answer: express.raw
      // would wait for the whole body to say 413, and a client that declares one and sends nothing would hold the
      // request open until the request timeout.
      res.setHeader('Connection', 'close');
      next(Object.assign(new Error(`the body is larger than ${limit} bytes`), { status: 413 }));
      return;
    }
    if (!(length > 0) || req.headers['content-encoding'] !== undefined) {
      raw(req, res, next);
      return;
    }
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    req.on('data', (chunk: Buffer) => {
      if (first === undefined) first = chunk;
      else if (more === undefined) more = [first, chunk];
      else more.push(chunk);
    });
    req.on('end', () => {
      req.body = more === undefined ? (first ?? Buffer.alloc(0)) : Buffer.concat(more);
      next();
    });
  };
}
