/**
 * Channel configuration updates without configtxlator: decode a config block, change the config,
 * compute the `ConfigUpdate` (read set / write set) the way `configtxlator compute_update` does,
 * sign it as the org admins whose policies govern the change, and wrap it in the CONFIG_UPDATE
 * envelope that `peer channel update -f` (or the orderer's Broadcast service) takes.
 *
 * Typical use, to put a CA's new CRL into an org's channel MSP (see certs/README.md):
 *
 * ```ts
 * const { channelId, config } = configFromBlock(readFileSync('config.block'));
 * const updated = withOrgMsp(config, 'SellerBankMSP', (m) => withRevocationList(m, crlPem));
 * const update = computeConfigUpdate(channelId, config, updated); // undefined: nothing to change
 * if (update) writeFileSync('update.pb', configUpdateEnvelope(update, [sellerAdmin], sellerAdmin).serializeBinary());
 * ```
 *
 * Nothing here reads files or talks to a node; every function is pure except for the random
 * nonces of the signatures.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { signLowS } from '@dvp/certs';
import { common, msp } from '@hyperledger/fabric-protos';
import { X509Crl } from '@peculiar/x509';
import type { FabricClientIdentity } from '../../network/src/fabric-client';

/** An identity that signs a config update: an org admin (MSP id, certificate and key PEM). */
export type ConfigSigner = FabricClientIdentity;

/** The channel id and the config carried by a config block (`peer channel fetch config`). */
export function configFromBlock(block: Uint8Array): { readonly channelId: string; readonly config: common.Config } {
  const data = common.Block.deserializeBinary(block).getData()?.getDataList_asU8() ?? [];
  if (data.length !== 1 || data[0] === undefined)
    throw new Error(`a config block holds one envelope, not ${data.length}`);
  const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(data[0]).getPayload_asU8());
  const header = common.ChannelHeader.deserializeBinary(
    payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
  );
  if (header.getType() !== common.HeaderType.CONFIG)
    throw new Error(`block is not a config block (type ${header.getType()})`);
  const config = common.ConfigEnvelope.deserializeBinary(payload.getData_asU8()).getConfig();
  if (config === undefined) throw new Error('config envelope without config');
  return { channelId: header.getChannelId(), config };
}

/** The application org group `Application/<mspId>` of a channel config. */
function orgGroup(config: common.Config, mspId: string): common.ConfigGroup {
  const org = config.getChannelGroup()?.getGroupsMap().get('Application')?.getGroupsMap().get(mspId);
  if (org === undefined) throw new Error(`channel config has no application org ${mspId}`);
  return org;
}

/** The Fabric MSP definition of application org `mspId` (its `MSP` config value). */
export function orgMsp(config: common.Config, mspId: string): msp.FabricMSPConfig {
  const value = orgGroup(config, mspId).getValuesMap().get('MSP');
  if (value === undefined) throw new Error(`application org ${mspId} has no MSP value`);
  const mspConfig = msp.MSPConfig.deserializeBinary(value.getValue_asU8());
  if (mspConfig.getType() !== 0) throw new Error(`MSP of ${mspId} is not an X.509 (bccsp) MSP`);
  return msp.FabricMSPConfig.deserializeBinary(mspConfig.getConfig_asU8());
}

/**
 * A copy of `config` in which application org `mspId`'s MSP definition is `edit(current)`;
 * `config` itself is left as it is. Only the MSP value's bytes change (not its version or mod
 * policy): {@link computeConfigUpdate} derives the versions.
 */
export function withOrgMsp(
  config: common.Config,
  mspId: string,
  edit: (current: msp.FabricMSPConfig) => msp.FabricMSPConfig,
): common.Config {
  const copy = common.Config.deserializeBinary(config.serializeBinary());
  const mspConfig = new msp.MSPConfig();
  mspConfig.setType(0);
  mspConfig.setConfig(edit(orgMsp(copy, mspId)).serializeBinary());
  orgGroup(copy, mspId).getValuesMap().get('MSP')?.setValue(mspConfig.serializeBinary());
  return copy;
}

function crlIssuer(crl: Uint8Array): string {
  const text = Buffer.from(crl).toString('latin1');
  return new X509Crl(text.startsWith('-----BEGIN') ? text : Buffer.from(crl)).issuer;
}

/**
 * A copy of `mspConfig` whose revocation list holds `crlPem` in place of every CRL from the same
 * issuer (a CA's CRL lists all its revoked certificates, so the newest one replaces the older);
 * CRLs of other issuers are kept. The CRL is stored as PEM, as configtxgen stores an MSP's
 * `crls/` files. A peer then refuses every certificate the CRL lists whose issuer's subject key
 * id is the CRL's authority key id and whose issuer signed the CRL.
 */
