/**
 * Two tiers (docs/miniprogram.md): unit tests of every page and component with recorded
 * responses, and contract tests that drive real flows through the pages against the Flask app
 * (SQLite, the fake WeChat) started by globalSetup.
 */
const shared = {
  testEnvironment: 'jsdom',
  setupFilesAfterEnv: ['<rootDir>/test/setup.js'],
  testTimeout: 20000,
}

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.js'] },
    {
      ...shared,
      displayName: 'contract',
      globals: { LINLI_CONTRACT: true },
      testMatch: ['<rootDir>/test/contract/**/*.test.js'],
      globalSetup: '<rootDir>/test/contract/global-setup.js',
      globalTeardown: '<rootDir>/test/contract/global-teardown.js',
    },
  ],
}
