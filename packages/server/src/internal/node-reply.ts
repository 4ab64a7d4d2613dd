/** Writing the engine's HTTP answers on a Node response (not part of the public API). */
import type { ServerResponse } from 'node:http';
import type { HttpResponse } from '../actor-server.js';

/**
 * Writes `reply` on a Node response. A streamed body (an event stream) goes out chunk by chunk:
 * headers at once, each chunk as it comes, the next one taken only once the socket has
 * taken the last (so what waits stays in the engine, where it is counted); the stream is
 * cancelled when the client goes away, and an errored stream cuts the connection.
 */
export function writeNodeReply(res: ServerResponse, reply: HttpResponse): void {
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  const body = reply.body;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    res.end(body);
    return;
  }
  const reader = body.getReader();
  // Also on a normal end, where cancelling a finished stream does nothing.
  res.once('close', () => {
    reader.cancel().catch(() => {});
  });
  res.flushHeaders();
  void pump(res, reader);
}

async function pump(res: ServerResponse, reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (res.destroyed) return;
      if (done) {
        res.end();
        return;
      }
      if (!res.write(value)) await drained(res);
    }
  } catch {
    // The stream errored (a subscriber too slow for its topic): the client must not take the
    // cut for a complete answer.
    res.destroy();
  }
}

/** Resolves when the response can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
