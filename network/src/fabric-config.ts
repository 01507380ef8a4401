/**
 * The configuration files the Fabric processes read, written by us at network-up (no sample
 * files are copied): each peer's `core.yaml` and the orderer's `orderer.yaml` (the channel's
 * `configtx.yaml` is configtx.ts). Each is written as JSON, which is valid YAML, so no value can
 * break the document. Everything listens on 127.0.0.1 only.
 *
 * Choices worth knowing:
 * - TLS everywhere (peers, orderer, orderer admin, chaincode server) with the CA-enrolled certs;
 *   the orderer admin endpoint (osnadmin) also requires a client certificate of the orderer org.
 * - NodeOUs: the MSP folders carry `config.yaml` (msp.ts), so an identity's role is its OU.
 * - `vm.endpoint` is empty: no Docker; the chaincode runs as a service (ccaas builder).
 * - BatchTimeout {@link BATCH_TIMEOUT}: a block is cut at most that long after its first
 *   transaction. It bounds the commit latency of a lone transaction (about 140 ms measured).
 * - The orderer's operations endpoint serves Prometheus metrics, read to wait for a Raft leader.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FabricOrgMsp } from './state';

/**
 * How far a proposal's timestamp may be from a peer's clock. A client chooses that timestamp, and
 * the chaincode takes its time from it, so a client could claim up to this long after an HTLC
 * expiry or refund this long before it: the settlement margin Δ must be larger (README).
 */
export const AUTHENTICATION_TIMEWINDOW = '5s';

/** How long the orderer waits to fill a block once it holds a transaction. */
export const BATCH_TIMEOUT = '100ms';

/** Where a peer listens (all on 127.0.0.1). */
export interface PeerPorts {
  readonly peer: number;
  readonly chaincode: number;
  readonly operations: number;
}

/** Where the orderer listens. */
export interface OrdererPorts {
  readonly orderer: number;
  readonly admin: number;
  readonly operations: number;
}

/** `127.0.0.1:<port>`. */
export const addr = (port: number): string => `127.0.0.1:${port}`;

/** Writes `doc` as JSON, which is valid YAML (no value can break the document); returns the file. */
export function writeJsonYaml(file: string, doc: unknown): string {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}

/** What a peer's core.yaml is made from. */
interface PeerConfigInput {
  readonly msp: FabricOrgMsp;
  readonly ports: PeerPorts;
  readonly dataDir: string;
  readonly ccaasBuilderDir: string;
}

/** A peer's core.yaml (into `cfgDir`, the peer's FABRIC_CFG_PATH). Returns the file. */
export function writeCoreYaml(cfgDir: string, o: PeerConfigInput): string {
  return writeJsonYaml(join(cfgDir, 'core.yaml'), {
    peer: peerSection(o),
    // No Docker: chaincode runs as a service, reached through the external builder below.
    vm: { endpoint: '' },
    chaincode: chaincodeSection(o.ccaasBuilderDir),
    ledger: ledgerSection(o.dataDir),
    operations: { listenAddress: addr(o.ports.operations), tls: { enabled: false } },
    metrics: { provider: 'disabled' },
  });
}

/** core.yaml's `peer`: its listeners, gossip, TLS and identity, then the services it runs. */
function peerSection(o: PeerConfigInput): Record<string, unknown> {
  const endpoint = addr(o.ports.peer);
  return {
    ...peerListeners(o.msp.node.host, endpoint, addr(o.ports.chaincode)),
    gossip: gossipConfig(endpoint),
    ...peerTrust(o.msp.node.tlsDir),
    ...peerLocal(o.msp, o.dataDir),
    ...peerServices(),
  };
}

/** The peer's id, its endpoint and chaincode endpoint, the gateway and the keepalive settings. */
function peerListeners(host: string, endpoint: string, chaincode: string): Record<string, unknown> {
  return {
    id: host,
    networkId: 'dvp',
    listenAddress: endpoint,
    address: endpoint,
    addressAutoDetect: false,
    chaincodeListenAddress: chaincode,
    chaincodeAddress: chaincode,
    gateway: { enabled: true, endorsementTimeout: '30s', broadcastTimeout: '30s', dialTimeout: '2m' },
    keepalive: {
      interval: '7200s',
      timeout: '20s',
      minInterval: '60s',
      client: { interval: '60s', timeout: '20s' },
      deliveryClient: { interval: '60s', timeout: '20s' },
    },
  };
}

