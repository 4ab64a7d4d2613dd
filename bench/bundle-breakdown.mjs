// @ts-check
/**
 * Where the browser bundle's bytes go: the suite's bundle row for ActorSpace, with the
 * minified bytes each source module contributes. `node bench/bundle-breakdown.mjs` after
 * `pnpm build`.
 */

import { measureBundle, stopEsbuild } from './lib/bundle.mjs';
import { meta } from './systems/actorspace.mjs';

const entry = meta.bundle?.entry ?? "export { connect, defineActor } from '@actorspace/browser';";
const b = await measureBundle(entry);
console.log(`entry: ${entry}`);
console.log(`total: ${b.minBytes} B minified, ${b.gzipBytes} B gzip -9`);
console.table(b.modules);
await stopEsbuild();
