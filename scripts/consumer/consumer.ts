// A project that installed the packed tarballs from npm: every entry point, compiled with
// `strict` and `skipLibCheck: false`, so the published .d.ts must be complete on their own.
import { createServer } from 'node:http';
import { connect as connectPage } from '@actorspace/browser';
import { ActorSpace, ActorSpaceError, defineActor, type MessageContext } from '@actorspace/core';
import { natsBackplane } from '@actorspace/nats';
import { connect as connectNode } from '@actorspace/node';
import { redisBackplane } from '@actorspace/redis';
import { createActorServer, type RouteContext } from '@actorspace/server';
import { bunHandlers } from '@actorspace/server/bun';
import { mountExpress } from '@actorspace/server/express';
import { actorspaceFastify } from '@actorspace/server/fastify';
import { honoRoutes } from '@actorspace/server/hono';
import { attach } from '@actorspace/server/node';
import express from 'express';
import Fastify from 'fastify';
import type { UpgradeWebSocket } from 'hono/ws';

const todos = (ctx: RouteContext) =>
  defineActor({
    add: ({ text }: { text: string }) => ({ text, by: ctx.caller.id }),
    count: () => 1,
  });

const actors = createActorServer({ routes: { '/todos': todos } });

// The server packages, one adapter each.
const httpServer = createServer();
attach(httpServer, actors, { path: '/actorspace' });
const app = express();
mountExpress(app, createServer(app), actors);
await Fastify().register(actorspaceFastify, { actors });
const handlers = bunHandlers(actors, { path: '/actorspace' });
declare const upgradeWebSocket: UpgradeWebSocket;
honoRoutes(actors, { upgradeWebSocket });

// The clients, typed from the server actor.
type Todos = ReturnType<typeof todos>;
const page = await connectPage<Todos>('/actorspace', { route: '/todos' });
const added: { text: string; by: string } = await page.server.ask('add', { text: 'milk' });
const count: number = await page.server.api().count();
const agent = await connectNode<Todos>('ws://127.0.0.1:8080/actorspace', {
  route: '/todos',
  headers: { authorization: 'Bearer token' },
});
agent.server.tell('add', { text: 'eggs' });

// The core on its own.
const space = new ActorSpace();
space.register(
  defineActor({ hello: (name: string, ctx: MessageContext) => `${name} ${String(ctx.sender)}` }),
);
const error: unknown = new Error('x');
if (error instanceof ActorSpaceError) console.log(error.code);

// Many processes: either backplane fits the server's option.
const onRedis = createActorServer({
  routes: { '/todos': todos },
  backplane: redisBackplane({ url: 'redis://127.0.0.1:6379', signingKey: 'k'.repeat(32) }),
  cluster: { heartbeat: 2000, nodeTimeout: 10_000 },
});
const onNats = createActorServer({
  routes: { '/todos': todos },
  backplane: natsBackplane({ servers: 'nats://127.0.0.1:4222' }),
});
const seq: Promise<number> = onRedis.publish('t', 'x', 1);

console.log(handlers, added, count, onNats, seq);