/** TLS with the CA-enrolled certificate (no client certificates), and the proposals' time window. */
function peerTrust(tls: string): Record<string, unknown> {
  return {
    tls: {
      enabled: true,
      clientAuthRequired: false,
      cert: { file: join(tls, 'server.crt') },
      key: { file: join(tls, 'server.key') },
      rootcert: { file: join(tls, 'ca.crt') },
      clientRootCAs: { files: [join(tls, 'ca.crt')] },
    },
    // A proposal's timestamp is the client's clock and the chaincode's (HTLC expiries); peers
    // accept one at most this far from their own clock, so Δ (DESIGN 3.1) must exceed it.
    authentication: { timewindow: AUTHENTICATION_TIMEWINDOW },
  };
}

/** The peer's data folder, its software crypto and its local MSP. */
function peerLocal(msp: FabricOrgMsp, dataDir: string): Record<string, unknown> {
  return {
    fileSystemPath: dataDir,
    BCCSP: { Default: 'SW', SW: { Hash: 'SHA2', Security: 256, FileKeyStore: { KeyStore: '' } } },
    mspConfigPath: msp.node.mspDir,
    localMspId: msp.mspId,
    localMspType: 'bccsp',
  };
}

/** Client and delivery timeouts, the handler chain, discovery and the service limits. */
function peerServices(): Record<string, unknown> {
  return {
    client: { connTimeout: '3s' },
    deliveryclient: {
      blockGossipEnabled: false,
      reconnectTotalTimeThreshold: '3600s',
      connTimeout: '3s',
      reConnectBackoffThreshold: '3600s',
      blockCensorshipTimeoutKey: '30s',
      minimalReconnectInterval: '100ms',
    },
    profile: { enabled: false },
    handlers: {
      authFilters: [{ name: 'DefaultAuth' }, { name: 'ExpirationCheck' }, { name: 'TimeWindowCheck' }],
      decorators: [{ name: 'DefaultDecorator' }],
      endorsers: { escc: { name: 'DefaultEndorsement' } },
      validators: { vscc: { name: 'DefaultValidation' } },
    },
    discovery: {
      enabled: true,
      authCacheEnabled: true,
      authCacheMaxSize: 1000,
      authCachePurgeRetentionRatio: 0.75,
      orgMembersAllowedAccess: false,
    },
    limits: { concurrency: { endorserService: 2500, deliverService: 2500, gatewayService: 500 } },
    maxRecvMsgSize: 104857600,
    maxSendMsgSize: 104857600,
  };
}

/** core.yaml's `chaincode`: the ccaas external builder, timeouts, system chaincodes, logging. */
function chaincodeSection(ccaasBuilderDir: string): Record<string, unknown> {
  return {
    externalBuilders: [{ name: 'ccaas_builder', path: ccaasBuilderDir }],
    installTimeout: '300s',
    startuptimeout: '300s',
    executetimeout: '30s',
    mode: 'net',
    keepalive: 0,
    system: { _lifecycle: 'enable', cscc: 'enable', lscc: 'enable', qscc: 'enable' },
    logging: { level: 'info', shim: 'warning', format: '%{time:2006-01-02 15:04:05.000} [%{module}] %{message}' },
  };
}

/** core.yaml's `ledger`: goleveldb state, the history database, private data, snapshots. */
function ledgerSection(dataDir: string): Record<string, unknown> {
  return {
    state: { stateDatabase: 'goleveldb', totalQueryLimit: 100000 },
    // The chaincode's History transaction reads the history database.
    history: { enableHistoryDatabase: true },
    pvtdataStore: {
      collElgProcMaxDbBatchSize: 5000,
      collElgProcDbBatchesInterval: 1000,
      deprioritizedDataReconcilerInterval: '60m',
      purgeInterval: 100,
      purgedKeyAuditLogging: true,
    },
    snapshots: { rootDir: join(dataDir, 'snapshots') },
  };
}

