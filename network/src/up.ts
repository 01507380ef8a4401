/**
 * `make network-up`: brings the local ledgers up natively on loopback and writes network.json.
 * Idempotent: when everything recorded is alive and healthy it says so and changes nothing.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { rpc, startAnvil } from './anvil';
import { agentWallet, caAnswers, startOrgCa, type CaKind } from './ca';
import type { NetworkConfig, OrgConfig } from './config';
import { networkDown } from './down';
import { writeDirectory } from './directory';
import { deployCash } from './evm-deploy';
import { startFabric, type FabricStartInput } from './fabric';
import { findFabricBinaries } from './fabric-bin';
import { healthz } from './fabric-cli';
import { walletIdentity, waitEndorsable } from './fabric-client';
import { chaincodeChanged, upgradeChaincode } from './fabric-upgrade';
import { buildClientOrgMsp, buildOrgMsp } from './msp';
import { isAlive } from './process';
import { ProcessRegistry } from './registry';
import {
  readState,
  writeState,
  type AgentsState,
  type CaState,
  type FabricOrgMsp,
  type NetworkPaths,
  type NetworkState,
} from './state';

export interface UpOptions {
  readonly log: (line: string) => void;
}

/**
 * The checks of {@link healthy}, in the order they run (the cheap ones first); the first that fails
 * decides.
 */
const HEALTH_CHECKS: readonly ((state: NetworkState) => boolean | Promise<boolean>)[] = [
  (state) => state.processes.every((p) => isAlive(p.pid)),
  writtenByThisVersion,
  // Fabric binaries that appeared since (or vanished): start again with or without Fabric.
  (state) => (state.fabric?.status === 'up') === findFabricBinaries().found,
  fabricNodesAnswer,
  evmAnswers,
  async (state) => (await Promise.all(Object.values(state.fabricCa.orgs).map(caAnswers))).every(Boolean),
];

/** True when every recorded process is alive and the ledgers answer. */
async function healthy(state: NetworkState): Promise<boolean> {
  for (const check of HEALTH_CHECKS) if (!(await check(state))) return false;
  return true;
}

/**
 * A state written by an older network-up (no published CRLs, no Fabric MSPs, no agents org) is
 * restarted, not reused.
 */
function writtenByThisVersion(state: NetworkState): boolean {
  if (!Object.values(state.fabricCa.orgs).every((ca) => ca.crlFile && existsSync(ca.crlFile))) return false;
  if (!state.agents || !Object.values(state.agents.parties).every((p) => existsSync(p.wallet))) return false;
  return Boolean(state.fabricMsp) && Object.values(state.fabricMsp.orgs).every((o) => existsSync(o.node.tlsDir));
}

/** When Fabric is up: the orderer's and every peer's operations endpoint answers `/healthz`. */
async function fabricNodesAnswer(state: NetworkState): Promise<boolean> {
  if (state.fabric.status !== 'up') return true;
  const nodes = [state.fabric.orderer.operationsUrl, ...Object.values(state.fabric.peers).map((p) => p.operationsUrl)];
  const answers = await Promise.all(nodes.map((url) => healthz(Number(new URL(url).port)).catch(() => false)));
  return answers.every(Boolean);
}

/** anvil answers with the recorded chain id. */
async function evmAnswers(state: NetworkState): Promise<boolean> {
  const id = await rpc<string>(state.evm.rpcUrl, 'eth_chainId').catch(() => undefined);
  return id !== undefined && Number(id) === state.evm.chainId;
}

