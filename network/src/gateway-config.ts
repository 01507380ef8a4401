/**
 * Writes a bank's gateway configuration from the local network's `network.json` (written by
 * `make network-up`): party, TLS server certificate (`gateway-tls` in the bank's wallet), every
 * bank's CA certificate as a trust anchor, every bank's CRL file, the signed directory and its
 * authority's public key, the SQLite path `<state>/gateways/<bank>/gateway.sqlite`, the listen port
 * of the directory's gateway URL (`gatewayPort` of network.config.json, shifted like every port),
 * the gateway's Fabric identity and, when network.json says Fabric is up, the bank's peer, channel
 * and chaincode with `securities.ledger = "fabric"` (else why it is not: `fabric.unavailableReason`),
 * the EVM node, contracts and the bank's EVM key (derived from the network mnemonic, written 0600
 * beside the config), the gateway-messaging identity (`gateway` in the wallet) and the HTLC
 * settlement terms. A tool of the local network: a bank's own deployment writes its config by hand.
 *
 * CLI: `npx tsx network/src/gateway-config.ts --party seller [--network <network.json>]
 * [--out <file>] [--security <ISIN>=<token>]`; prints the path of the config it wrote.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { SignedDirectory } from '@dvp/certs';
import { bytesToHex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { networkPaths, readState, type NetworkState } from './state';

/** Options of {@link writeGatewayConfig}. */
export interface GatewayConfigFromNetworkOptions {
  /** Path of network.json. */
  readonly networkFile: string;
  /** Bank (org key = party id in the directory). */
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

/** The bank's EVM key: the network mnemonic's account whose address the directory lists for it. */
function evmKeyOf(net: NetworkState, party: string, evmAddress: string): `0x${string}` {
  const index = net.evm.accounts.findIndex((a) => a.toLowerCase() === evmAddress.toLowerCase());
  if (index < 0) fail(`the EVM address of '${party}' is not one of the network's accounts`);
  const hd = mnemonicToAccount(net.evm.mnemonic, { addressIndex: index }).getHdKey();
  if (!hd.privateKey) fail(`cannot derive the EVM key of account ${index}`);
  return bytesToHex(hd.privateKey);
}

/** The `fabric` section: the bank's gateway identity, and its peer when Fabric is up (else why not). */
function fabricSection(net: NetworkState, party: string, own: NetworkState['fabricCa']['orgs'][string]) {
  const identity = {
    mspId: own.mspId,
    certFile: join(own.wallet, 'gateway', 'cert.pem'),
    keyFile: join(own.wallet, 'gateway', 'key.pem'),
  };
  if (net.fabric.status === 'unavailable') return { ...identity, unavailableReason: net.fabric.reason };
  const peer = net.fabric.peers[party] ?? fail(`network.json has no Fabric peer for party '${party}'`);
  return {
    ...identity,
    peer: { endpoint: peer.address, tlsCaCertFile: peer.tlsCaCertFile, hostOverride: peer.host },
    channel: net.fabric.channel,
    chaincode: net.fabric.chaincode.name,
  };
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

/** Builds the config object (paths absolute) and the bank's EVM private key. */
export function gatewayConfigFromNetwork(
  net: NetworkState,
  party: string,
  extra: Pick<GatewayConfigFromNetworkOptions, 'securities' | 'settlement' | 'peerUrls'> = {},
): { readonly config: Record<string, unknown>; readonly evmKey: `0x${string}`; readonly dir: string } {
  const signed = JSON.parse(readFileSync(net.directory.file, 'utf8')) as SignedDirectory;
  const parties = signed.directory.parties;
  const entry = parties[party];
  if (!entry) fail(`party '${party}' is not in the directory (known: ${Object.keys(parties).join(', ')})`);
  const banks = Object.keys(parties).map((p) => net.fabricCa.orgs[p] ?? fail(`no CA for party '${p}'`));
  const own = net.fabricCa.orgs[party] ?? fail(`no CA for party '${party}'`);
  const dir = join(net.stateDir, 'gateways', party);
  const securities = securitiesSection(net, extra.securities);
  const config = {
    partyId: party,
    listen: { host: '127.0.0.1', port: Number(new URL(entry.gatewayUrl).port) },
    tls: { certFile: join(own.wallet, 'gateway-tls', 'cert.pem'), keyFile: join(own.wallet, 'gateway-tls', 'key.pem') },
    trustAnchors: banks.map((b) => ({ mspId: b.mspId, certFile: b.caCertFile })),
    crl: { files: banks.map((b) => b.crlFile ?? fail(`no CRL file for ${b.mspId}: restart the network`)) },
    directory: { file: net.directory.file, authorityKeyFile: net.directory.authorityPublicKeyFile },
    sqlitePath: join(dir, 'gateway.sqlite'),
    fabric: fabricSection(net, party, own),
    evm: evmSection(net, dir),
    peers: {
      certFile: join(own.wallet, 'gateway', 'cert.pem'),
      keyFile: join(own.wallet, 'gateway', 'key.pem'),
      ...(extra.peerUrls && { urls: extra.peerUrls }),
    },
    settlement: { ...DEFAULT_SETTLEMENT, ...extra.settlement },
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
  'gateway-config --party <bank> [--network <network.json>] [--out <file>] [--security <ISIN>=<token address>]';

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
