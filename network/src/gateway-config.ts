/**
 * Writes a party's gateway configuration from the local network's `network.json` (written by
 * `make network-up`): party, TLS server certificate (`gateway-tls` in the party's wallet), the CA
 * certificate of every org with a party in the directory (both banks and the agents org) as a
 * trust anchor, each of those CAs' CRL files, the signed directory and its authority's public
 * key, the SQLite path `<state>/gateways/<party>/gateway.sqlite`, the listen port of the
 * directory's gateway URL (`gatewayPort` of network.config.json, shifted like every port), the
 * gateway's Fabric identity and, when network.json says Fabric is up, a peer (a bank's own; for a
 * party of the agents org, which has no peer, the issuer org's), channel and chaincode with
 * `securities.ledger = "fabric"` (else why it is not: `fabric.unavailableReason`), the EVM node,
 * contracts and the party's EVM key (derived from the network mnemonic, written 0600 beside the
 * config), the gateway-messaging identity (`gateway` in the wallet) and, for a bank, the HTLC
 * settlement terms; for an agent party its `role` (`escrow-manager`, `notary`, `observer`). A
 * tool of the local network: a real deployment writes its config by hand.
 *
 * CLI: `npx tsx network/src/gateway-config.ts --party seller [--network <network.json>]
 * [--out <file>] [--security <ISIN>=<token>]`; prints the path of the config it wrote.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { SignedDirectory } from '@dvp/certs';
import { bytesToHex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import type { AgentRole } from './config';
import { networkPaths, partyWallet, readState, type CaState, type NetworkState, type PartyWallet } from './state';

/** Options of {@link writeGatewayConfig}. */
export interface GatewayConfigFromNetworkOptions {
  /** Path of network.json. */
  readonly networkFile: string;
  /** A party of the directory: a bank (its org key) or a party of the agents org (`manager`, ...). */
  readonly party: string;
  /** Default `<state>/gateways/<party>/gateway.json`. */
  readonly out?: string;
  /**
   * ISIN → ERC-20 token on the EVM network: securities held there, the stand-in for a machine
   * without Fabric. Default: on Fabric when network.json says Fabric is up, else nowhere.
   */
  readonly securities?: Readonly<Record<string, string>>;
  /**
   * The gateway config's `settlement` section (gateway/src/config/config.ts `SettlementConfig`),
   * merged over {@link DEFAULT_SETTLEMENT}; the gateway validates it when it loads the file.
   */
  readonly settlement?: Readonly<Record<string, string | number>>;
  /** Gateway URL per party, overriding the directory's (e.g. gateways on other ports). */
  readonly peerUrls?: Readonly<Record<string, string>>;
}

/** The currency the local network's cash token (symbol CASH) stands for. */
export const LOCAL_CURRENCY = 'EUR';

/** Settlement defaults: timelocks long enough for a human to look; tests and the demo pass short ones. */
export const DEFAULT_SETTLEMENT = {
  leader: 'seller',
  leaderSeconds: 3600,
  followerSeconds: 1800,
  deltaSeconds: 600,
  pollIntervalMs: 1000,
} as const;

function fail(message: string): never {
  throw new Error(`gateway config: ${message}`);
}

function writeAtomic(file: string, data: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, file);
}

/** The party's EVM key: the network mnemonic's account whose address the directory lists for it. */
function evmKeyOf(net: NetworkState, party: string, evmAddress: string): `0x${string}` {
  const index = net.evm.accounts.findIndex((a) => a.toLowerCase() === evmAddress.toLowerCase());
  if (index < 0) fail(`the EVM address of '${party}' is not one of the network's accounts`);
  const hd = mnemonicToAccount(net.evm.mnemonic, { addressIndex: index }).getHdKey();
  if (!hd.privateKey) fail(`cannot derive the EVM key of account ${index}`);
  return bytesToHex(hd.privateKey);
}

/** Whose gateway a config is for: the party's wallet, the org whose peer it uses, and its role. */
interface GatewayParty {
  readonly party: string;
  readonly own: PartyWallet;
  /** A bank's own org; for an agent party (its org has no peer) the issuer's org, `chaincode.issuerOrg`. */
  readonly peerOrg: string | undefined;
  readonly role: 'bank' | AgentRole;
}

function gatewayParty(net: NetworkState, party: string): GatewayParty {
  const own = partyWallet(net, party) ?? fail(`network.json has no wallet for party '${party}'`);
  const agent = net.agents.parties[party];
  if (agent === undefined) return { party, own, peerOrg: party, role: 'bank' };
  const issuerOrg = net.fabric.status === 'up' ? net.fabric.chaincode.issuer.org : undefined;
  return { party, own, peerOrg: issuerOrg, role: agent.role };
}

/** The `fabric` section: the party's gateway identity, and its peer when Fabric is up (else why not). */
function fabricSection(net: NetworkState, gp: GatewayParty) {
  const identity = {
    mspId: gp.own.mspId,
    certFile: join(gp.own.wallet, 'gateway', 'cert.pem'),
    keyFile: join(gp.own.wallet, 'gateway', 'key.pem'),
  };
  if (net.fabric.status === 'unavailable') return { ...identity, unavailableReason: net.fabric.reason };
  const peer = net.fabric.peers[gp.peerOrg ?? ''] ?? fail(`network.json has no Fabric peer for party '${gp.party}'`);
  return {
    ...identity,
    peer: { endpoint: peer.address, tlsCaCertFile: peer.tlsCaCertFile, hostOverride: peer.host },
    channel: net.fabric.channel,
    chaincode: net.fabric.chaincode.name,
  };
}

/**
 * The CAs of every org with a party in the directory (each bank's, then the agents org's), once
 * each: the gateway's trust anchors and CRLs.
 */
