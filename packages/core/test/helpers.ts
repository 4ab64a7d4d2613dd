import {
  type Acceptance,
  ActorSpace,
  ActorSpaceError,
  type Channel,
  type ChannelOptions,
  closeCodeFor,
  createMemoryTransportPair,
  type HelloFields,
  ProtocolViolation,
  readHello,
  serverHandshake,
  type Transport,
} from '@actorspace/core';

/** Two spaces joined by an in-memory channel pair. */
export function pairSpaces(
  aOptions: ChannelOptions = {},
  bOptions: ChannelOptions = {},
): { a: ActorSpace; b: ActorSpace; ab: Channel; ba: Channel; destroy: () => Promise<void> } {
  const a = new ActorSpace('a');
  const b = new ActorSpace('b');
  const [ta, tb] = createMemoryTransportPair();
  const ab = a.addChannel(ta, aOptions);
  const ba = b.addChannel(tb, bOptions);
  return {
    a,
    b,
    ab,
    ba,
    destroy: async () => {
      await a.destroy();
      await b.destroy();
    },
  };
}

/** What a test server decides for a hello: pair, resume a suspended channel, or refuse. */
export type Decision = Acceptance | { resume: Channel } | ActorSpaceError;

/**
 * Serves one transport the way the server engine does: reads the first message as the hello,
 * then pairs with `serverHandshake`, resumes a suspended channel with it, or closes with the
 * refusal's close code. Resolves with the channel, or null when refused.
 */
export function serveHello(
  space: ActorSpace,
  transport: Transport,
  decide: (hello: HelloFields) => Decision | Promise<Decision>,
  options: ChannelOptions = {},
): Promise<Channel | null> {
  return new Promise((resolve) => {
    // A transport that ends while the decision is made is not paired (the engine does the same).
    let gone = false;
    transport.onClose(() => {
      gone = true;
    });
    transport.onMessage((first) => {
      let hello: HelloFields;
      try {
        hello = readHello(first, 1024 * 1024);
      } catch (error) {
        const v = error as ProtocolViolation;
        transport.close(v.closeCode, v.message);
        resolve(null);
        return;
      }
      void Promise.resolve(decide(hello)).then((decision) => {
        if (gone) resolve(null);
        else if (decision instanceof ActorSpaceError) {
          transport.close(closeCodeFor(decision.code), decision.message);
          resolve(null);
        } else if ('resume' in decision) {
          decision.resume.resume(transport, serverHandshake(hello));
          resolve(decision.resume);
        } else {
          resolve(space.addChannel(transport, { ...options, handshake: serverHandshake(hello, decision) }));
        }
      });
    });
  });
}

/** A transport whose peer is driven by hand: frames sent to it land in `sent`, `push` delivers one. */
export interface RawPeer {
  transport: Transport;
  sent: string[];
  push(frame: string | Uint8Array): void;
  closed: Array<[number, string]>;
}

export function rawPeer(): RawPeer {
  let onMessage: (f: string | Uint8Array) => void = () => {};
  let onClose: (c: number, r: string) => void = () => {};
  const sent: string[] = [];
  const closed: Array<[number, string]> = [];
  const transport: Transport = {
    send: (f) => void sent.push(f),
    close: (code = 1000, reason = '') => {
      closed.push([code, reason]);
      onClose(code, reason);
    },
    onMessage: (cb) => void (onMessage = cb),
    onClose: (cb) => void (onClose = cb),
  };
  return { transport, sent, closed, push: (f) => onMessage(f) };
}

/** The frames of transport messages, batches unpacked, in order. */
export function framesOf(messages: string[]): unknown[][] {
  return messages.flatMap((m) => {
    const parsed = JSON.parse(m) as unknown[];
    return Array.isArray(parsed[0]) ? (parsed as unknown[][]) : [parsed];
  });
}

/** Resolves with what `promise` rejected with; fails when it resolves. */
export async function rejectionOf(
  promise: Promise<unknown>,
): Promise<{ code?: string; message: string; details?: any }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

/** Resolves on the next `event` of `emitter`. */
export function once<T extends unknown[]>(
  emitter: { once(event: string, fn: (...args: any[]) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
}

export { ProtocolViolation };
