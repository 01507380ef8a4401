/**
 * The Fabric part of the network, started natively on loopback: one etcdraft orderer (channel
 * participation API, no system channel), one peer per bank org (TLS, NodeOUs, gateway service
 * on, no Docker), the channel (the bank orgs and the peerless agents org) joined by every peer
 * with anchor peers, and the securities chaincode
 * as a service (fabric-chaincode.ts). Every process is recorded with its PID the moment it starts;
 * every wait polls a health endpoint.
 *
 * The access policy is part of the deployment ({@link deployedPolicy}); the endorsement policy
 * needs every bank's peer ({@link endorsementPolicy}).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
// The policy module only: the package index loads fabric-contract-api, which logs at import.
import { DEFAULT_POLICY, type AccessPolicy } from '@dvp/securities-chaincode/dist/policy';
import type { NetworkConfig, OrgConfig } from './config';
import { requirePort } from './config';
import type { FabricBinaries } from './fabric-bin';
import {
  chaincodeContentHash,
  deployChaincode,
  packageChaincode,
  startChaincodeServer,
  type ChaincodeServerTls,
} from './fabric-chaincode';
import { healthz, isRaftLeader, peerCli, run, waitFor, type PeerTarget } from './fabric-cli';
import { CHANNEL_PROFILE, writeConfigtxYaml } from './configtx';
import { BATCH_TIMEOUT, writeCoreYaml, writeOrdererYaml } from './fabric-config';
import { enrollTlsServer, TLS_CLIENT_FILES, TLS_FILES } from './msp';
import { spawnDetached, waitHealthy } from './process';
import type { CaState, FabricClientOrgMsp, FabricOrgMsp, FabricPeerState, FabricUpState, ProcessRecord } from './state';

/** What {@link startFabric} needs from the rest of network-up. */
export interface FabricStartInput {
  readonly cfg: NetworkConfig;
  readonly bins: FabricBinaries;
  readonly stateDir: string;
  readonly logDir: string;
  readonly cas: Readonly<Record<string, CaState>>;
  readonly msps: Readonly<Record<string, FabricOrgMsp>>;
  /** Application orgs without a peer (the agents org): members of the channel, endorsing nothing. */
  readonly clientMsps: readonly FabricClientOrgMsp[];
  readonly record: (rec: ProcessRecord) => void;
  readonly log: (line: string) => void;
}

/**
 * Every bank's peer must endorse: a securities movement is checked by both custody banks'
 * peers, so neither bank (nor a compromised peer) can change holdings alone. Only peer orgs are
 * named: the agents org has no peer and its members are clients.
 */
export function endorsementPolicy(cfg: NetworkConfig): string {
  return `AND(${cfg.peerOrgs.map((o) => `'${o.mspId}.peer'`).join(',')})`;
}

/**
 * The access policy of the deployment: the chaincode's defaults, with `admin` and `auditor`
 * honoured only from the bank orgs' MSPs, `issuer` only from the issuer's org, and a policy
 * change needing every bank org's admin (`governors`). The agents org's members are plain
 * clients: holder transactions (escrow release, approval and return among them) and the reads.
 */
export function deployedPolicy(cfg: NetworkConfig): AccessPolicy {
  const banks = cfg.peerOrgs.map((o) => o.mspId);
  const issuer = cfg.peerOrgs.find((o) => o.key === cfg.chaincode.issuerOrg);
  if (!issuer) throw new Error(`chaincode.issuerOrg "${cfg.chaincode.issuerOrg}" is not a peer org`);
  return { ...DEFAULT_POLICY, roleMsps: { admin: banks, issuer: [issuer.mspId], auditor: banks }, governors: banks };
}

/** The chaincode server's name in the process registry. */
export const CHAINCODE_PROCESS = 'chaincode-securities';

const fabricDir = (stateDir: string, ...parts: string[]): string => join(stateDir, 'fabric', ...parts);

/** The peers as the `peer` CLI reaches them. */
export function peerTargets(cfg: NetworkConfig, msps: Readonly<Record<string, FabricOrgMsp>>, stateDir: string) {
  return cfg.peerOrgs.map((org): PeerTarget => {
    const msp = msps[org.key];
    if (!msp) throw new Error(`no Fabric MSP for org ${org.key}`);
    return {
      org: org.key,
      msp,
      address: `127.0.0.1:${requirePort(org, 'peerPort')}`,
      cfgDir: fabricDir(stateDir, 'config', msp.node.host),
    };
  });
}

