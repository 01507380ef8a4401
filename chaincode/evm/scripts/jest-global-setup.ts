/** Jest globalSetup: a clean clone has no `src/generated/`, so compile (fast no-op when fresh). */
import { compileContracts } from './solidity';

export default async function globalSetup(): Promise<void> {
  await compileContracts();
}
