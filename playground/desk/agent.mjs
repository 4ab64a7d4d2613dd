#!/usr/bin/env node
// @ts-check
// The back-office agent: a Node service that signs its own service token with the secret it
// shares with the server, connects to the desk as a `service` caller and resolves tickets,
// which no page can do. Run it while the playground runs:
//
//   node playground/desk/agent.mjs             resolves every open ticket
//   node playground/desk/agent.mjs --id 3      resolves ticket 3
//
// Options: --url (default ws://127.0.0.1:8080/actorspace), --secret-file (default the
// playground's .data/desk-secret; or set ACTORSPACE_SECRET).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { connect } from '@actorspace/node';
import { createAccessToken } from '@actorspace/server';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:8080/actorspace' },
    id: { type: 'string' },
    'secret-file': { type: 'string', default: new URL('../.data/desk-secret', import.meta.url).pathname },
  },
});

const secret = process.env.ACTORSPACE_SECRET ?? (await readFile(values['secret-file'], 'utf8')).trim();
const token = await createAccessToken({
  secret,
  caller: { id: 'support-agent', type: 'service' },
  route: '/desk',
  expiresIn: '5m',
});

/** @type {import('@actorspace/node').Session<import('./server.mjs').DeskActor>} */
const session = await connect(values.url, { route: '/desk', token, reconnect: false });
try {
  const desk = session.server.api();
  const open = (await desk.list()).filter((t) => !t.resolvedBy);
  const ids = values.id === undefined ? open.map((t) => t.id) : [Number(values.id)];
  for (const id of ids) {
    const resolved = await desk.resolve({ id });
    const text = open.find((t) => t.id === id)?.text ?? '';
    console.log(resolved ? `resolved #${id} ${text}` : `no ticket #${id}`);
  }
  if (ids.length === 0) console.log('no open tickets');
} finally {
  await session.close();
}
