import { type ClientHttp2Session, type ClientHttp2Stream, connect, type OutgoingHttpHeaders } from 'node:http2';

/** Flow-control windows: a multi-megabyte list should not wait for a window update every 64 KiB. */
const streamWindow = 4 * 1024 * 1024;
const sessionWindow = 16 * 1024 * 1024;

/**
 * One HTTP/2 connection to a server, opened on first use and again after it closes, that carries every request
 * and watch as a stream (what client-go does with a kube-apiserver). A cluster's five watches then cost one TLS
 * connection instead of five, which is most of a connection's memory. The session holds the event loop open
 * only while streams are in flight, as an idle keep-alive socket would not.
 */
export class H2Session {
  private session: ClientHttp2Session | undefined;
  /** Streams in flight per session (an old session's streams may still close after a new one opened). */
  private readonly active = new WeakMap<ClientHttp2Session, number>();

  constructor(
    private readonly origin: string,
    private readonly tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer },
  ) {}

  /** Opens a stream; `headers` names must be lower case. */
  request(headers: OutgoingHttpHeaders, opts: { endStream: boolean; signal?: AbortSignal }): ClientHttp2Stream {
    const session = this.current();
    const stream = session.request(headers, opts.signal ? opts : { endStream: opts.endStream });
    const n = this.active.get(session) ?? 0;
    this.active.set(session, n + 1);
    if (n === 0) session.ref();
    stream.once('close', () => {
      const left = (this.active.get(session) ?? 1) - 1;
      this.active.set(session, left);
      if (left === 0 && !session.destroyed) session.unref();
    });
    return stream;
  }

  /** Drops the connection (a liveness probe failed): its streams fail, the next request connects anew. */
  reset(): void {
    this.session?.destroy();
    this.session = undefined;
  }

  close(): void {
    this.reset();
  }

  private current(): ClientHttp2Session {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    const next = connect(this.origin, { ...this.tls, settings: { initialWindowSize: streamWindow } });
    // 'connect' comes a tick after the handshake: the session may have been destroyed in between (reset, close).
    next.on('connect', () => {
      if (!next.destroyed) next.setLocalWindowSize(sessionWindow);
    });
    // A session error also fails each of its streams, where the caller sees it.
    next.on('error', () => {});
    const forget = () => {
      if (this.session === next) this.session = undefined;
    };
    next.on('close', forget);
    next.on('goaway', forget);
    next.unref();
    this.session = next;
    return next;
  }
}
