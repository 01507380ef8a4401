/** `npm run compile -w @dvp/cash-contracts [-- --force]`: see solidity.ts. */
import { compileContracts } from './solidity';

const started = Date.now();
const result = compileContracts({ force: process.argv.includes('--force') });
const took = Date.now() - started;
console.log(
  result.skipped
    ? `contracts unchanged, compile skipped (${took} ms)`
    : `compiled ${result.contracts.join(', ')} in ${took} ms`,
);
