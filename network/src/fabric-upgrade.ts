/**
 * `make chaincode-upgrade` (and network-up on a running network whose chaincode changed): the
 * compiled chaincode is packaged anew, installed on every peer, approved by every bank org and
 * committed with the next sequence; then the chaincode server is restarted with the new package
 * id. The network keeps running; transactions fail for the moment between the commit and the new
 * server listening (well under a second here).
 */
import { join } from 'node:path';
import type { NetworkConfig } from './config';
import { CHAINCODE_PROCESS, peerTargets, startChaincode } from './fabric';
import { findFabricBinaries } from './fabric-bin';
import { chaincodeContentHash, committedSequence } from './fabric-chaincode';
import { portOpen, stopPid } from './process';
import { ProcessRegistry } from './registry';
import { writeState, type NetworkPaths, type NetworkState } from './state';

/** True when the compiled chaincode differs from the one deployed on `state`'s network. */
export function chaincodeChanged(state: NetworkState): boolean {
  return state.fabric.status === 'up' && chaincodeContentHash() !== state.fabric.chaincode.contentHash;
}

/** Upgrades the chaincode of a running network; returns the new state (unchanged when up to date). */
export async function upgradeChaincode(
  paths: NetworkPaths,
  cfg: NetworkConfig,
  state: NetworkState,
  opts: { readonly log: (line: string) => void },
): Promise<NetworkState> {
  const { log } = opts;
  if (state.fabric.status !== 'up') throw new Error(`chaincode-upgrade: Fabric is not running: ${state.fabric.reason}`);
  if (!chaincodeChanged(state)) {
    log(
      `chaincode-upgrade: ${state.fabric.chaincode.label} (sequence ${state.fabric.chaincode.sequence}) is up to date`,
    );
    return state;
  }
  const lookup = findFabricBinaries();
  if (!lookup.found) throw new Error(`chaincode-upgrade: ${lookup.reason}`);
  const peers = peerTargets(cfg, state.fabricMsp.orgs, paths.stateDir);
  const first = peers[0];
  if (!first) throw new Error('chaincode-upgrade: no peers');
  const sequence = (await committedSequence(lookup.binaries, first, cfg.channel, cfg.chaincode.name)) + 1;
  const registry = new ProcessRegistry(join(paths.stateDir, 'processes.json'));
  const old = registry.records.find((r) => r.name === CHAINCODE_PROCESS);
  const start = performance.now();
  log(`chaincode-upgrade: deploying sequence ${sequence} (was ${state.fabric.chaincode.label})`);
  const chaincode = await startChaincode(
    {
      cfg,
      bins: lookup.binaries,
      stateDir: paths.stateDir,
      logDir: paths.logDir,
      cas: state.fabricCa.orgs,
      msps: state.fabricMsp.orgs,
      clientMsps: [state.agents.msp],
      record: (rec) => registry.replace(rec),
      log,
    },
    peers,
    sequence,
    async () => {
      if (!old) return;
      await stopPid(old.pid);
      const deadline = Date.now() + 5_000;
      while ((await portOpen(cfg.chaincode.serverPort)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
    },
  );
  const next: NetworkState = { ...state, fabric: { ...state.fabric, chaincode }, processes: registry.records };
  writeState(paths.stateFile, next);
  log(
    `chaincode-upgrade: ${chaincode.label} sequence ${sequence} serving in ${((performance.now() - start) / 1000).toFixed(1)} s`,
  );
  return next;
}
