// @ts-check
/** raw `ws` + superjson (whole envelope), a numeric correlation id, one `ws.send` per message. */
import superjson from 'superjson';
import { wsSystem } from './_ws-common.mjs';

/** @type {import('./index.mjs').SystemMeta} */
export const meta = {
  label: 'raw ws + superjson',
  notes:
    'ws 8, superjson.stringify/parse of the whole envelope, numeric correlation id, one ws.send per message',
  bundle: { entry: "export { stringify, parse } from 'superjson';" },
};

export const { startServer, connect } = wsSystem({
  stringify: (value) => superjson.stringify(value),
  parse: (text) => superjson.parse(text),
});