async function startOrderer(i: FabricStartInput, msp: FabricOrgMsp): Promise<void> {
  const org = i.cfg.ordererOrg;
  const cfgDir = fabricDir(i.stateDir, 'config', msp.node.host);
  const ports = {
    orderer: requirePort(org, 'ordererPort'),
    admin: requirePort(org, 'adminPort'),
    operations: requirePort(org, 'operationsPort'),
  };
  writeOrdererYaml(cfgDir, { msp, ports, dataDir: fabricDir(i.stateDir, 'data', msp.node.host) });
  const proc = spawnDetached({
    command: i.bins.orderer,
    args: [],
    log: join(i.logDir, `${msp.node.host}.log`),
    env: { FABRIC_CFG_PATH: cfgDir },
  });
  i.record({ name: 'orderer', pid: proc.pid, log: proc.log, ports: Object.values(ports) });
  await waitHealthy('orderer', proc, () => healthz(ports.operations));
}

async function startPeer(i: FabricStartInput, org: OrgConfig, target: PeerTarget, ccaasDir: string): Promise<void> {
  const ports = {
    peer: requirePort(org, 'peerPort'),
    chaincode: requirePort(org, 'chaincodePort'),
    operations: requirePort(org, 'operationsPort'),
  };
  const dataDir = fabricDir(i.stateDir, 'data', target.msp.node.host);
  writeCoreYaml(target.cfgDir, { msp: target.msp, ports, dataDir, ccaasBuilderDir: ccaasDir });
  const proc = spawnDetached({
    command: i.bins.peer,
    args: ['node', 'start'],
    log: join(i.logDir, `${target.msp.node.host}.log`),
    env: { FABRIC_CFG_PATH: target.cfgDir },
  });
  i.record({ name: `peer-${org.key}`, pid: proc.pid, log: proc.log, ports: Object.values(ports) });
  await waitHealthy(`peer ${target.msp.node.host}`, proc, () => healthz(ports.operations));
}

/** Genesis block from configtxgen, the orderer joined through osnadmin, then every peer. */
async function createChannel(i: FabricStartInput, orderer: FabricOrgMsp, peers: readonly PeerTarget[]) {
  const { cfg } = i;
  const cfgDir = fabricDir(i.stateDir, 'config', 'configtx');
  const ordererPort = requirePort(cfg.ordererOrg, 'ordererPort');
  writeConfigtxYaml(cfgDir, {
    orderer,
    ordererPort,
    peerOrgs: peers.map((p, n) => ({ msp: p.msp, peerPort: requirePort(cfg.peerOrgs[n]!, 'peerPort') })),
    clientOrgs: i.clientMsps,
  });
  const block = fabricDir(i.stateDir, 'channel', `${cfg.channel}.block`);
  mkdirSync(join(block, '..'), { recursive: true });
  await run('configtxgen', i.bins.configtxgen, [
    '-profile',
    CHANNEL_PROFILE,
    '-outputBlock',
    block,
    '-channelID',
    cfg.channel,
    '-configPath',
    cfgDir,
  ]);
  const adminTls = orderer.admin.tlsDir;
  await run('osnadmin', i.bins.osnadmin, [
    'channel',
    'join',
    '--channelID',
    cfg.channel,
    '--config-block',
    block,
    '-o',
    `127.0.0.1:${requirePort(cfg.ordererOrg, 'adminPort')}`,
    '--ca-file',
    join(orderer.node.tlsDir, 'ca.crt'),
    '--client-cert',
    join(adminTls, TLS_CLIENT_FILES.cert),
    '--client-key',
    join(adminTls, TLS_CLIENT_FILES.key),
  ]);
  const opsPort = requirePort(cfg.ordererOrg, 'operationsPort');
  // Lifecycle transactions fail with "no Raft leader" until one is elected.
  await waitFor('orderer', `Raft leader of ${cfg.channel}`, () => isRaftLeader(opsPort, cfg.channel));
  await Promise.all(peers.map((p) => peerCli(i.bins, p, ['channel', 'join', '-b', block])));
}

/**
 * The chaincode server's TLS certificate, from the orderer org's CA (the network operator's),
 * enrolled once per network and kept for upgrades.
 */
async function chaincodeServerTls(i: FabricStartInput): Promise<ChaincodeServerTls> {
  const dir = fabricDir(i.stateDir, 'chaincode', 'tls');
  const files = { cert: join(dir, TLS_FILES.cert), key: join(dir, TLS_FILES.key), ca: join(dir, TLS_FILES.ca) };
  if (Object.values(files).every((f) => existsSync(f))) return files;
  const ca = i.cas[i.cfg.ordererOrg.key];
  if (!ca) throw new Error('no CA for the orderer org');
  return enrollTlsServer(ca, 'chaincode-server', ['127.0.0.1', 'localhost'], dir);
}

