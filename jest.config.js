// Every suite in one jest run, so `make test` can print one total (see scripts/test-summary.js).
module.exports = {
  projects: [
    '<rootDir>/chaincode/fabric',
    '<rootDir>/chaincode/evm',
    '<rootDir>/network',
    '<rootDir>/certs',
    '<rootDir>/gateway',
    '<rootDir>/test',
  ],
};
