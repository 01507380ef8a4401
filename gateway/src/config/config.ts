/**
 * The gateway's configuration: a JSON file (path in `DVP_GATEWAY_CONFIG`) plus environment
 * overrides, validated once at start-up. Messages name the field (`listen.port`) or the variable.
 * Relative paths are resolved against the config file's folder. Nothing here reads `process.env`
 * by itself: callers pass the environment in.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { SCHEMA } from './schema';
import { LISTEN_ENV, listenOf, type ListenConfig } from './listen';
import { DvpError } from '../core/errors';
import type { LogLevel } from '../core/log';

/** A CA whose certificates this gateway accepts, and the MSP (organisation) it issues for. */
export interface TrustAnchorConfig {
  readonly mspId: string;
  readonly certFile: string;
}

/** Fabric identity of the gateway; passed through to the engine. */
/** The bank's own Fabric peer, reached over TLS through its gateway service. */
export interface FabricPeerConfig {
  /** gRPC endpoint, `host:port`. */
  readonly endpoint: string;
  /** PEM root of the peer's TLS certificate. */
  readonly tlsCaCertFile: string;
  /** TLS server name to expect when it differs from the endpoint's host (e.g. `peer0.<domain>`). */
  readonly hostOverride?: string;
}

/** The gateway's Fabric identity, and where the securities chaincode runs. */
export interface FabricConfig {
  readonly mspId: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Why the network has no Fabric peer (written by the local network's config writer); explains unavailable securities. */
  readonly unavailableReason?: string;
  /** Required when `securities.ledger` is `fabric`. */
  readonly peer?: FabricPeerConfig;
  readonly channel?: string;
  readonly chaincode?: string;
}

/** EVM account of the gateway and the cash contracts it uses. */
export interface EvmConfig {
  readonly rpcUrl: string;
  /** File holding the gateway's EVM private key (`0x` + 64 hex digits); read, never logged. */
  readonly keyFile: string;
  /** Chain id; the gateway process refuses to start if the node reports another. */
  readonly chainId?: number;
  /** Deployed cash contracts (`@dvp/cash-contracts`); required by the gateway process. */
  readonly contracts?: { readonly token: string; readonly htlc: string; readonly escrow: string };
  /** ISO 4217 code the cash token stands for; default the token's symbol. */
  readonly currency?: string;
}

/** Gateway-to-gateway messaging: this gateway's client identity (also its message-signing key). */
export interface PeersConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** Gateway URL per party, overriding the directory's; default none. */
  readonly urls: Readonly<Record<string, string>>;
  /** Per delivery attempt; default 10. */
  readonly requestTimeoutSeconds: number;
  /** How often undelivered messages are retried; default 2. */
  readonly retryIntervalSeconds: number;
}

/** HTLC settlement (DESIGN.md 3.1); both gateways of a trade must agree on the leader. */
export interface SettlementConfig {
  readonly leader: 'buyer' | 'seller';
  readonly leaderSeconds: number;
  readonly followerSeconds: number;
  readonly deltaSeconds: number;
  /** How often a waiting trade re-reads its ledgers; default 1000. */
  readonly pollIntervalMs: number;
}

/**
 * Where securities are held. `fabric`: in the securities chaincode, through the bank's peer
 * (`fabric.peer`, `fabric.channel`, `fabric.chaincode`). `evm`: as ERC-20 tokens (one per ISIN)
 * on the EVM network, locked in the same HashedTimelock as cash: a stand-in for machines where no
 * Fabric peer runs, labelled as such wherever it is used.
 */
export type SecuritiesConfig =
  | { readonly ledger: 'fabric' }
  | {
      readonly ledger: 'evm';
      /** ISIN → token address. */
      readonly instruments: Readonly<Record<string, string>>;
    };

/**
 * What the gateway runs: a bank's trades (default), or one of the orchestrated escrow's parties
 * of their own: the escrow manager, a notary, an observer (settlement/escrow-orchestrated/README.md).
 */
export type GatewayRole = 'bank' | 'escrow-manager' | 'notary' | 'observer';

/** The orchestrated escrow's timing, for banks and the manager. */
export interface EscrowConfig {
  /** Δ between the decision deadline and the escrows' expiry (the manager sets it, banks require it); default 600. */
  readonly deltaSeconds: number;
  /** After a commit, how long a bank leaves the releases to the manager; default 30. */
  readonly graceSeconds: number;
  /** How often a waiting trade re-reads its ledgers; default 1000. */
  readonly pollIntervalMs: number;
}

