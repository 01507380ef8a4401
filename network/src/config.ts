/**
 * The network topology from `network/network.config.json`, with loopback ports shifted by
 * `DVP_PORT_OFFSET` (so a test can run a second network beside the main one).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OrgConfig {
  readonly key: string;
  readonly name: string;
  readonly mspId: string;
  readonly domain: string;
  /**
   * Root affiliation on the org's CA (default: `key`). Fabric CA writes each affiliation part as an
   * OU beside the identity type, and a Fabric MSP with NodeOUs rejects a certificate carrying two
   * of client/peer/admin/orderer, so the affiliation must not be one of those words.
   */
  readonly affiliation?: string;
  readonly caPort: number;
  /** Peer orgs: the peer's gRPC port (endorsement, gateway service, gossip, deliver). */
  readonly peerPort?: number;
  /** Peer orgs: the peer's chaincode listener (unused by chaincode-as-a-service, but always bound). */
  readonly chaincodePort?: number;
  /** Peers and the orderer: the operations endpoint (`/healthz`, metrics). */
  readonly operationsPort?: number;
  /** Orderer org: the orderer's gRPC port (broadcast, deliver, Raft). */
  readonly ordererPort?: number;
  /** Orderer org: the channel participation API (osnadmin), mutual TLS. */
  readonly adminPort?: number;
  /** HTTPS port of the bank's gateway (peer orgs). */
  readonly gatewayPort?: number;
  /** Index of the bank's EVM account in the network mnemonic (peer orgs). */
  readonly evmAccount?: number;
}

/** What an agent party's gateway does (its config's `role`); banks' gateways have role `bank`. */
export const AGENT_ROLES = ['escrow-manager', 'notary', 'observer'] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

/** A party of the agents org: its own directory entry, EVM account and gateway. */
export interface AgentPartyConfig {
  /** Party id (directory key, `party` attribute of its certificates). */
  readonly key: string;
  readonly role: AgentRole;
  /** HTTPS port of the party's gateway. */
  readonly gatewayPort: number;
  /** Index of the party's EVM account in the network mnemonic. */
  readonly evmAccount: number;
}

/**
 * The market-infrastructure org: an application org of the channel without a peer, whose CA
 * enrolls the identities of several parties (escrow manager, notary, observer).
 */
export interface AgentsOrgConfig extends OrgConfig {
  readonly parties: readonly AgentPartyConfig[];
}

export interface NetworkConfig {
  readonly channel: string;
  readonly chaincode: {
    readonly name: string;
    readonly version: string;
    /** Port of the chaincode-as-a-service server that every peer dials. */
    readonly serverPort: number;
    /**
     * Peer org (key) whose CA enrolls the securities issuer (`issuer`, role issuer). The local
     * network has no CSD org, so the seller's custody bank acts as the issuer's agent.
     */
    readonly issuerOrg: string;
  };
  readonly ordererOrg: OrgConfig;
  readonly peerOrgs: readonly OrgConfig[];
  readonly agentsOrg: AgentsOrgConfig;
  readonly evm: {
    readonly port: number;
    readonly chainId: number;
    readonly mnemonic: string;
    readonly accounts: number;
    readonly balanceEth: number;
  };
}

/** OU values NodeOUs classify on; no affiliation part may equal one (see {@link OrgConfig.affiliation}). */
export const NODE_OU_NAMES: readonly string[] = ['client', 'peer', 'admin', 'orderer'];

/** The org's root affiliation on its CA, checked against the NodeOU names. */
export function orgAffiliation(org: OrgConfig): string {
  const affiliation = org.affiliation ?? org.key;
  const clash = affiliation.split('.').find((part) => NODE_OU_NAMES.includes(part));
  if (clash !== undefined)
    throw new Error(
      `org "${org.key}": affiliation "${affiliation}" contains "${clash}", a NodeOU name; its certificates ` +
        `would carry two role OUs and a Fabric MSP would reject them (set "affiliation" in network.config.json)`,
    );
  return affiliation;
}

/** Every port field of an org, shifted by `DVP_PORT_OFFSET`. */
const PORT_KEYS = [
  'caPort',
  'peerPort',
  'chaincodePort',
  'operationsPort',
  'ordererPort',
  'adminPort',
  'gatewayPort',
] as const satisfies readonly (keyof OrgConfig)[];

/** A port an org must have for its Fabric node; names the missing field otherwise. */
export function requirePort(org: OrgConfig, key: (typeof PORT_KEYS)[number]): number {
  const port = org[key];
  if (port === undefined) throw new Error(`network.config.json: org "${org.key}" has no "${key}"`);
  return port;
}

/** Throws unless every agent party has a known role and a key no other party or org uses. */
function checkAgentParties(raw: NetworkConfig): void {
  const taken = new Set([raw.ordererOrg.key, ...raw.peerOrgs.map((o) => o.key), raw.agentsOrg.key]);
  for (const party of raw.agentsOrg.parties) {
    if (!(AGENT_ROLES as readonly string[]).includes(party.role))
      throw new Error(`agentsOrg party "${party.key}": role "${party.role}" is not one of ${AGENT_ROLES.join(', ')}`);
    if (taken.has(party.key)) throw new Error(`agentsOrg party "${party.key}": the key is already a party or org`);
    taken.add(party.key);
  }
}

export function loadNetworkConfig(env: NodeJS.ProcessEnv = process.env): NetworkConfig {
  const file = env['DVP_NETWORK_CONFIG'] ?? join(__dirname, '..', 'network.config.json');
  const raw = JSON.parse(readFileSync(file, 'utf8')) as NetworkConfig;
  const offsetText = env['DVP_PORT_OFFSET'] ?? '0';
  if (!/^\d{1,5}$/.test(offsetText))
    throw new Error(`DVP_PORT_OFFSET must be a non-negative integer, got "${offsetText}"`);
  const offset = Number(offsetText);
  const shift = (org: OrgConfig): OrgConfig => {
    const shifted: Record<string, unknown> = { ...org };
    for (const key of PORT_KEYS) {
      const port = org[key];
      if (port !== undefined) shifted[key] = port + offset;
    }
    return shifted as unknown as OrgConfig;
  };
  for (const org of [raw.ordererOrg, ...raw.peerOrgs, raw.agentsOrg]) orgAffiliation(org);
  checkAgentParties(raw);
  if (!raw.peerOrgs.some((o) => o.key === raw.chaincode.issuerOrg))
    throw new Error(`chaincode.issuerOrg "${raw.chaincode.issuerOrg}" is not a peer org of network.config.json`);
  return {
    channel: raw.channel,
    chaincode: { ...raw.chaincode, serverPort: raw.chaincode.serverPort + offset },
    ordererOrg: shift(raw.ordererOrg),
    peerOrgs: raw.peerOrgs.map(shift),
    agentsOrg: {
      ...shift(raw.agentsOrg),
      parties: raw.agentsOrg.parties.map((p) => ({ ...p, gatewayPort: p.gatewayPort + offset })),
    },
    evm: { ...raw.evm, port: raw.evm.port + offset },
  };
}
