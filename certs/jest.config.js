module.exports = require('../jest.preset.js')(__dirname, 'certs', {
  // Builds .bin/fabric-ca-server if it is missing (a no-op when already built).
  globalSetup: '<rootDir>/jest.global-setup.js',
});