/** Starts orderer, peers, channel and chaincode; returns what network.json records. */
export async function startFabric(i: FabricStartInput): Promise<FabricUpState> {
  const { cfg, bins, log } = i;
  const ordererMsp = i.msps[cfg.ordererOrg.key];
  if (!ordererMsp) throw new Error('no Fabric MSP for the orderer org');
  const peers = peerTargets(cfg, i.msps, i.stateDir);
  let t = performance.now();
  const lap = (what: string) => {
    log(`network-up: Fabric: ${what} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
  };
  await Promise.all([
    startOrderer(i, ordererMsp),
    ...peers.map((p, n) => startPeer(i, cfg.peerOrgs[n]!, p, bins.ccaasBuilder.dir)),
  ]);
  lap(`orderer and ${peers.length} peers healthy`);
  await createChannel(i, ordererMsp, peers);
  lap(`channel ${cfg.channel} created, orderer and every peer joined`);
  const chaincode = await startChaincode(i, peers, 1);
  lap(`chaincode ${cfg.chaincode.name} deployed (sequence 1) and serving`);
  const ordererAddress = `127.0.0.1:${requirePort(cfg.ordererOrg, 'ordererPort')}`;
  return {
    status: 'up',
    binaries: { source: bins.source, dir: bins.dir, version: bins.version, ccaasBuilder: bins.ccaasBuilder },
    channel: cfg.channel,
    batchTimeout: BATCH_TIMEOUT,
    orderer: {
      mspId: ordererMsp.mspId,
      address: ordererAddress,
      adminAddress: `127.0.0.1:${requirePort(cfg.ordererOrg, 'adminPort')}`,
      tlsCaCertFile: join(ordererMsp.node.tlsDir, 'ca.crt'),
      operationsUrl: `http://127.0.0.1:${requirePort(cfg.ordererOrg, 'operationsPort')}`,
    },
    peers: Object.fromEntries(peers.map((p, n) => [p.org, peerState(p, cfg.peerOrgs[n]!)])),
    chaincode,
  };
}

function peerState(p: PeerTarget, org: OrgConfig): FabricPeerState {
  return {
    mspId: p.msp.mspId,
    host: p.msp.node.host,
    address: p.address,
    tlsCaCertFile: join(p.msp.node.tlsDir, 'ca.crt'),
    operationsUrl: `http://127.0.0.1:${requirePort(org, 'operationsPort')}`,
    cfgDir: p.cfgDir,
    adminMspDir: p.msp.admin.mspDir,
  };
}

/**
 * Packages the compiled chaincode, deploys it at `sequence` and (re)starts its server. Used at
 * first start (sequence 1) and by `chaincode-upgrade` (the committed sequence + 1).
 */
export async function startChaincode(
  i: FabricStartInput,
  peers: readonly PeerTarget[],
  sequence: number,
  stopOld?: () => Promise<void>,
): Promise<FabricUpState['chaincode']> {
  const { cfg, bins } = i;
  const contentHash = chaincodeContentHash();
  const label = `${cfg.chaincode.name}_${cfg.chaincode.version}_${contentHash.slice(0, 12)}`;
  const serverAddress = `127.0.0.1:${cfg.chaincode.serverPort}`;
  const tls = await chaincodeServerTls(i);
  const pkg = await packageChaincode(fabricDir(i.stateDir, 'chaincode'), label, serverAddress, tls);
  const policy = endorsementPolicy(cfg);
  const ordererMsp = i.msps[cfg.ordererOrg.key]!;
  await deployChaincode({
    bins,
    channel: cfg.channel,
    name: cfg.chaincode.name,
    version: `${cfg.chaincode.version}+${contentHash.slice(0, 12)}`,
    sequence,
    packageFile: pkg.file,
    packageId: pkg.packageId,
    endorsementPolicy: policy,
    peers,
    orderer: {
      address: `127.0.0.1:${requirePort(cfg.ordererOrg, 'ordererPort')}`,
      tlsCaFile: join(ordererMsp.node.tlsDir, 'ca.crt'),
    },
    log: i.log,
  });
  await stopOld?.();
  const accessPolicy = deployedPolicy(cfg);
  await startChaincodeServer({
    packageId: pkg.packageId,
    port: cfg.chaincode.serverPort,
    tls,
    accessPolicy,
    log: join(i.logDir, 'chaincode-securities.log'),
    onSpawn: (p) => i.record({ name: CHAINCODE_PROCESS, pid: p.pid, log: p.log, ports: [cfg.chaincode.serverPort] }),
  });
  const issuer = cfg.peerOrgs.find((o) => o.key === cfg.chaincode.issuerOrg)!;
  return {
    name: cfg.chaincode.name,
    version: cfg.chaincode.version,
    label,
    packageId: pkg.packageId,
    sequence,
    contentHash,
    endorsementPolicy: policy,
    serverAddress,
    accessPolicy,
    issuer: { org: issuer.key, mspId: issuer.mspId, identity: 'issuer' },
  };
}
