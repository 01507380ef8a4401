// Makes sure the real fabric-ca-server binary exists before the CA tests start.
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function globalSetup() {
  const root = join(__dirname, '..');
  if (existsSync(join(root, '.bin', 'fabric-ca-server'))) return;
  execFileSync('bash', [join(root, 'network', 'scripts', 'fabric-bin.sh'), 'ca'], { stdio: 'inherit' });
};
