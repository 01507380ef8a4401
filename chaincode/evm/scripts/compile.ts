/** `npm run compile -w @dvp/cash-contracts [-- --force]`: see solidity.ts. */
import { compileContracts } from './solidity';

async function main(): Promise<void> {
  const started = Date.now();
  const result = await compileContracts({ force: process.argv.includes('--force') });
  const took = Date.now() - started;
  console.log(
    result.skipped
      ? `contracts unchanged, compile skipped (${took} ms)`
      : `compiled ${result.contracts.join(', ')} in ${took} ms`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
