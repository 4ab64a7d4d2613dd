import { createMemoryTransportPair } from '@actorspace/core';
import { transportSuite } from './transport-suite.js';

transportSuite('memory', async () => {
  const [a, b] = createMemoryTransportPair();
  return { a, b, dispose: () => {} };
});
