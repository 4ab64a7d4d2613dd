// One Vite app, two pages: index.html (vanilla TypeScript) and react/index.html (React).
// In development the pages come from Vite's dev server and /actorspace is proxied to the
// Express server; in production Express serves dist/ and /actorspace itself.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const api = `http://127.0.0.1:${process.env.API_PORT ?? 3001}`;

export default defineConfig({
  // JSX without @vitejs/plugin-react: Vite's own transform (Oxc) with React's automatic runtime.
  oxc: { jsx: { runtime: 'automatic' } },
  server: {
    proxy: {
      // ws: true forwards WebSocket upgrades too. Without it only plain HTTP requests (such as
      // /actorspace/health) reach Express; the upgrade is left unanswered and connect() rejects
      // with TIMEOUT after its 10 s handshake timeout.
      '/actorspace': { target: api, ws: true },
    },
  },
  build: {
    rolldownOptions: { input: { main: page('./index.html'), react: page('./react/index.html') } },
  },
});
