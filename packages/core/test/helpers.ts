import { ActorSpace, type Channel, type ChannelOptions, createMemoryTransportPair } from '@actorspace/core';

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
