// Shared jest settings for every workspace: ts-jest against the root strict tsconfig.
// Each workspace's jest.config.js calls this with its own directory and display name.
const path = require('node:path');

module.exports = function preset(dir, displayName, extra = {}) {
  return {
    displayName,
    rootDir: dir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.test.ts'],
    transform: {
      '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.jest.json') }],
    },
    moduleFileExtensions: ['ts', 'js', 'json'],
    ...extra,
  };
};
