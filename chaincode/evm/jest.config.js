// globalSetup compiles the contracts when src/generated/ is missing or stale (clean clone).
module.exports = require('../../jest.preset.js')(__dirname, 'cash-contracts', {
  globalSetup: '<rootDir>/scripts/jest-global-setup.ts',
});
