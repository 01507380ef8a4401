/**
 * Command line for the network scripts (called by the Makefile):
 *   tsx network/src/cli.ts up            bring the local ledgers up (idempotent)
 *   tsx network/src/cli.ts down          stop everything started; KEEP=1 keeps the state folder
 *   tsx network/src/cli.ts status        print network.json's summary and process liveness
 *   tsx network/src/cli.ts find-fabric   say which Fabric binaries network-up would run (exit 3: none)
 *   tsx network/src/cli.ts chaincode-upgrade   redeploy a changed chaincode with the next sequence
 */
import { loadNetworkConfig } from './config';
import { networkDown } from './down';
import { findFabricBinaries } from './fabric-bin';
import { upgradeChaincode } from './fabric-upgrade';
import { isAlive } from './process';
import { networkPaths, readState } from './state';
import { networkUp } from './up';

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

type Paths = ReturnType<typeof networkPaths>;

function status(paths: Paths): number {
  const state = readState(paths.stateFile);
  if (!state) {
    log('network: not up');
    return 1;
  }
  log(`network: started ${state.startedAt}; state ${paths.stateFile}`);
  for (const p of state.processes)
    log(`  ${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${isAlive(p.pid) ? 'alive' : 'DEAD'}`);
  log(`  EVM ${state.evm.rpcUrl} chain ${state.evm.chainId}`);
  if (state.fabric.status === 'up') {
    const { chaincode, binaries } = state.fabric;
    log(`  Fabric ${binaries.version} (${binaries.source} ${binaries.dir}); channel ${state.fabric.channel}`);
    log(`  chaincode ${chaincode.label} sequence ${chaincode.sequence}, endorsement ${chaincode.endorsementPolicy}`);
  } else log(`  Fabric: unavailable: ${state.fabric.reason}`);
  return 0;
}

function findFabric(): number {
  const lookup = findFabricBinaries();
  if (!lookup.found) {
    log(`Fabric: ${lookup.reason}`);
    return 3;
  }
  const b = lookup.binaries;
  log(`Fabric ${b.version}: ${b.dir} (${b.source}); ccaas builder: ${b.ccaasBuilder.kind} ${b.ccaasBuilder.dir}`);
  return 0;
}

async function chaincodeUpgrade(paths: Paths): Promise<number> {
  const state = readState(paths.stateFile);
  if (!state) {
    log('chaincode-upgrade: the network is not up (make network-up)');
    return 1;
  }
  if (state.fabric.status !== 'up') {
    log(`chaincode-upgrade: Fabric is not running: ${state.fabric.reason}`);
    return 3;
  }
  await upgradeChaincode(paths, loadNetworkConfig(), state, { log });
  return 0;
}

async function main(command: string | undefined): Promise<number> {
  const paths = networkPaths();
  switch (command) {
    case 'up':
      await networkUp(paths, loadNetworkConfig(), { log });
      return 0;
    case 'down':
      await networkDown(paths, { keepState: process.env['KEEP'] === '1', log });
      return 0;
    case 'status':
      return status(paths);
    case 'find-fabric':
      return findFabric();
    case 'chaincode-upgrade':
      return chaincodeUpgrade(paths);
    default:
      process.stderr.write('usage: cli.ts up|down|status|find-fabric|chaincode-upgrade\n');
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
