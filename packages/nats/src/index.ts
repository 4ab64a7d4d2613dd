/**
 * `@actorspace/nats`: the backplane on NATS. Give `natsBackplane({ servers })` to
 * `createActorServer({ backplane })` in every process, and they act as one server. Messages
 * between nodes travel on core NATS; topic events are numbered and kept by a JetStream stream
 * (the nats-server needs JetStream: `nats-server -js`).
 *
 * @module @actorspace/nats
 */
export { type NatsBackplaneOptions, natsBackplane } from './nats-backplane.js';
