/**
 * The peer contract between the engine and an adapter: what an adapter hands to
 * `actors.handle(peer)` for each accepted socket, and what it gets back to feed the
 * socket's frames and close into. docs/adapters.md describes it for adapter authors.
 */

/** Request headers in any common shape: WHATWG `Headers`, or Node's header object. */
export type HeadersLike =
  | {
      /** Calls `callback` with each header (WHATWG `Headers`). */
      forEach(callback: (value: string, key: string) => void): void;
    }
  | Record<string, string | string[] | undefined>;

/** Facts about the HTTP request a socket was upgraded from. */
export interface PeerRequest {
  /** The request URL, absolute or path-only (`/actorspace?x=1`). */
  url: string;
  /** The request headers; names are matched case-insensitively. */
  headers?: HeadersLike;
  /** The client's address, when the runtime knows it. */
  remoteAddress?: string;
}

/** An accepted socket, as an adapter hands it to `actors.handle()`. */
export interface Peer {
  /** Sends one text frame. Called only while the socket is open. */
  send(frame: string): void;
  /** Closes the socket with a WebSocket close code and a reason of at most 123 bytes. */
  close(code: number, reason: string): void;
  /**
   * Bytes sent but not yet handed to the network (`ws.bufferedAmount`, Bun's
   * `getBufferedAmount()`). With it, the engine stops writing to a peer that does not read
   * instead of queueing without bound in the socket. @default unknown (0)
   */
  bufferedAmount?(): number;
  /** The upgrade request. */
  request: PeerRequest;
}

/** What `actors.handle()` returns: the adapter feeds the socket's events into it. */
export interface PeerConnection {
  /** Engine id of the connection, for logs. */
  readonly id: string;
  /** Feeds one frame the client sent (text as a string, binary as bytes). */
  message(data: string | ArrayBuffer | ArrayBufferView): void;
  /** Tells the engine the socket is gone; safe to call more than once. */
  closed(code?: number, reason?: string): void;
}