/** How a notary decides (role `notary`). */
export interface NotaryConfig {
  /** `rule` (default): approve what the rule allows; `operator`: its operator answers through the API. */
  readonly decide: 'rule' | 'operator';
  readonly denyParties: readonly string[];
  /** The largest cash amount approved (smallest unit, decimal); default no limit. */
  readonly maxAmount?: bigint;
}

export interface GatewayConfig {
  /** The party (directory key) this gateway acts for. */
  readonly partyId: string;
  readonly role: GatewayRole;
  readonly escrow: EscrowConfig;
  readonly notary?: NotaryConfig;
  readonly listen: ListenConfig;
  /** Server certificate and key (PEM files). */
  readonly tls: { readonly certFile: string; readonly keyFile: string };
  readonly trustAnchors: readonly TrustAnchorConfig[];
  readonly crl: {
    /** PEM CRL files, each signed by one of the trust anchors. */
    readonly files: readonly string[];
    /** How often the files are re-read; default 5. */
    readonly reloadIntervalSeconds: number;
    /** Refuse certificates of an anchor without a current CRL; default true (fail closed). */
    readonly requireForEveryAnchor: boolean;
  };
  readonly directory: {
    /** Signed directory JSON (`@dvp/certs` SignedDirectory). */
    readonly file: string;
    /** PEM public key or certificate of the directory authority. */
    readonly authorityKeyFile: string;
    /** How often the directory file is re-read; default 5. */
    readonly reloadIntervalSeconds: number;
  };
  /** SQLite database of the engine. */
  readonly sqlitePath: string;
  readonly fabric?: FabricConfig;
  readonly evm?: EvmConfig;
  readonly peers?: PeersConfig;
  readonly settlement?: SettlementConfig;
  readonly securities?: SecuritiesConfig;
  readonly log: { readonly level: LogLevel };
}

/** Thrown by {@link loadConfig}; `problems` lists every field that is wrong. */
export class ConfigError extends DvpError<'CONFIG_INVALID'> {
  constructor(readonly problems: readonly string[]) {
    super('CONFIG_INVALID', `invalid gateway configuration:\n  - ${problems.join('\n  - ')}`, { problems });
  }
}

/** Environment variables that override one field each (dotted path, and how to parse the value). */
export const ENV_OVERRIDES: Readonly<Record<string, { readonly field: string; readonly kind: 'string' | 'integer' }>> =
  {
    DVP_GATEWAY_PARTY_ID: { field: 'partyId', kind: 'string' },
    ...LISTEN_ENV,
    DVP_GATEWAY_TLS_CERT_FILE: { field: 'tls.certFile', kind: 'string' },
    DVP_GATEWAY_TLS_KEY_FILE: { field: 'tls.keyFile', kind: 'string' },
    DVP_GATEWAY_DIRECTORY_FILE: { field: 'directory.file', kind: 'string' },
    DVP_GATEWAY_CRL_RELOAD_SECONDS: { field: 'crl.reloadIntervalSeconds', kind: 'integer' },
    DVP_GATEWAY_SQLITE_PATH: { field: 'sqlitePath', kind: 'string' },
    DVP_GATEWAY_LOG_LEVEL: { field: 'log.level', kind: 'string' },
    DVP_GATEWAY_EVM_RPC_URL: { field: 'evm.rpcUrl', kind: 'string' },
    DVP_GATEWAY_EVM_KEY_FILE: { field: 'evm.keyFile', kind: 'string' },
    DVP_GATEWAY_FABRIC_UNAVAILABLE_REASON: { field: 'fabric.unavailableReason', kind: 'string' },
  };

type Json = Record<string, unknown>;

function setPath(target: Json, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = typeof next === 'object' && next !== null && !Array.isArray(next) ? (next as Json) : (node[part] = {});
  }
  node[parts[parts.length - 1] as string] = value;
}

function applyEnv(raw: Json, env: Readonly<Record<string, string | undefined>>, problems: string[]): void {
  for (const [name, { field, kind }] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (kind === 'integer' && !/^[0-9]{1,9}$/.test(value)) {
      problems.push(`${name} (${field}): '${value}' is not a non-negative integer`);
      continue;
    }
    setPath(raw, field, kind === 'integer' ? Number(value) : value);
  }
}

function readJsonFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`DVP_GATEWAY_CONFIG: cannot read '${file}': ${(err as Error).message}`]);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Json;
  } catch (err) {
    throw new ConfigError([`DVP_GATEWAY_CONFIG: '${file}' is not a JSON object: ${(err as Error).message}`]);
  }
}

function schemaProblems(raw: Json): string[] {
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile(SCHEMA);
  if (validate(raw)) return [];
  return (validate.errors ?? []).map((e) => {
    const base = e.instancePath.slice(1).replace(/\//g, '.');
    const missing = e.keyword === 'required' ? String((e.params as { missingProperty?: string }).missingProperty) : '';
    const extra =
      e.keyword === 'additionalProperties'
        ? String((e.params as { additionalProperty?: string }).additionalProperty)
        : '';
    const field = [base, missing || extra].filter(Boolean).join('.') || '(root)';
    if (missing) return `${field}: is required`;
    if (extra) return `${field}: is not a known field`;
    return `${field}: ${e.message ?? 'is invalid'}`;
  });
}

/** Every `...File` field, with its dotted name. */
function fileFields(c: GatewayConfig): [string, string][] {
  return [
    ['tls.certFile', c.tls.certFile],
    ['tls.keyFile', c.tls.keyFile],
    ...c.trustAnchors.map((a, i): [string, string] => [`trustAnchors.${i}.certFile`, a.certFile]),
    ...c.crl.files.map((f, i): [string, string] => [`crl.files.${i}`, f]),
    ['directory.file', c.directory.file],
    ['directory.authorityKeyFile', c.directory.authorityKeyFile],
    ...(c.fabric
      ? ([
          ['fabric.certFile', c.fabric.certFile],
          ['fabric.keyFile', c.fabric.keyFile],
          ...(c.fabric.peer ? [['fabric.peer.tlsCaCertFile', c.fabric.peer.tlsCaCertFile]] : []),
        ] as [string, string][])
      : []),
    ...(c.evm ? ([['evm.keyFile', c.evm.keyFile]] as [string, string][]) : []),
    ...(c.peers
      ? ([
          ['peers.certFile', c.peers.certFile],
          ['peers.keyFile', c.peers.keyFile],
        ] as [string, string][])
      : []),
  ];
}

function peersOf(
  p: Partial<PeersConfig> & { certFile: string; keyFile: string },
  abs: (f: string) => string,
): PeersConfig {
  return {
    certFile: abs(p.certFile),
    keyFile: abs(p.keyFile),
    urls: p.urls ?? {},
    requestTimeoutSeconds: p.requestTimeoutSeconds ?? 10,
    retryIntervalSeconds: p.retryIntervalSeconds ?? 2,
  };
}

/** What the schema cannot say: securities on Fabric need the peer, channel and chaincode. */
function securitiesProblems(raw: Json): string[] {
  if ((raw['securities'] as { ledger?: string } | undefined)?.ledger !== 'fabric') return [];
  const fabric = raw['fabric'] as Partial<FabricConfig> | undefined;
  return (['peer', 'channel', 'chaincode'] as const)
    .filter((k) => fabric?.[k] === undefined)
    .map((k) => `fabric.${k}: is required when securities.ledger is "fabric"`);
}

/** What the schema cannot say: T_L ≥ T_F + Δ. */
function settlementProblems(raw: Json): string[] {
  const s = raw['settlement'] as Partial<SettlementConfig> | undefined;
  if (!s || s.leaderSeconds === undefined || s.followerSeconds === undefined || s.deltaSeconds === undefined) return [];
  if (s.leaderSeconds >= s.followerSeconds + s.deltaSeconds) return [];
  return [
    `settlement.leaderSeconds: T_L (${s.leaderSeconds}) must be at least followerSeconds (${s.followerSeconds}) + deltaSeconds (${s.deltaSeconds})`,
  ];
}

/** The `fabric`, `evm` and `securities` sections, file paths made absolute. */
function ledgerSections(
  r: GatewayConfig,
  abs: (p: string) => string,
): Pick<GatewayConfig, 'fabric' | 'evm' | 'securities'> {
  const fabric = r.fabric && {
    ...r.fabric,
    certFile: abs(r.fabric.certFile),
    keyFile: abs(r.fabric.keyFile),
    ...(r.fabric.peer ? { peer: { ...r.fabric.peer, tlsCaCertFile: abs(r.fabric.peer.tlsCaCertFile) } } : {}),
  };
  return {
    ...(fabric && { fabric }),
    ...(r.evm && { evm: { ...r.evm, keyFile: abs(r.evm.keyFile) } }),
    ...(r.securities && { securities: r.securities }),
  };
}

function escrowOf(e: Partial<EscrowConfig> | undefined): EscrowConfig {
  return {
    deltaSeconds: e?.deltaSeconds ?? 600,
    graceSeconds: e?.graceSeconds ?? 30,
    pollIntervalMs: e?.pollIntervalMs ?? 1000,
  };
}

function notaryOf(n: Partial<Record<string, unknown>> | undefined): NotaryConfig {
  const max = n?.['maxAmount'];
  return {
    decide: n?.['decide'] === 'operator' ? 'operator' : 'rule',
    denyParties: (n?.['denyParties'] as string[] | undefined) ?? [],
    ...(typeof max === 'string' && { maxAmount: BigInt(max) }),
  };
}

/** The `crl` section, file paths made absolute and defaults applied. */
function crlOf(r: GatewayConfig, abs: (p: string) => string): GatewayConfig['crl'] {
  const crl = r.crl as Partial<GatewayConfig['crl']> & { files: readonly string[] };
  return {
    files: crl.files.map(abs),
    reloadIntervalSeconds: crl.reloadIntervalSeconds ?? 5,
    requireForEveryAnchor: crl.requireForEveryAnchor ?? true,
  };
}

/** The `directory` section, file paths made absolute and defaults applied. */
function directoryOf(r: GatewayConfig, abs: (p: string) => string): GatewayConfig['directory'] {
  const dir = r.directory as Partial<GatewayConfig['directory']> & { file: string; authorityKeyFile: string };
  return {
    file: abs(dir.file),
    authorityKeyFile: abs(dir.authorityKeyFile),
    reloadIntervalSeconds: dir.reloadIntervalSeconds ?? 5,
  };
}

/** The optional `peers` and `settlement` sections, each only when configured. */
function messagingSections(r: GatewayConfig, abs: (p: string) => string): Pick<GatewayConfig, 'peers' | 'settlement'> {
  return {
    ...(r.peers ? { peers: peersOf(r.peers, abs) } : {}),
    ...(r.settlement ? { settlement: { ...r.settlement, pollIntervalMs: r.settlement.pollIntervalMs ?? 1000 } } : {}),
  };
}

function resolveFiles(raw: Json, baseDir: string): GatewayConfig {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const r = raw as unknown as GatewayConfig;
  return {
    partyId: r.partyId,
    role: r.role ?? 'bank',
    escrow: escrowOf(raw['escrow'] as Partial<EscrowConfig> | undefined),
    ...(r.role === 'notary' ? { notary: notaryOf(raw['notary'] as Partial<Record<string, unknown>> | undefined) } : {}),
    listen: listenOf(r.listen),
    tls: { certFile: abs(r.tls.certFile), keyFile: abs(r.tls.keyFile) },
    trustAnchors: r.trustAnchors.map((a) => ({ mspId: a.mspId, certFile: abs(a.certFile) })),
    crl: crlOf(r, abs),
    directory: directoryOf(r, abs),
    sqlitePath: abs(r.sqlitePath),
    ...ledgerSections(r, abs),
    ...messagingSections(r, abs),
    log: { level: r.log?.level ?? 'info' },
  };
}

/**
 * Reads `env.DVP_GATEWAY_CONFIG`, applies the {@link ENV_OVERRIDES}, validates every field and
 * checks that every configured file exists. Throws {@link ConfigError} listing all problems.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): GatewayConfig {
  const file = env['DVP_GATEWAY_CONFIG'];
  if (!file) throw new ConfigError(['DVP_GATEWAY_CONFIG: is required (path of the gateway JSON config file)']);
  const path = resolve(file);
  const raw = readJsonFile(path);
  const problems: string[] = [];
  applyEnv(raw, env, problems);
  problems.push(...schemaProblems(raw));
  if (!problems.length) problems.push(...settlementProblems(raw), ...securitiesProblems(raw));
  if (problems.length) throw new ConfigError(problems);
  const config = resolveFiles(raw, dirname(path));
  const missing = fileFields(config)
    .filter(([, f]) => !existsSync(f) || !statSync(f).isFile())
    .map(([field, f]) => `${field}: file '${f}' does not exist`);
  if (missing.length) throw new ConfigError(missing);
  return config;
}