function partyCas(net: NetworkState, parties: readonly string[]): CaState[] {
  const orgs = parties.map((p) => (partyWallet(net, p) ?? fail(`no CA for party '${p}'`)).org);
  return [...new Set(orgs)].map((org) => net.fabricCa.orgs[org] ?? fail(`no CA for org '${org}'`));
}

/** The `evm` section: node, chain, the local currency and the deployed cash contracts. */
function evmSection(net: NetworkState, dir: string) {
  const contract = (name: string): string => net.evm.contracts[name] ?? fail(`contract ${name} is not deployed`);
  return {
    rpcUrl: net.evm.rpcUrl,
    keyFile: join(dir, 'evm.key'),
    chainId: net.evm.chainId,
    currency: LOCAL_CURRENCY,
    contracts: { token: contract('CashToken'), htlc: contract('HashedTimelock'), escrow: contract('SettlementEscrow') },
  };
}

/** Securities as EVM tokens when given, else on Fabric when it is up, else nowhere. */
function securitiesSection(net: NetworkState, tokens: Readonly<Record<string, string>> | undefined) {
  if (tokens) return { ledger: 'evm', instruments: tokens };
  return net.fabric.status === 'up' ? { ledger: 'fabric' } : undefined;
}

/**
 * Builds the config object (paths absolute) and the party's EVM private key. The gateway's config
 * schema takes no `role` yet, so only an agent party's config carries one (a bank's is `bank`),
 * and only a bank's carries the HTLC `settlement` section.
 */
export function gatewayConfigFromNetwork(
  net: NetworkState,
  party: string,
  extra: Pick<GatewayConfigFromNetworkOptions, 'securities' | 'settlement' | 'peerUrls'> = {},
): { readonly config: Record<string, unknown>; readonly evmKey: `0x${string}`; readonly dir: string } {
  const signed = JSON.parse(readFileSync(net.directory.file, 'utf8')) as SignedDirectory;
  const parties = signed.directory.parties;
  const entry = parties[party];
  if (!entry) fail(`party '${party}' is not in the directory (known: ${Object.keys(parties).join(', ')})`);
  const gp = gatewayParty(net, party);
  const cas = partyCas(net, Object.keys(parties));
  const dir = join(net.stateDir, 'gateways', party);
  const securities = securitiesSection(net, extra.securities);
  const identity = (name: string) => ({
    certFile: join(gp.own.wallet, name, 'cert.pem'),
    keyFile: join(gp.own.wallet, name, 'key.pem'),
  });
  const config = {
    partyId: party,
    ...(gp.role !== 'bank' && { role: gp.role }),
    listen: { host: '127.0.0.1', port: Number(new URL(entry.gatewayUrl).port) },
    tls: identity('gateway-tls'),
    trustAnchors: cas.map((ca) => ({ mspId: ca.mspId, certFile: ca.caCertFile })),
    crl: { files: cas.map((ca) => ca.crlFile ?? fail(`no CRL file for ${ca.mspId}: restart the network`)) },
    directory: { file: net.directory.file, authorityKeyFile: net.directory.authorityPublicKeyFile },
    sqlitePath: join(dir, 'gateway.sqlite'),
    fabric: fabricSection(net, gp),
    evm: evmSection(net, dir),
    peers: { ...identity('gateway'), ...(extra.peerUrls && { urls: extra.peerUrls }) },
    ...(gp.role === 'bank' && { settlement: { ...DEFAULT_SETTLEMENT, ...extra.settlement } }),
    ...(securities && { securities }),
    log: { level: 'info' },
  };
  return { config, evmKey: evmKeyOf(net, party, entry.evmAddress), dir };
}

/** Writes the config (and the EVM key file, 0600); returns the config file's path. */
export function writeGatewayConfig(options: Readonly<GatewayConfigFromNetworkOptions>): string {
  const networkFile = resolve(options.networkFile);
  const net = readState(networkFile) ?? fail(`${networkFile} does not exist: run make network-up`);
  const { config, evmKey, dir } = gatewayConfigFromNetwork(net, options.party, options);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeAtomic(join(dir, 'evm.key'), `${evmKey}\n`, 0o600);
  const out = resolve(options.out ?? join(dir, 'gateway.json'));
  mkdirSync(dirname(out), { recursive: true });
  writeAtomic(out, `${JSON.stringify(config, null, 2)}\n`, 0o644);
  return out;
}

const USAGE =
  'gateway-config --party <bank or agent party> [--network <network.json>] [--out <file>] [--security <ISIN>=<token address>]';

function parseArgs(argv: readonly string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i] ?? '';
    const value = argv[i + 1];
    if (!/^--(party|network|out|security)$/.test(name) || value === undefined) {
      throw new Error(`usage: ${USAGE}`);
    }
    args[name.slice(2)] = value;
  }
  if (!args['party']) throw new Error(`usage: ${USAGE} (--party is required)`);
  return args;
}

function securityArg(value: string): Record<string, string> {
  const m = /^([A-Z]{2}[A-Z0-9]{9}[0-9])=(0x[0-9a-fA-F]{40})$/.exec(value);
  if (!m) throw new Error(`--security: '${value}' is not <ISIN>=<0x token address>`);
  return { [m[1] as string]: m[2] as string };
}

if (require.main === module) {
  try {
    const args = parseArgs(process.argv.slice(2));
    const file = writeGatewayConfig({
      networkFile: args['network'] ?? networkPaths(process.env).stateFile,
      party: args['party'] as string,
      ...(args['out'] ? { out: args['out'] } : {}),
      ...(args['security'] ? { securities: securityArg(args['security']) } : {}),
    });
    process.stdout.write(`${file}\n`);
  } catch (err) {
    process.stderr.write(`gateway-config: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
