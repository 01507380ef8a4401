/**
 * The Fabric part of the network (orderer, peers, channel, chaincode-as-a-service). Its binaries
 * come from `make fabric-bin`; while the Go module proxy refuses the pinned Fabric module they
 * cannot be built here, and this module reports why instead of starting anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The project's git-ignored folder of native binaries. */
export const binDir = resolve(__dirname, '..', '..', '.bin');

const required = ['peer', 'orderer', 'configtxgen', 'osnadmin', 'ccaas_builder/bin/build'];

/** One pin from `network/versions.env` (the single file of native versions). */
function pin(name: string): string {
  const text = readFileSync(resolve(__dirname, '..', 'versions.env'), 'utf8');
  const match = new RegExp(`^${name}=(.*)$`, 'm').exec(text);
  return match?.[1]?.replace(/^"|"$/g, '') ?? `(${name} not pinned)`;
}

/** Why Fabric is not started: a sentence naming what is missing and why. */
export function fabricUnavailableReason(): string {
  const missing = required.filter((b) => !existsSync(join(binDir, b)));
  if (missing.length === 0) {
    return 'binaries are built, but starting the orderer, peers and chaincode is not implemented yet';
  }
  return (
    `binaries not built (${missing.join(', ')}): the Go module proxy refuses ` +
    `${pin('FABRIC_MODULE')}@${pin('FABRIC_COMMIT')} (403, "This module version is not available"); ` +
    'see README "Blocked: Fabric peer and orderer"'
  );
}
