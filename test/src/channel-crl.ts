/**
 * An operator's procedure for making the peers refuse revoked certificates (certs/README.md,
 * "Revoking an operator"): the org's CA's CRL goes into the org's MSP definition in the channel
 * config, through a config update signed by the org's admin (`Admin@<domain>`; the MSP value's
 * mod policy is the org's `Admins`), with the real `peer` CLI fetching the config and submitting.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { msp } from '@hyperledger/fabric-protos';
import { mspIdentity } from '../../network/src/fabric-client';
import type { NetworkState } from '../../network/src/state';
import {
  computeConfigUpdate,
  configFromBlock,
  configUpdateEnvelope,
  orgMsp,
  withOrgMsp,
  withRevocationList,
} from './channel-config';
import { fetchConfigBlock, updateChannel } from './peer-cli';

function orgMspOf(net: NetworkState, org: string): NetworkState['fabricMsp']['orgs'][string] {
  const m = net.fabricMsp.orgs[org];
  if (m === undefined) throw new Error(`network.json has no Fabric MSP for org ${org}`);
  return m;
}

/** `org`'s MSP definition in the channel's latest config, and that config's sequence number. */
export async function channelOrgMsp(
  net: NetworkState,
  org: string,
  workDir: string,
): Promise<{ readonly sequence: number; readonly msp: msp.FabricMSPConfig }> {
  const file = join(workDir, `config-${org}-${Date.now()}.block`);
  await fetchConfigBlock(net, org, file);
  const { config } = configFromBlock(readFileSync(file));
  return { sequence: config.getSequence(), msp: orgMsp(config, orgMspOf(net, org).mspId) };
}

/**
 * Puts `crlPem` (the org's CA's current CRL) into `org`'s channel MSP in place of any earlier
 * CRL of the same CA: fetches the latest config block as the org admin, computes the update,
 * signs it as the org admin and submits it with `peer channel update`. Resolves once the orderer
 * has accepted it, with the sequence of the config it changed; `changed: false` (nothing
 * submitted) when that CRL is already there. Files go to `workDir`.
 */
export async function publishCrlOnChannel(
  net: NetworkState,
  org: string,
  crlPem: string,
  workDir: string,
): Promise<{ readonly changed: boolean; readonly fromSequence: number }> {
  const orgMsp = orgMspOf(net, org);
  const stamp = Date.now();
  const blockFile = join(workDir, `config-${org}-${stamp}.block`);
  await fetchConfigBlock(net, org, blockFile);
  const { channelId, config } = configFromBlock(readFileSync(blockFile));
  const updated = withOrgMsp(config, orgMsp.mspId, (current) => withRevocationList(current, crlPem));
  const update = computeConfigUpdate(channelId, config, updated);
  if (update === undefined) return { changed: false, fromSequence: config.getSequence() };
  const admin = mspIdentity(orgMsp.mspId, orgMsp.admin.mspDir);
  const updateFile = join(workDir, `crl-update-${org}-${stamp}.pb`);
  writeFileSync(updateFile, configUpdateEnvelope(update, [admin], admin).serializeBinary());
  await updateChannel(net, org, updateFile);
  return { changed: true, fromSequence: config.getSequence() };
}
