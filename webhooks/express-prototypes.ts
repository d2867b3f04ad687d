// Request and response classes for Node's http(s) server that make its requests and responses with an express
// app's own prototypes (app.request, app.response). express gives every request and response those prototypes
// with Object.setPrototypeOf; on an object made by Node's server that swap costs V8 a map change per request, and,
// measured on the admission webhook server, made about a quarter of all newly allocated objects survive each young
// collection (pauses of ~10 ms, CPU per request doubled). Made with the right prototype already, the swap is a
// no-op (V8 returns early when the prototype is unchanged) and express works exactly as before.

import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Express } from 'express';

export interface ExpressPrototypeOptions {
  readonly IncomingMessage: typeof IncomingMessage;
  readonly ServerResponse: typeof ServerResponse;
}

/** Options for http.createServer or https.createServer serving `app`: spread them into the server's options. */
export function expressPrototypeOptions(app: Express): ExpressPrototypeOptions {
  // Plain constructor functions that run Node's own constructors on `this`: `new` gives the object the function's
  // prototype and V8 one initial map for all of them. (Reflect.construct with such a new.target was measured to
  // bring the survival back: it derives a map per call.)
  function AppRequest(this: IncomingMessage, socket: Socket): void {
    (IncomingMessage as unknown as (this: IncomingMessage, socket: Socket) => void).call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse, req: IncomingMessage, options?: object): void {
    (ServerResponse as unknown as (this: ServerResponse, req: IncomingMessage, options?: object) => void).call(
      this,
      req,
      options,
    );
  }
  AppResponse.prototype = app.response;
  return {
    IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof ServerResponse,
  };
}
