// The same packages from CommonJS (require), through their .d.cts.
import core = require('@actorspace/core');
import server = require('@actorspace/server');
import node = require('@actorspace/server/node');
import redis = require('@actorspace/redis');
import nats = require('@actorspace/nats');

const actors = server.createActorServer({ routes: { '/': () => core.defineActor({ ping: () => 'pong' }) } });
node.attach(require('node:http').createServer(), actors);
console.log(redis.redisBackplane, nats.natsBackplane);
