/**
 * The Fabric part of the network (orderer, peers, channel, chaincode-as-a-service). Its binaries
 * come from `make fabric-bin`; while the Go module proxy refuses the pinned Fabric module they
 * cannot be built here, and this module reports why instead of starting anything.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The project's git-ignored folder of native binaries. */
export const binDir = resolve(__dirname, '..', '..', '.bin');

const required = ['peer', 'orderer', 'configtxgen', 'osnadmin', 'ccaas_builder/bin/build'];

/** Undefined when every Fabric binary is built; otherwise a sentence saying what is missing and why. */
export function fabricUnavailableReason(): string | undefined {
  const missing = required.filter((b) => !existsSync(join(binDir, b)));
  if (missing.length === 0) return undefined;
  return (
    `binaries not built (${missing.join(', ')}): the Go module proxy refuses ` +
    'github.com/hyperledger/fabric@86c1172bec37e6590c6b1ae6f847833df48d65fc (403, "This module version is not available"); ' +
    'see README "Blocked: Fabric peer and orderer"'
  );
}
