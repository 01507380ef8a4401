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
  readonly peerPort?: number;
  /** HTTPS port of the bank's gateway (peer orgs). */
  readonly gatewayPort?: number;
  /** Index of the bank's EVM account in the network mnemonic (peer orgs). */
  readonly evmAccount?: number;
}

export interface NetworkConfig {
  readonly channel: string;
  readonly chaincode: { readonly name: string; readonly version: string };
  readonly ordererOrg: OrgConfig;
  readonly peerOrgs: readonly OrgConfig[];
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

export function loadNetworkConfig(env: NodeJS.ProcessEnv = process.env): NetworkConfig {
  const file = env['DVP_NETWORK_CONFIG'] ?? join(__dirname, '..', 'network.config.json');
  const raw = JSON.parse(readFileSync(file, 'utf8')) as NetworkConfig & { ordererOrg: OrgConfig };
  const offsetText = env['DVP_PORT_OFFSET'] ?? '0';
  if (!/^\d{1,5}$/.test(offsetText))
    throw new Error(`DVP_PORT_OFFSET must be a non-negative integer, got "${offsetText}"`);
  const offset = Number(offsetText);
  const shift = (org: OrgConfig): OrgConfig => ({
    ...org,
    caPort: org.caPort + offset,
    ...(org.peerPort === undefined ? {} : { peerPort: org.peerPort + offset }),
    ...(org.gatewayPort === undefined ? {} : { gatewayPort: org.gatewayPort + offset }),
  });
  for (const org of [raw.ordererOrg, ...raw.peerOrgs]) orgAffiliation(org);
  return {
    channel: raw.channel,
    chaincode: raw.chaincode,
    ordererOrg: shift(raw.ordererOrg),
    peerOrgs: raw.peerOrgs.map(shift),
    evm: { ...raw.evm, port: raw.evm.port + offset },
  };
}
