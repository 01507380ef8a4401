/**
 * The real `peer` CLI against the local network, as an org admin (`Admin@<domain>`, the org's MSP
 * admin) or as any other identity of a bank given an MSP folder of its own: chaincode queries and
 * invokes, and the channel config commands an operator runs (fetch the config block, submit a
 * config update). Every command runs the binary network-up ran (network.json
 * `fabric.binaries.dir`); a failure carries the command's output.
 */
import { copyFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminEnv, ordererArgs, run, type CliResult, type PeerTarget } from '../../network/src/fabric-cli';
import type { FabricClientIdentity } from '../../network/src/fabric-client';
import type { FabricUpState, NetworkState } from '../../network/src/state';

/** Only the chaincode command's own lines ("Chaincode invoke successful. ...") besides warnings. */
export const CHAINCODE_CMD_LOGGING = 'warning:chaincodeCmd=info';

function up(net: NetworkState): FabricUpState {
  if (net.fabric.status !== 'up') throw new Error(`Fabric is not running: ${net.fabric.reason}`);
  return net.fabric;
}

function target(net: NetworkState, org: string): PeerTarget {
  const peer = up(net).peers[org];
  const msp = net.fabricMsp.orgs[org];
  if (peer === undefined || msp === undefined) throw new Error(`network.json has no Fabric peer for org ${org}`);
  return { org, msp, address: peer.address, cfgDir: peer.cfgDir };
}

/**
 * The `peer` CLI's environment for `org`'s peer as its org admin (network/src/fabric-cli.ts
 * `adminEnv`), or, with `mspDir`, as the identity of that MSP folder (see {@link writeMspFolder}).
 */
export function peerEnv(net: NetworkState, org: string, mspDir?: string): Record<string, string> {
  const env = adminEnv(target(net, org));
  return mspDir === undefined ? env : { ...env, CORE_PEER_MSPCONFIGPATH: mspDir };
}

/**
 * Writes a local MSP folder for `id` under `dir` and returns it: `signcerts/cert.pem`,
 * `keystore/key_sk` (0600), and the org MSP's `cacerts/`, `tlscacerts/` and NodeOUs
 * `config.yaml`, copied from `orgMspDir` (network.json `fabricMsp.orgs.<org>.mspDir`).
 */
export function writeMspFolder(dir: string, id: FabricClientIdentity, orgMspDir: string): string {
  mkdirSync(join(dir, 'signcerts'), { recursive: true });
  mkdirSync(join(dir, 'keystore'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'signcerts', 'cert.pem'), id.certPem);
  writeFileSync(join(dir, 'keystore', 'key_sk'), id.keyPem, { mode: 0o600 });
  cpSync(join(orgMspDir, 'cacerts'), join(dir, 'cacerts'), { recursive: true });
  cpSync(join(orgMspDir, 'tlscacerts'), join(dir, 'tlscacerts'), { recursive: true });
  copyFileSync(join(orgMspDir, 'config.yaml'), join(dir, 'config.yaml'));
  return dir;
}

/** `peer <args>` with `env` (from {@link peerEnv}). */
export function peer(
  net: NetworkState,
  env: Readonly<Record<string, string>>,
  args: readonly string[],
): Promise<CliResult> {
  const bin = join(up(net).binaries.dir, 'peer');
  return run(`peer CLI (${env['CORE_PEER_LOCALMSPID'] ?? '?'})`, bin, args, env);
}

/** `-C <channel> -n <chaincode> -c {"Args":[...]}`: the chaincode call of a query or invoke. */
export function chaincodeCall(net: NetworkState, args: readonly string[]): string[] {
  const fabric = up(net);
  return ['-C', fabric.channel, '-n', fabric.chaincode.name, '-c', JSON.stringify({ Args: args })];
}

/**
 * The flags of an invoke that gathers the endorsement policy's endorsements (every bank's peer,
 * each with its TLS root), orders through the orderer and waits until the transaction commits.
 */
export function invokeFlags(net: NetworkState): string[] {
  const fabric = up(net);
  const peers = Object.values(fabric.peers).flatMap((p) => [
    '--peerAddresses',
    p.address,
    '--tlsRootCertFiles',
    p.tlsCaCertFile,
  ]);
  return [...ordererArgs(fabric.orderer.address, fabric.orderer.tlsCaCertFile), ...peers, '--waitForEvent'];
}

/** `peer channel fetch config <file>` as `org`'s admin: the channel's latest config block. */
export async function fetchConfigBlock(net: NetworkState, org: string, file: string): Promise<void> {
  const fabric = up(net);
  const orderer = ordererArgs(fabric.orderer.address, fabric.orderer.tlsCaCertFile);
  await peer(net, peerEnv(net, org), ['channel', 'fetch', 'config', file, '-c', fabric.channel, ...orderer]);
}

/**
 * `peer channel update -f <file>` as `org`'s admin, who signs the update once more and submits
 * it. Resolves when the orderer has accepted it (not when the peers have applied it).
 */
export async function updateChannel(net: NetworkState, org: string, file: string): Promise<void> {
  const fabric = up(net);
  const orderer = ordererArgs(fabric.orderer.address, fabric.orderer.tlsCaCertFile);
  await peer(net, peerEnv(net, org), ['channel', 'update', '-f', file, '-c', fabric.channel, ...orderer]);
}