/** Gossip: one peer per org, each its own org leader, reachable by the other orgs at `endpoint`. */
function gossipConfig(endpoint: string): Record<string, unknown> {
  return {
    bootstrap: endpoint,
    useLeaderElection: false,
    orgLeader: true,
    membershipTrackerInterval: '5s',
    endpoint: '',
    externalEndpoint: endpoint,
    maxBlockCountToStore: 10,
    maxPropagationBurstLatency: '10ms',
    maxPropagationBurstSize: 10,
    propagateIterations: 1,
    propagatePeerNum: 3,
    pullInterval: '4s',
    pullPeerNum: 3,
    requestStateInfoInterval: '4s',
    publishStateInfoInterval: '4s',
    publishCertPeriod: '10s',
    skipBlockVerification: false,
    dialTimeout: '3s',
    connTimeout: '2s',
    recvBuffSize: 20,
    sendBuffSize: 200,
    digestWaitTime: '1s',
    requestWaitTime: '1500ms',
    responseWaitTime: '2s',
    aliveTimeInterval: '5s',
    aliveExpirationTimeout: '25s',
    // Short: a peer's first dial of another org's anchor peer fails until it has the channel's TLS roots.
    reconnectInterval: '1s',
    maxConnectionAttempts: 120,
    msgExpirationFactor: 20,
    election: {
      startupGracePeriod: '15s',
      membershipSampleInterval: '1s',
      leaderAliveThreshold: '10s',
      leaderElectionDuration: '5s',
    },
    pvtData: {
      pullRetryThreshold: '60s',
      transientstoreMaxBlockRetention: 20000,
      pushAckTimeout: '3s',
      btlPullMargin: 10,
      reconcileBatchSize: 10,
      reconcileSleepInterval: '1m',
      reconciliationEnabled: true,
      skipPullingInvalidTransactionsDuringCommit: false,
      implicitCollectionDisseminationPolicy: { requiredPeerCount: 0, maxPeerCount: 1 },
    },
    // Blocks come from the orderer to every peer (each is its org's leader); no state transfer.
    state: { enabled: false },
  };
}

/** The orderer's orderer.yaml (into `cfgDir`). Channel participation API, no system channel. */
export function writeOrdererYaml(
  cfgDir: string,
  o: { readonly msp: FabricOrgMsp; readonly ports: OrdererPorts; readonly dataDir: string },
): string {
  const tls = o.msp.node.tlsDir;
  const cert = join(tls, 'server.crt');
  const key = join(tls, 'server.key');
  const ca = join(tls, 'ca.crt');
  return writeJsonYaml(join(cfgDir, 'orderer.yaml'), {
    General: {
      ListenAddress: '127.0.0.1',
      ListenPort: o.ports.orderer,
      TLS: { Enabled: true, PrivateKey: key, Certificate: cert, RootCAs: [ca], ClientAuthRequired: false },
      Keepalive: { ServerMinInterval: '60s', ServerInterval: '7200s', ServerTimeout: '20s' },
      MaxRecvMsgSize: 104857600,
      MaxSendMsgSize: 104857600,
      // Raft traffic shares the orderer's listener and TLS certificate.
      Cluster: { SendBufferSize: 100, ClientCertificate: cert, ClientPrivateKey: key },
      BootstrapMethod: 'none',
      LocalMSPDir: o.msp.node.mspDir,
      LocalMSPID: o.msp.mspId,
      BCCSP: { Default: 'SW', SW: { Hash: 'SHA2', Security: 256, FileKeyStore: { KeyStore: '' } } },
      Authentication: { TimeWindow: AUTHENTICATION_TIMEWINDOW },
    },
    FileLedger: { Location: join(o.dataDir, 'ledger') },
    Debug: { BroadcastTraceDir: '', DeliverTraceDir: '' },
    Operations: { ListenAddress: addr(o.ports.operations), TLS: { Enabled: false } },
    // Prometheus on the operations endpoint: network-up reads consensus_etcdraft_is_leader.
    Metrics: { Provider: 'prometheus' },
    Admin: {
      ListenAddress: addr(o.ports.admin),
      TLS: {
        Enabled: true,
        Certificate: cert,
        PrivateKey: key,
        RootCAs: [ca],
        ClientAuthRequired: true,
        ClientRootCAs: [ca],
      },
    },
    ChannelParticipation: { Enabled: true, MaxRequestBodySize: '1 MB' },
    Consensus: { WALDir: join(o.dataDir, 'etcdraft', 'wal'), SnapDir: join(o.dataDir, 'etcdraft', 'snapshot') },
  });
}