async function phase<T>(log: UpOptions['log'], name: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  log(`network-up: ${name} ...`);
  const result = await work();
  log(`network-up: ${name} done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return result;
}

export async function networkUp(
  paths: NetworkPaths,
  cfg: NetworkConfig,
  opts: Readonly<UpOptions>,
): Promise<NetworkState> {
  const { log } = opts;
  const existing = readState(paths.stateFile);
  if (existing && (await healthy(existing))) return keepRunning(paths, cfg, existing, log);
  const registryFile = join(paths.stateDir, 'processes.json');
  if (existing || existsSync(registryFile)) {
    log('network-up: found a stale or partly running network; stopping it first');
    await networkDown(paths, { keepState: false, log });
  }
  mkdirSync(paths.stateDir, { recursive: true });
  mkdirSync(paths.logDir, { recursive: true });
  const registry = new ProcessRegistry(registryFile);
  const total = performance.now();
  try {
    const state = await startNetwork({ paths, cfg, registry, log });
    writeState(paths.stateFile, state);
    log(`network-up: ready in ${((performance.now() - total) / 1000).toFixed(1)} s; state in ${paths.stateFile}`);
    return state;
  } catch (err) {
    log(`network-up: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    log('network-up: stopping what was started');
    await networkDown(paths, { keepState: false, log });
    throw err;
  }
}

/** The network is up and healthy: upgrades the chaincode if it changed since, else changes nothing. */
async function keepRunning(
  paths: NetworkPaths,
  cfg: NetworkConfig,
  existing: NetworkState,
  log: UpOptions['log'],
): Promise<NetworkState> {
  if (chaincodeChanged(existing)) {
    log('network-up: the network is up but the compiled chaincode changed since it was deployed; upgrading it');
    return upgradeChaincode(paths, cfg, existing, { log });
  }
  log(
    `network-up: the network is already up (since ${existing.startedAt}, ${existing.processes.length} processes); nothing changed`,
  );
  return existing;
}

/** What one start of the network works with; every process it starts goes into `registry`. */
interface StartRun {
  readonly paths: NetworkPaths;
  readonly cfg: NetworkConfig;
  readonly registry: ProcessRegistry;
  readonly log: UpOptions['log'];
}

/** Starts every ledger and its identities, in order; resolves with the state to record. */
async function startNetwork(run: StartRun): Promise<NetworkState> {
  const { paths, cfg, registry, log } = run;
  const evm = await startEvm(run);
  const { caStates, mspStates, agents } = await startIdentities(run);
  const directory = await phase(log, 'directory: signed party directory', async () =>
    writeDirectory(cfg, { cas: caStates, agents }, evm.accounts, paths.stateDir),
  );
  const fabric = await startFabricIfFound(run, caStates, { msps: mspStates, clientMsps: [agents.msp] });
  return {
    schemaVersion: 1,
    startedAt: new Date().toISOString(),
    stateDir: paths.stateDir,
    logDir: paths.logDir,
    evm,
    fabricCa: { orgs: caStates },
    fabricMsp: { orgs: mspStates },
    agents,
    fabric,
    directory,
    processes: registry.records,
  };
}

/** anvil, with the cash contracts deployed. */
async function startEvm({ paths, cfg, registry, log }: StartRun): Promise<NetworkState['evm']> {
  const anvil = await phase(log, `EVM: anvil on 127.0.0.1:${cfg.evm.port}`, () =>
    startAnvil(cfg.evm, paths.logDir, (p) =>
      registry.add({ name: 'anvil', pid: p.pid, log: p.log, ports: [cfg.evm.port] }),
    ),
  );
  const cash = await phase(log, 'EVM: deploy cash contracts', () => deployCash(anvil.rpcUrl, cfg.evm));
  return {
    rpcUrl: anvil.rpcUrl,
    chainId: cfg.evm.chainId,
    mnemonic: cfg.evm.mnemonic,
    accounts: anvil.accounts,
    contracts: cash.contracts,
    abis: cash.abis,
  };
}

/** What {@link startIdentities} enrolled: each org's CA and MSP (by org key), and the agents org. */
interface Identities {
  readonly caStates: Record<string, CaState>;
  readonly mspStates: Record<string, FabricOrgMsp>;
  readonly agents: AgentsState;
}

