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
  return {
    channel: raw.channel,
    chaincode: raw.chaincode,
    ordererOrg: shift(raw.ordererOrg),
    peerOrgs: raw.peerOrgs.map(shift),
    evm: { ...raw.evm, port: raw.evm.port + offset },
  };
}
