import { messagePortTransport } from '@actorspace/core';
import { describe, expect, it } from 'vitest';
import { transportSuite } from './transport-suite.js';

transportSuite('MessageChannel', async () => {
  const { port1, port2 } = new MessageChannel();
  return {
    a: messagePortTransport(port1),
    b: messagePortTransport(port2),
    dispose: () => {
      port1.close();
      port2.close();
    },
  };
});

transportSuite('BroadcastChannel', async () => {
  const name = `actorspace-test-${Math.random()}`;
  const one = new BroadcastChannel(name);
  const two = new BroadcastChannel(name);
  return {
    a: messagePortTransport(one),
    b: messagePortTransport(two),
    dispose: () => {
      one.close();
      two.close();
    },
  };
});

describe('messagePortTransport', () => {
  it('refuses something that is not a port with TypeError', () => {
    expect(() => messagePortTransport({} as never)).toThrow(TypeError);
  });
});