/**
 * One fabric-ca-server per org (the orderer org first, the agents org last), then each org's MSP
 * folders: a node and an admin for the orderer and bank orgs, only an admin for the agents org.
 */
async function startIdentities({ paths, cfg, registry, log }: StartRun): Promise<Identities> {
  const { agentsOrg } = cfg;
  const nodeOrgs = [cfg.ordererOrg, ...cfg.peerOrgs];
  const orgs: { org: OrgConfig; kind: CaKind }[] = [
    ...nodeOrgs.map((org, i) => ({
      org,
      kind: { isPeerOrg: i > 0, isIssuerOrg: org.key === cfg.chaincode.issuerOrg },
    })),
    {
      org: agentsOrg,
      kind: { isPeerOrg: false, isIssuerOrg: false, agentParties: agentsOrg.parties.map((p) => p.key) },
    },
  ];
  const cas = await phase(
    log,
    `Fabric CA: ${orgs.length} servers, bank and agent identities enrolled, CRLs published`,
    () => Promise.all(orgs.map(({ org, kind }) => startOrgCa(org, kind, paths, (rec) => registry.add(rec)))),
  );
  const caStates = Object.fromEntries(cas.map((ca) => [ca.org, ca]));
  const caOf = (org: OrgConfig): CaState => caStates[org.key] ?? fail(`no CA for org ${org.key}`);
  const [msps, agentsMsp] = await phase(
    log,
    'Fabric MSP: orderer0, peer0 per bank and org admins enrolled (TLS too)',
    () =>
      Promise.all([
        Promise.all(nodeOrgs.map((org, i) => buildOrgMsp(org, i > 0, caOf(org), paths.stateDir))),
        buildClientOrgMsp(agentsOrg, caOf(agentsOrg), paths.stateDir),
      ]),
  );
  const parties = agentsOrg.parties.map((p) => [
    p.key,
    { role: p.role, wallet: agentWallet(caOf(agentsOrg).wallet, p.key) },
  ]);
  return {
    caStates,
    mspStates: Object.fromEntries(nodeOrgs.map((org, i) => [org.key, msps[i]!])),
    agents: { org: agentsOrg.key, mspId: agentsOrg.mspId, msp: agentsMsp, parties: Object.fromEntries(parties) },
  };
}

function fail(message: string): never {
  throw new Error(`network-up: ${message}`);
}

/**
 * Orderer, peers, channel and chaincode when the Fabric binaries are there, then waits until every
 * peer gathers every bank's endorsement; without the binaries Fabric is recorded as unavailable.
 */
async function startFabricIfFound(
  { paths, cfg, registry, log }: StartRun,
  caStates: Readonly<Record<string, CaState>>,
  msps: Pick<FabricStartInput, 'msps' | 'clientMsps'>,
): Promise<NetworkState['fabric']> {
  const lookup = findFabricBinaries();
  if (!lookup.found) {
    log(`network-up: Fabric NOT started: ${lookup.reason}`);
    return { status: 'unavailable', reason: lookup.reason };
  }
  const fabric = await phase(
    log,
    `Fabric ${lookup.binaries.version}: orderer, peers, channel, chaincode (${lookup.binaries.source} ${lookup.binaries.dir})`,
    () =>
      startFabric({
        cfg,
        bins: lookup.binaries,
        stateDir: paths.stateDir,
        logDir: paths.logDir,
        cas: caStates,
        ...msps,
        record: (rec) => registry.add(rec),
        log,
      }),
  );
  const gateways = Object.fromEntries(
    cfg.peerOrgs.map((o) => [o.key, walletIdentity(o.mspId, caStates[o.key]!.wallet, 'gateway')]),
  );
  await phase(log, 'Fabric: every peer gathers every bank’s endorsement (gossip membership)', () =>
    waitEndorsable(fabric, gateways),
  );
  return fabric;
}
