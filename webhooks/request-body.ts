// Reading a request body that may be anything: bounded in size (checked against Content-Length before a byte is
// read, and while reading when there is none), uncompressed only (kube-apiserver never compresses what it sends a
// webhook, and inflating would let a small request grow past the bound), and never an exception: an aborted request
// simply gets no answer.

import type { IncomingMessage } from 'node:http';

export type RequestBody =
  | { readonly ok: true; readonly body: Buffer }
  /** Answer with this 4xx; `close`: the rest of the body was not read, so the connection cannot be reused. */
  | { readonly ok: false; readonly code: 413 | 415; readonly message: string; readonly close: boolean };

/** Calls `done` once with the whole body or the reason it was refused; never when the client went away. */
export function readRequestBody(req: IncomingMessage, limit: number, done: (body: RequestBody) => void): void {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    done({
      ok: false,
      code: 415,
      message: `Content-Encoding ${encoding.slice(0, 40)} is not supported: send the AdmissionReview uncompressed`,
      close: true,
    });
    return;
  }
  const tooLarge = { ok: false, code: 413, message: `the body is larger than ${limit} bytes`, close: true } as const;
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    done(tooLarge);
    return;
  }
  // Callbacks, not a promise: this runs for every review. One chunk is the common case (bodies of a few KiB).
  let first: Buffer | undefined;
  let more: Buffer[] | undefined;
  let size = 0;
  let finished = false;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      finished = true;
      req.removeListener('data', onData);
      req.pause();
      done(tooLarge);
      return;
    }
    if (first === undefined) first = chunk;
    else if (more === undefined) more = [first, chunk];
    else more.push(chunk);
  };
  req.on('data', onData);
  req.on('end', () => {
    if (finished) return;
    finished = true;
    done({ ok: true, body: more !== undefined ? Buffer.concat(more, size) : (first ?? Buffer.alloc(0)) });
  });
  // An aborted request or a broken connection: no one is left to answer.
  req.on('error', () => {
    finished = true;
  });
}
