import { defineConfig } from '@playwright/test';

// Debian's Chromium, never a downloaded browser (`.ci/run` installs it with apt-get).
const launchOptions = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  // Each spec starts its own playground on port 0, so files can run side by side.
  workers: 2,
  fullyParallel: false,
  retries: 0,
  reporter: 'list',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  use: { launchOptions, trace: 'off' },
  projects: [{ name: 'chromium', use: { browserName: 'chromium', launchOptions } }],
});
