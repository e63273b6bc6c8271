/**
 * Two tiers (docs/miniprogram.md): unit tests of every page and component with recorded
 * responses (and the layout check of every page state in Chromium at phone width), and contract
 * tests that drive real flows through the pages against the Flask app (SQLite, the fake WeChat)
 * started by globalSetup.
 */
const shared = {
  testEnvironment: 'jsdom',
  setupFilesAfterEnv: ['<rootDir>/test/setup.js'],
  testTimeout: 20000,
}

/** Against the live server (SQLite, fake WeChat) that globalSetup starts. */
const live = {
  ...shared,
  globals: { LINLI_CONTRACT: true },
  globalSetup: '<rootDir>/test/contract/global-setup.js',
  globalTeardown: '<rootDir>/test/contract/global-teardown.js',
}

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.js'] },
    // Every page state laid out by Chromium at phone width (test/layout/scenarios.js).
    { ...shared, displayName: 'layout', testMatch: ['<rootDir>/test/layout/**/*.test.js'], testTimeout: 60000 },
    { ...live, displayName: 'contract', testMatch: ['<rootDir>/test/contract/**/*.test.js'] },
    // Not part of `npm test`: `npx jest --selectProjects bench` (bench/README.md).
    { ...live, displayName: 'bench', testMatch: ['<rootDir>/bench/**/*.bench.js'], testTimeout: 600000 },
  ],
}