export function withRevocationList(mspConfig: msp.FabricMSPConfig, crlPem: string): msp.FabricMSPConfig {
  const issuer = crlIssuer(Buffer.from(crlPem));
  const copy = msp.FabricMSPConfig.deserializeBinary(mspConfig.serializeBinary());
  const others = copy.getRevocationListList_asU8().filter((crl) => crlIssuer(crl) !== issuer);
  copy.setRevocationListList([...others, Buffer.from(crlPem)]);
  return copy;
}

/** One map (values or policies) of a group, compared as configtxlator compares it. */
interface MapDelta<T> {
  readonly read: Map<string, T>;
  readonly write: Map<string, T>;
  /** Unchanged members, version only: they join both sets when the group's membership changes. */
  readonly same: Map<string, T>;
  membersChanged: boolean;
}

/** A config map: what `getValuesMap()` / `getPoliciesMap()` / `getGroupsMap()` return. */
interface ProtoMap<T> {
  get(key: string): T | undefined;
  has(key: string): boolean;
  forEach(callback: (value: T, key: string) => void): void;
}

/** How a value or a policy is compared and copied into a read or write set. */
interface LeafKind<T extends common.ConfigValue | common.ConfigPolicy> {
  /** The content besides the mod policy: the value's bytes, the serialized policy. */
  content(leaf: T): Uint8Array;
  /** A new element at `version`; with `from`, also `from`'s mod policy and content (a write). */
  at(version: number, from?: T): T;
}

const VALUE: LeafKind<common.ConfigValue> = {
  content: (leaf) => leaf.getValue_asU8(),
  at: (version, from) => {
    const leaf = new common.ConfigValue();
    leaf.setVersion(version);
    if (from !== undefined) {
      leaf.setModPolicy(from.getModPolicy());
      leaf.setValue(from.getValue_asU8());
    }
    return leaf;
  },
};

const POLICY: LeafKind<common.ConfigPolicy> = {
  content: (leaf) => leaf.getPolicy()?.serializeBinary() ?? new Uint8Array(),
  at: (version, from) => {
    const leaf = new common.ConfigPolicy();
    leaf.setVersion(version);
    if (from !== undefined) {
      leaf.setModPolicy(from.getModPolicy());
      leaf.setPolicy(from.getPolicy());
    }
    return leaf;
  },
};

function newDelta<T>(): MapDelta<T> {
  return { read: new Map(), write: new Map(), same: new Map(), membersChanged: false };
}

/** configtxlator's computeValuesMapUpdate / computePoliciesMapUpdate. */
function leafDelta<T extends common.ConfigValue | common.ConfigPolicy>(
  kind: LeafKind<T>,
  original: ProtoMap<T>,
  updated: ProtoMap<T>,
): MapDelta<T> {
  const d = newDelta<T>();
  const same = (a: T, b: T) =>
    a.getModPolicy() === b.getModPolicy() && Buffer.from(kind.content(a)).equals(kind.content(b));
  original.forEach((o, name) => {
    const u = updated.get(name);
    if (u === undefined) d.membersChanged = true;
    else if (same(o, u)) d.same.set(name, kind.at(o.getVersion()));
    else d.write.set(name, kind.at(o.getVersion() + 1, u));
  });
  updated.forEach((u, name) => {
    if (original.has(name)) return;
    d.membersChanged = true;
    d.write.set(name, kind.at(0, u));
  });
  return d;
}

/** configtxlator's computeGroupsMapUpdate. */
function groupsDelta(original: ProtoMap<common.ConfigGroup>, updated: ProtoMap<common.ConfigGroup>) {
  const d = newDelta<common.ConfigGroup>();
  original.forEach((o, name) => {
    const u = updated.get(name);
    const sub = u === undefined ? undefined : groupDelta(o, u);
    if (sub === undefined) {
      d.membersChanged = true;
    } else if (sub.changed) {
      d.read.set(name, sub.read);
      d.write.set(name, sub.write);
    } else {
      d.same.set(name, sub.read);
    }
  });
  updated.forEach((u, name) => {
    if (original.has(name)) return;
    d.membersChanged = true;
    const added = groupDelta(new common.ConfigGroup(), u).write;
    added.setVersion(0);
    added.setModPolicy(u.getModPolicy());
    d.write.set(name, added);
  });
  return d;
}

function group(
  version: number,
  parts: readonly [Map<string, common.ConfigPolicy>, Map<string, common.ConfigValue>, Map<string, common.ConfigGroup>],
  modPolicy = '',
): common.ConfigGroup {
  const g = new common.ConfigGroup();
  g.setVersion(version);
  g.setModPolicy(modPolicy);
  parts[0].forEach((p, k) => g.getPoliciesMap().set(k, p));
  parts[1].forEach((v, k) => g.getValuesMap().set(k, v));
  parts[2].forEach((c, k) => g.getGroupsMap().set(k, c));
  return g;
}

