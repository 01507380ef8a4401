#!/usr/bin/env node
// Runs the compiled CLI when built (npm run build -w @dvp/certs), else the TypeScript source via tsx.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const compiled = join(__dirname, '..', 'dist', 'cli.js');
const cli = existsSync(compiled) ? require(compiled) : (require('tsx/cjs'), require('../src/cli.ts'));
cli
  .runCli(process.argv.slice(2), {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
    env: process.env,
  })
  .then((code) => {
    process.exitCode = code;
  });
