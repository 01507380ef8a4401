/**
 * `network/.state/network.json`: the one file the gateway and the tests read to find the local
 * ledgers. Its schema is this module's {@link NetworkState}; README.md ("network.json") documents it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { AgentRole } from './config';

/** A process started by `network-up`, stopped by PID by `network-down`. */
export interface ProcessRecord {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
  /** Loopback ports it listens on; `network-down` checks they are closed afterwards. */
  readonly ports: readonly number[];
}

export interface EvmState {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly mnemonic: string;
  /** Funded accounts derived from the mnemonic (index → address). Keys are derived, not stored. */
  readonly accounts: readonly `0x${string}`[];
  readonly contracts: Readonly<Record<string, `0x${string}`>>;
  /** Where the ABIs live: the TypeScript module exporting them, and JSON artifacts. */
  readonly abis: { readonly module: string; readonly artifactsDir: string };
}

export interface CaState {
  readonly org: string;
  readonly mspId: string;
  readonly url: string;
  readonly caName: string;
  readonly tlsCertFile: string;
  readonly caCertFile: string;
  readonly home: string;
  /**
   * Wallet folder of the org's enrolled identities: `registrar`; for peer orgs also `admin`
   * (operator), `gateway`, `gateway-tls` (TLS server certificate for 127.0.0.1/localhost),
   * `auditor` and `trader`.
   */
  readonly wallet: string;
  /** The CA's current CRL (PEM), published at network-up; replace it atomically after a revocation. */
  readonly crlFile: string;
}

/** A peer or orderer: its enrolled signing MSP and its TLS server/client certificate. */
export interface FabricNodeMsp {
  /** `peer0.<domain>` / `orderer0.<domain>`: folder name and TLS host name. */
  readonly host: string;
  readonly enrollmentId: string;
  /** The registered identity type, which Fabric CA writes as the certificate's OU. */
  readonly type: 'peer' | 'orderer';
  /** `signcerts/cert.pem`, `keystore/key_sk` (0600), `cacerts/`, `tlscacerts/`, `config.yaml`. */
  readonly mspDir: string;
  /** `server.crt` (CA `tls` profile), `server.key` (0600), `ca.crt`. */
  readonly tlsDir: string;
  /** Subject alternative names requested for `tls/server.crt`. */
  readonly tlsHosts: readonly string[];
}

/** The Fabric MSP of an org without a node (the agents org): what the channel config carries, and its admin. */
export interface FabricClientOrgMsp {
  readonly mspId: string;
  /** `<state>/fabric/organizations/<org>`. */
  readonly root: string;
  /** The org's verifying MSP: `cacerts/`, `tlscacerts/`, `config.yaml` (NodeOUs); no key. */
  readonly mspDir: string;
  /** The org admin (identity type `admin`): `users/Admin@<domain>/msp`, and its TLS client certificate. */
  readonly admin: { readonly enrollmentId: string; readonly mspDir: string; readonly tlsDir: string };
}

/** One org's Fabric MSP and TLS material, enrolled from its CA at network-up (see msp.ts). */
export interface FabricOrgMsp extends FabricClientOrgMsp {
  /** `peer0` for a bank, `orderer0` for the orderer org. */
  readonly node: FabricNodeMsp;
}

/** One party of the agents org. */
export interface AgentPartyState {
  /** What its gateway does (the gateway config's `role`). */
  readonly role: AgentRole;
  /** `<state>/wallets/<agents org>/<party>`: `admin`, `gateway`, `gateway-tls`, `auditor`. */
  readonly wallet: string;
}

/**
 * The market-infrastructure org (network.config.json `agentsOrg`): an application org of the
 * channel with no peer; its CA (`fabricCa.orgs[org]`) enrolls the identities of several parties.
 */
export interface AgentsState {
  /** Org key: its CA in `fabricCa.orgs`. */
  readonly org: string;
  readonly mspId: string;
  readonly msp: FabricClientOrgMsp;
  /** Party id → its wallet and role. */
  readonly parties: Readonly<Record<string, AgentPartyState>>;
}

/** A bank org's peer as a client reaches it. */
export interface FabricPeerState {
  readonly mspId: string;
  /** `peer0.<domain>`. */
  readonly host: string;
  /** gRPC endpoint, `127.0.0.1:<port>` (TLS). */
  readonly address: string;
  /** The root of the peer's TLS certificate (the org CA). */
  readonly tlsCaCertFile: string;
  readonly operationsUrl: string;
  /** Folder of the peer's core.yaml; `FABRIC_CFG_PATH` for the `peer` CLI. */
  readonly cfgDir: string;
  /** The org admin's MSP folder (`CORE_PEER_MSPCONFIGPATH` for admin commands). */
  readonly adminMspDir: string;
}

