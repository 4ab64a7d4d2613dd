/**
 * `@actorspace/redis`: the backplane on Redis. Give `redisBackplane({ url })` to
 * `createActorServer({ backplane })` in every process, and they act as one server.
 *
 * @module @actorspace/redis
 */
export { type RedisBackplaneOptions, redisBackplane } from './redis-backplane.js';
