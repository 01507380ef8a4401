/**
 * The securities chaincode's lifecycle as chaincode-as-a-service: a deterministic package (only
 * `connection.json` and `metadata.json` type `ccaas`), installed on every peer, approved by every
 * bank org's admin, committed with an endorsement policy that needs every bank, and served by one
 * `fabric-chaincode-node server` process (the chaincode compiled by tsc, never tsx/esbuild) that
 * every peer dials over TLS.
 *
 * The package label carries a hash of the compiled chaincode, so changed code is a new package
 * id: {@link deployChaincode} with `sequence` + 1 upgrades a running network.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { FabricBinaries } from './fabric-bin';
import { ordererArgs, peerCli, run, type PeerTarget } from './fabric-cli';
import { portOpen, spawnDetached, waitHealthy, type StartedProcess } from './process';

/** The chaincode package (workspace `@dvp/securities-chaincode`). */
export const chaincodeDir = resolve(__dirname, '..', '..', 'chaincode', 'fabric');

/**
 * The compiled chaincode to deploy: `DVP_CHAINCODE_DIR` (a folder with package.json and dist/,
 * e.g. another build of it), else {@link chaincodeDir}. Its dependencies come from this
 * repository's node_modules either way.
 */
export function chaincodeSource(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env['DVP_CHAINCODE_DIR'] ?? chaincodeDir);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const file = join(dir, name);
      return statSync(file).isDirectory() ? filesUnder(file) : [file];
    })
    .sort();
}

/**
 * SHA-256 over the compiled chaincode (`dist/**` and package.json, by relative path), the part
 * the chaincode server runs. Throws when the chaincode is not built.
 */