/** configtxlator's computeGroupUpdate: the read and write sets of one group, recursively. */
function groupDelta(original: common.ConfigGroup, updated: common.ConfigGroup) {
  const p = leafDelta(POLICY, original.getPoliciesMap(), updated.getPoliciesMap());
  const v = leafDelta(VALUE, original.getValuesMap(), updated.getValuesMap());
  const g = groupsDelta(original.getGroupsMap(), updated.getGroupsMap());
  const version = original.getVersion();
  const membership =
    p.membersChanged || v.membersChanged || g.membersChanged || original.getModPolicy() !== updated.getModPolicy();
  if (!membership) {
    const changed = [p, v, g].some((d) => d.read.size + d.write.size > 0);
    const write = group(version, [p.write, v.write, g.write]);
    return { read: group(version, [p.read, v.read, g.read]), write, changed };
  }
  // The group itself changes (a member added or removed, or its mod policy): its version goes
  // up, and every member it keeps is listed (version only) so the new membership is explicit.
  for (const d of [p, v, g] as MapDelta<unknown>[]) {
    d.same.forEach((same, name) => {
      d.read.set(name, same);
      d.write.set(name, same);
    });
  }
  const write = group(version + 1, [p.write, v.write, g.write], updated.getModPolicy());
  return { read: group(version, [p.read, v.read, g.read]), write, changed: true };
}

/**
 * The `ConfigUpdate` that turns `original` into `updated` on `channelId`, as `configtxlator
 * compute_update` computes it: the read set pins the version of every group on the path to a
 * change, the write set carries each changed value or policy with its version + 1 (a group's own
 * version rises only when its membership or mod policy changes). The orderer checks each changed
 * element against its mod policy. Undefined when the configs do not differ.
 */
export function computeConfigUpdate(
  channelId: string,
  original: common.Config,
  updated: common.Config,
): common.ConfigUpdate | undefined {
  const from = original.getChannelGroup();
  const to = updated.getChannelGroup();
  if (from === undefined || to === undefined) throw new Error('config without a channel group');
  const { read, write, changed } = groupDelta(from, to);
  if (!changed) return undefined;
  const update = new common.ConfigUpdate();
  update.setChannelId(channelId);
  update.setReadSet(read);
  update.setWriteSet(write);
  return update;
}

/** A signature header: the signer's serialized identity (MSP id + certificate PEM) and a nonce. */
function signatureHeader(signer: ConfigSigner): Uint8Array {
  const creator = new msp.SerializedIdentity();
  creator.setMspid(signer.mspId);
  creator.setIdBytes(Buffer.from(signer.certPem));
  const header = new common.SignatureHeader();
  header.setCreator(creator.serializeBinary());
  header.setNonce(randomBytes(24));
  return header.serializeBinary();
}

/** ECDSA P-256 / SHA-256, low-S, DER: the only signature form Fabric accepts. */
function fabricSignature(signer: ConfigSigner, data: Uint8Array): Uint8Array {
  return signLowS(createPrivateKey(signer.keyPem), Buffer.from(data));
}

/**
 * `signer`'s approval of a config update: a signature over signature header ‖ config update
 * bytes. Each org whose policy the change needs (the org's `Admins` for its own MSP value)
 * contributes one; they can be made on different machines from the same `updateBytes`.
 */
export function signConfigUpdate(updateBytes: Uint8Array, signer: ConfigSigner): common.ConfigSignature {
  const header = signatureHeader(signer);
  const signature = new common.ConfigSignature();
  signature.setSignatureHeader(header);
  signature.setSignature(fabricSignature(signer, Buffer.concat([header, updateBytes])));
  return signature;
}

/**
 * The CONFIG_UPDATE envelope for `update`, approved by `approvers` and signed by `submitter`
 * (who must satisfy the channel's Writers to broadcast it). `peer channel update -f` takes it
 * serialized and adds one more approval, its own user's (the orderer counts an identity once).
 * The channel header carries no timestamp: the orderer does not read one for a config update.
 */
export function configUpdateEnvelope(
  update: common.ConfigUpdate,
  approvers: readonly ConfigSigner[],
  submitter: ConfigSigner,
): common.Envelope {
  const updateBytes = update.serializeBinary();
  const updateEnvelope = new common.ConfigUpdateEnvelope();
  updateEnvelope.setConfigUpdate(updateBytes);
  updateEnvelope.setSignaturesList(approvers.map((a) => signConfigUpdate(updateBytes, a)));
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.CONFIG_UPDATE);
  channelHeader.setChannelId(update.getChannelId());
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader(submitter));
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(updateEnvelope.serializeBinary());
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  envelope.setSignature(fabricSignature(submitter, envelope.getPayload_asU8()));
  return envelope;
}
