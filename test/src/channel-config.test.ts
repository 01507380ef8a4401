/**
 * channel-config.ts without a network: the read/write sets it computes are configtxlator's
 * (`internal/configtxlator/update/update.go`) for a changed value, an added value and a removed
 * group; CRLs replace only their own issuer's; the signatures verify as Fabric verifies them
 * (ECDSA P-256 over SHA-256 of signature header ‖ bytes, low-S DER, creator = MSP id + cert PEM).
 */
import 'reflect-metadata';
import { createPublicKey, verify, webcrypto } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { common, msp } from '@hyperledger/fabric-protos';
import * as x509 from '@peculiar/x509';
import {
  computeConfigUpdate,
  configUpdateEnvelope,
  orgMsp,
  withOrgMsp,
  withRevocationList,
  type ConfigSigner,
} from './channel-config';
import { selfSignedIdentity } from './fabric-refusals';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

function value(version: number, bytes: string | Uint8Array): common.ConfigValue {
  const v = new common.ConfigValue();
  v.setVersion(version);
  v.setModPolicy('Admins');
  v.setValue(Buffer.from(bytes));
  return v;
}

function group(
  version: number,
  members: { values?: Record<string, common.ConfigValue>; groups?: Record<string, common.ConfigGroup> },
) {
  const g = new common.ConfigGroup();
  g.setVersion(version);
  g.setModPolicy('Admins');
  for (const [k, v] of Object.entries(members.values ?? {})) g.getValuesMap().set(k, v);
  for (const [k, c] of Object.entries(members.groups ?? {})) g.getGroupsMap().set(k, c);
  return g;
}

/** Channel v3 › Application v2 › {Org1 v1 (MSP v4, AnchorPeers v0), Org2 v0}, Orderer v5. */
function channelConfig(org1Msp: string | Uint8Array): common.Config {
  const org1 = group(1, { values: { MSP: value(4, org1Msp), AnchorPeers: value(0, 'anchors') } });
  const application = group(2, { groups: { Org1: org1, Org2: group(0, {}) } });
  const config = new common.Config();
  config.setSequence(7);
  config.setChannelGroup(group(3, { groups: { Application: application, Orderer: group(5, {}) } }));
  return config;
}

const copy = (c: common.Config) => common.Config.deserializeBinary(c.serializeBinary());
const org1Of = (c: common.Config) => c.getChannelGroup()?.getGroupsMap().get('Application')?.getGroupsMap().get('Org1');
const sets = (update: common.ConfigUpdate | undefined) => {
  const o = update?.toObject();
  return { channelId: o?.channelId, read: o?.readSet, write: o?.writeSet };
};
/** A group as `toObject()` shows it. */
const shown = (version: number, parts: { values?: unknown[]; groups?: unknown[]; modPolicy?: string } = {}) => ({
  version,
  modPolicy: parts.modPolicy ?? '',
  policiesMap: [],
  valuesMap: parts.values ?? [],
  groupsMap: parts.groups ?? [],
});
const shownValue = (version: number, bytes?: string) => ({
  version,
  modPolicy: bytes === undefined ? '' : 'Admins',
  value: bytes === undefined ? '' : Buffer.from(bytes).toString('base64'),
});

describe('computeConfigUpdate', () => {
  it('writes a changed value at its version + 1 and pins every group on its path at its version', () => {
    const original = channelConfig('msp-1');
    const updated = copy(original);
    org1Of(updated)?.getValuesMap().get('MSP')?.setValue(Buffer.from('msp-2'));
    const path = (org1: unknown) => shown(3, { groups: [['Application', shown(2, { groups: [['Org1', org1]] })]] });
    expect(sets(computeConfigUpdate('ch', original, updated))).toEqual({
      channelId: 'ch',
      read: path(shown(1)),
      write: path(shown(1, { values: [['MSP', shownValue(5, 'msp-2')]] })),
    });
  });

  it('raises a group’s version and lists its kept members when a member is added', () => {
    const original = channelConfig('msp-1');
    const updated = copy(original);
    org1Of(updated)?.getValuesMap().set('Extra', value(9, 'new'));
    const members = [
      ['AnchorPeers', shownValue(0)],
      ['MSP', shownValue(4)],
    ];
    const org1 = sets(computeConfigUpdate('ch', original, updated));
    const inner = (set: typeof org1.read) => set?.groupsMap[0]?.[1].groupsMap[0]?.[1];
    expect(inner(org1.read)).toEqual(shown(1, { values: members }));
    expect(inner(org1.write)).toEqual(
      shown(2, { values: [...members, ['Extra', shownValue(0, 'new')]].sort(), modPolicy: 'Admins' }),
    );
  });

  it('raises the parent’s version when a group is removed', () => {
    const original = channelConfig('msp-1');
    const updated = copy(original);
    updated.getChannelGroup()?.getGroupsMap().get('Application')?.getGroupsMap().del('Org2');
    const { read, write } = sets(computeConfigUpdate('ch', original, updated));
    expect(read?.groupsMap).toEqual([['Application', shown(2, { groups: [['Org1', shown(1)]] })]]);
    expect(write?.groupsMap).toEqual([
      ['Application', shown(3, { groups: [['Org1', shown(1)]], modPolicy: 'Admins' })],
    ]);
  });

  it('is undefined when nothing differs', () => {
    const original = channelConfig('msp-1');
    expect(computeConfigUpdate('ch', original, copy(original))).toBeUndefined();
  });
});