export function chaincodeContentHash(dir = chaincodeSource()): string {
  const dist = join(dir, 'dist');
  let files: string[];
  try {
    files = filesUnder(dist).filter((f) => !f.endsWith('.tsbuildinfo'));
  } catch {
    throw new Error(`the securities chaincode is not built (${dist} missing): run 'make build'`);
  }
  const hash = createHash('sha256');
  for (const file of [join(dir, 'package.json'), ...files]) {
    hash.update(`${relative(dir, file)}\0`);
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** What the package points the peers at. */
export interface ChaincodeServerTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/**
 * Writes `<label>.tar.gz` into `dir` and returns its path and package id. Deterministic: sorted
 * entries, mtime 0, owner 0, `gzip -n`, so the same inputs always give the same package id.
 */
export async function packageChaincode(
  dir: string,
  label: string,
  serverAddress: string,
  tls: ChaincodeServerTls,
): Promise<{ readonly file: string; readonly packageId: string }> {
  const work = join(dir, label);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'code'), { recursive: true });
  const connection = {
    address: serverAddress,
    dial_timeout: '10s',
    tls_required: true,
    client_auth_required: false,
    root_cert: readFileSync(tls.ca, 'utf8'),
  };
  writeFileSync(join(work, 'code', 'connection.json'), `${JSON.stringify(connection, null, 2)}\n`);
  writeFileSync(join(work, 'metadata.json'), `${JSON.stringify({ type: 'ccaas', label })}\n`);
  const tgz = async (out: string, cwd: string, entries: string[]): Promise<void> => {
    const tar = ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', cwd, '-cf', '-'];
    await run('chaincode package', 'bash', [
      '-c',
      `set -o pipefail; tar ${tar.map((a) => `'${a}'`).join(' ')} ${entries.join(' ')} | gzip -n > '${out}'`,
    ]);
  };
  await tgz(join(work, 'code.tar.gz'), join(work, 'code'), ['connection.json']);
  const file = join(dir, `${label}.tar.gz`);
  await tgz(file, work, ['code.tar.gz', 'metadata.json']);
  const packageId = `${label}:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
  return { file, packageId };
}

/** Options of {@link deployChaincode}. */
export interface DeployOptions {
  readonly bins: FabricBinaries;
  readonly channel: string;
  readonly name: string;
  readonly version: string;
  readonly sequence: number;
  readonly packageFile: string;
  readonly packageId: string;
  readonly endorsementPolicy: string;
  readonly peers: readonly PeerTarget[];
  readonly orderer: { readonly address: string; readonly tlsCaFile: string };
  readonly log: (line: string) => void;
}

/** Installs on every peer, approves for every org, then commits once (all peers as endorsers). */
export async function deployChaincode(o: Readonly<DeployOptions>): Promise<void> {
  const ord = ordererArgs(o.orderer.address, o.orderer.tlsCaFile);
  const definition = [
    '--channelID',
    o.channel,
    '--name',
    o.name,
    '--version',
    o.version,
    '--sequence',
    String(o.sequence),
    '--signature-policy',
    o.endorsementPolicy,
  ];
  await Promise.all(
    o.peers.map(async (p) => {
      const installed = await peerCli(o.bins, p, ['lifecycle', 'chaincode', 'queryinstalled', '--output', 'json']);
      if (installed.stdout.includes(`"${o.packageId}"`)) return;
      await peerCli(o.bins, p, ['lifecycle', 'chaincode', 'install', o.packageFile]);
    }),
  );
  o.log(`network-up: chaincode ${o.packageId.slice(0, 40)}... installed on ${o.peers.length} peers`);
  await Promise.all(
    o.peers.map((p) =>
      peerCli(o.bins, p, [
        'lifecycle',
        'chaincode',
        'approveformyorg',
        ...ord,
        ...definition,
        '--package-id',
        o.packageId,
        '--waitForEvent',
      ]),
    ),
  );
  const endorsers = o.peers.flatMap((p) => [
    '--peerAddresses',
    p.address,
    '--tlsRootCertFiles',
    join(p.msp.node.tlsDir, 'ca.crt'),
  ]);
  const first = o.peers[0];
  if (!first) throw new Error('deployChaincode: no peers');
  await peerCli(o.bins, first, ['lifecycle', 'chaincode', 'commit', ...ord, ...definition, ...endorsers]);
  o.log(
    `network-up: chaincode ${o.name} sequence ${o.sequence} approved by every bank org (a majority of the application orgs) and committed`,
  );
}

/** The committed sequence of `name` on `channel` (0 when none), read through `peer`. */
export async function committedSequence(
  bins: FabricBinaries,
  peer: PeerTarget,
  channel: string,
  name: string,
): Promise<number> {
  try {
    const out = await peerCli(bins, peer, [
      'lifecycle',
      'chaincode',
      'querycommitted',
      '--channelID',
      channel,
      '--name',
      name,
      '--output',
      'json',
    ]);
    return Number((JSON.parse(out.stdout) as { sequence?: number }).sequence ?? 0);
  } catch (err) {
    if (String(err).includes('not found')) return 0;
    throw err;
  }
}

/** Starts `fabric-chaincode-node server` for `packageId` on `port` with TLS; resolves when it listens. */
export async function startChaincodeServer(o: {
  readonly packageId: string;
  readonly port: number;
  readonly tls: ChaincodeServerTls;
  readonly accessPolicy: unknown;
  readonly log: string;
  readonly onSpawn: (proc: StartedProcess) => void;
}): Promise<StartedProcess> {
  const cli = require.resolve('fabric-shim/cli.js', { paths: [chaincodeDir] });
  const source = chaincodeSource();
  const proc = spawnDetached({
    command: process.execPath,
    args: [
      cli,
      'server',
      `--chaincode-address=127.0.0.1:${o.port}`,
      `--chaincode-id=${o.packageId}`,
      `--chaincode-tls-cert-file=${o.tls.cert}`,
      `--chaincode-tls-key-file=${o.tls.key}`,
      `--module-path=${source}`,
    ],
    cwd: source,
    log: o.log,
    env: {
      DVP_CHAINCODE_POLICY: JSON.stringify(o.accessPolicy),
      CORE_CHAINCODE_LOGGING_LEVEL: 'info',
      NODE_PATH: resolve(chaincodeDir, '..', '..', 'node_modules'),
    },
  });
  o.onSpawn(proc);
  await waitHealthy('chaincode server', proc, () => portOpen(o.port));
  return proc;
}