/** The deployed securities chaincode. */
export interface FabricChaincodeState {
  readonly name: string;
  readonly version: string;
  /** Package label: `<name>_<version>_<first 12 hex of contentHash>`. */
  readonly label: string;
  /** `<label>:<sha256 of the package>`; the chaincode server runs with it as CHAINCODE_ID. */
  readonly packageId: string;
  readonly sequence: number;
  /** SHA-256 over the compiled chaincode (dist/ and package.json): a change means an upgrade. */
  readonly contentHash: string;
  /** The signature policy every transaction's endorsements must satisfy. */
  readonly endorsementPolicy: string;
  /** `127.0.0.1:<port>`: the chaincode-as-a-service server every peer dials (TLS). */
  readonly serverAddress: string;
  /** The access policy given to the chaincode server (DVP_CHAINCODE_POLICY). */
  readonly accessPolicy: unknown;
  /** The securities issuer: wallet identity `issuer` of this org. */
  readonly issuer: { readonly org: string; readonly mspId: string; readonly identity: string };
}

/** Fabric as network-up started it. */
export interface FabricUpState {
  readonly status: 'up';
  /** The binaries that ran (`source`: FABRIC_BIN, .bin, GOPATH or PATH). */
  readonly binaries: {
    readonly source: string;
    readonly dir: string;
    readonly version: string;
    readonly ccaasBuilder: { readonly kind: string; readonly dir: string };
  };
  readonly channel: string;
  readonly batchTimeout: string;
  readonly orderer: {
    readonly mspId: string;
    readonly address: string;
    readonly adminAddress: string;
    readonly tlsCaCertFile: string;
    readonly operationsUrl: string;
  };
  /** Peer org key → its peer. */
  readonly peers: Readonly<Record<string, FabricPeerState>>;
  readonly chaincode: FabricChaincodeState;
}

/** Fabric peer/orderer/channel/chaincode, or why they are not running. */
export type FabricState = FabricUpState | { readonly status: 'unavailable'; readonly reason: string };

export interface NetworkState {
  readonly schemaVersion: 1;
  readonly startedAt: string;
  readonly stateDir: string;
  readonly logDir: string;
  readonly evm: EvmState;
  readonly fabricCa: { readonly orgs: Readonly<Record<string, CaState>> };
  /** Fabric MSP/TLS folders per org with a node (present even though `fabric.status` is `unavailable`). */
  readonly fabricMsp: { readonly orgs: Readonly<Record<string, FabricOrgMsp>> };
  /** The agents org (no peer; its MSP is here, not in `fabricMsp`) and its parties. */
  readonly agents: AgentsState;
  readonly fabric: FabricState;
  /** The signed party directory and its authority's public key. */
  readonly directory: { readonly file: string; readonly authorityPublicKeyFile: string };
  readonly processes: readonly ProcessRecord[];
}

/** Folders used by the network scripts; overridable so tests can run a second, private network. */
export interface NetworkPaths {
  readonly root: string;
  readonly stateDir: string;
  readonly logDir: string;
  readonly stateFile: string;
}

/**
 * The project's `network/` folder: the nearest ancestor of this file holding
 * `network/network.config.json` (this file may run from source or from a compiled copy).
 */
function networkFolder(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'network', 'network.config.json'))) return join(dir, 'network');
  }
  throw new Error(`cannot find the project's network/network.config.json above ${__dirname}`);
}

/** Resolves the network folders from the environment (`DVP_NETWORK_STATE_DIR`, `DVP_NETWORK_LOG_DIR`). */
export function networkPaths(env: NodeJS.ProcessEnv = process.env): NetworkPaths {
  const root = networkFolder();
  const stateDir = resolve(env['DVP_NETWORK_STATE_DIR'] ?? join(root, '.state'));
  const logDir = resolve(env['DVP_NETWORK_LOG_DIR'] ?? join(root, '.logs'));
  return { root, stateDir, logDir, stateFile: join(stateDir, 'network.json') };
}

/** A party's Fabric identities: its org key, MSP id and wallet folder (for `loadIdentity`). */
export interface PartyWallet {
  readonly org: string;
  readonly mspId: string;
  readonly wallet: string;
}

/**
 * The wallet of `party`: a bank's is its org's (`fabricCa.orgs[party].wallet`), an agent party's
 * is its own folder in the agents org's wallet. Undefined for a party the network does not know.
 */
export function partyWallet(state: NetworkState, party: string): PartyWallet | undefined {
  const agent = state.agents.parties[party];
  if (agent !== undefined) return { org: state.agents.org, mspId: state.agents.mspId, wallet: agent.wallet };
  const ca = state.fabricCa.orgs[party];
  // A bank is an org with a peer; the orderer org and the agents org are no parties.
  if (ca === undefined || state.fabricMsp.orgs[party]?.node.type !== 'peer') return undefined;
  return { org: party, mspId: ca.mspId, wallet: ca.wallet };
}

export function readState(stateFile: string): NetworkState | undefined {
  let text: string;
  try {
    text = readFileSync(stateFile, 'utf8');
  } catch {
    return undefined;
  }
  const state = JSON.parse(text) as NetworkState;
  if (state.schemaVersion !== 1) throw new Error(`${stateFile}: unknown schemaVersion ${String(state.schemaVersion)}`);
  return state;
}

/** Writes atomically (temp file + rename) so a reader never sees half a file. */
export function writeState(stateFile: string, state: NetworkState): void {
  mkdirSync(dirname(stateFile), { recursive: true });
  const tmp = `${stateFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, stateFile);
}