async function crlOf(issuer: string, keys: webcrypto.CryptoKeyPair, serials: string[]): Promise<string> {
  const alg = { name: 'ECDSA', hash: 'SHA-256' };
  const entries = serials.map((serialNumber) => ({ serialNumber }));
  const crl = await x509.X509CrlGenerator.create({
    issuer,
    signingAlgorithm: alg,
    signingKey: keys.privateKey,
    entries,
  });
  return crl.toString('pem');
}

describe('withRevocationList', () => {
  it('replaces the CRL of the same issuer and keeps the others', async () => {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const [old, other, fresh] = await Promise.all([
      crlOf('CN=ca-seller', keys, ['01']),
      crlOf('CN=ca-other', keys, ['02']),
      crlOf('CN=ca-seller', keys, ['01', '03']),
    ]);
    const fabricMsp = new msp.FabricMSPConfig();
    fabricMsp.setRevocationListList([Buffer.from(old), Buffer.from(other)]);
    const replaced = withRevocationList(fabricMsp, fresh).getRevocationListList_asU8();
    expect(replaced.map((b) => Buffer.from(b).toString())).toEqual([other, fresh]);
    expect(fabricMsp.getRevocationListList_asU8()).toHaveLength(2);
  });
});

describe('withOrgMsp', () => {
  it('edits the org’s MSP definition in a copy, leaving the original config as it was', () => {
    const fabricMsp = new msp.FabricMSPConfig();
    fabricMsp.setName('Org1');
    const mspConfig = new msp.MSPConfig();
    mspConfig.setConfig(fabricMsp.serializeBinary());
    const original = channelConfig(mspConfig.serializeBinary());
    const updated = withOrgMsp(original, 'Org1', (m) => {
      m.setName('renamed');
      return m;
    });
    expect([orgMsp(original, 'Org1').getName(), orgMsp(updated, 'Org1').getName()]).toEqual(['Org1', 'renamed']);
  });
});

describe('configUpdateEnvelope', () => {
  function verifies(signer: ConfigSigner, headerBytes: Uint8Array, data: Uint8Array, signature: Uint8Array) {
    const header = common.SignatureHeader.deserializeBinary(headerBytes);
    const creator = msp.SerializedIdentity.deserializeBinary(header.getCreator_asU8());
    expect([creator.getMspid(), Buffer.from(creator.getIdBytes_asU8()).toString()]).toEqual([
      signer.mspId,
      signer.certPem,
    ]);
    expect(header.getNonce_asU8()).toHaveLength(24);
    const key = createPublicKey(new x509.X509Certificate(signer.certPem).publicKey.toString('pem'));
    return verify('sha256', Buffer.concat([headerBytes, data]), key, Buffer.from(signature));
  }

  it('carries each approver’s signature over header ‖ update and the submitter’s over the payload', async () => {
    const [admin1, admin2] = await Promise.all([
      selfSignedIdentity('Org1', 'admin1'),
      selfSignedIdentity('Org2', 'admin2'),
    ]);
    const original = channelConfig('msp-1');
    const updated = copy(original);
    org1Of(updated)?.getValuesMap().get('MSP')?.setValue(Buffer.from('msp-2'));
    const update = computeConfigUpdate('ch', original, updated);
    if (update === undefined) throw new Error('no update');
    const envelope = configUpdateEnvelope(update, [admin1, admin2], admin1);

    const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    const channelHeader = common.ChannelHeader.deserializeBinary(
      payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
    );
    expect([channelHeader.getType(), channelHeader.getChannelId()]).toEqual([common.HeaderType.CONFIG_UPDATE, 'ch']);
    const key = createPublicKey(new x509.X509Certificate(admin1.certPem).publicKey.toString('pem'));
    expect(verify('sha256', envelope.getPayload_asU8(), key, envelope.getSignature_asU8())).toBe(true);

    const updateEnvelope = common.ConfigUpdateEnvelope.deserializeBinary(payload.getData_asU8());
    expect(updateEnvelope.getConfigUpdate_asU8()).toEqual(update.serializeBinary());
    const approvals = updateEnvelope.getSignaturesList();
    expect(approvals).toHaveLength(2);
    [admin1, admin2].forEach((signer, i) => {
      const s = approvals[i];
      expect(
        s &&
          verifies(signer, s.getSignatureHeader_asU8(), updateEnvelope.getConfigUpdate_asU8(), s.getSignature_asU8()),
      ).toBe(true);
    });
  });
});
