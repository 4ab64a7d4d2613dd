import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ActorSpace, clientHandshake, defineActor, workerTransport } from '@actorspace/node';
import { afterEach, describe, expect, it } from 'vitest';

const WORKER = new URL('./fixtures/worker.mjs', import.meta.url);
const spaces: ActorSpace[] = [];
const workers: Worker[] = [];

function start() {
  if (!existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))) {
    throw new Error('the worker imports the built @actorspace/node: run `pnpm build` first');
  }
  const worker = new Worker(WORKER);
  workers.push(worker);
  const space = new ActorSpace('main');
  spaces.push(space);
  let greet: (text: unknown) => void = () => {};
  const greeted = new Promise((resolve) => (greet = resolve));
  const root = space.register(defineActor({ hello: (text: unknown) => greet(text) }));
  const channel = space.addChannel(workerTransport(worker), { handshake: clientHandshake({ actor: root }) });
  const opened = new Promise<void>((resolve) => channel.once('open', () => resolve()));
  return { worker, channel, opened, greeted };
}

afterEach(async () => {
  await Promise.all(spaces.splice(0).map((s) => s.destroy()));
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

describe('workerTransport', () => {
  it('pairs with a worker and carries asks and tells both ways', async () => {
    const { channel, opened, greeted } = start();
    await opened;
    expect(await channel.remote!.ask('double', 21)).toBe(42);
    expect(await greeted).toBe('from the worker');
  });

  it('closes the worker side when the parent closes', async () => {
    const { worker, channel, opened } = start();
    await opened;
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    channel.close(1000, 'done');
    // The worker closes its parentPort on close, which ends its event loop.
    expect(await exited).toBe(0);
  });

  it('rejects pending asks with CHANNEL_CLOSED when the worker dies', async () => {
    const { worker, channel, opened } = start();
    await opened;
    const pending = channel.remote!.ask('hang').catch((error: unknown) => error);
    const closed = new Promise<number>((resolve) => channel.once('close', (code) => resolve(code)));
    await worker.terminate();
    expect(await closed).toBe(1006);
    expect(await pending).toMatchObject({ code: 'CHANNEL_CLOSED' });
  });

  it('refuses something that is not a worker with TypeError', () => {
    expect(() => workerTransport({} as never)).toThrow(TypeError);
  });
});
