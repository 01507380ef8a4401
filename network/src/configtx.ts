/**
 * The channel's `configtx.yaml`, from which configtxgen makes the genesis block of the one
 * channel: etcdraft with one consenter, and an application group holding every bank org (with its
 * anchor peer) and the orgs without a peer (the agents org), whose clients submit through the
 * banks' peers. Written as JSON, which is valid YAML.
 */
import { join } from 'node:path';
import { addr, BATCH_TIMEOUT, writeJsonYaml } from './fabric-config';
import type { FabricClientOrgMsp, FabricOrgMsp } from './state';

const sig = (rule: string) => ({ Type: 'Signature', Rule: rule });
const meta = (rule: string) => ({ Type: 'ImplicitMeta', Rule: rule });

/** An org's node: a bank's peer, the orderer, or none (the agents org). */
type OrgNode = 'peer' | 'orderer' | 'none';

function orgPolicies(mspId: string, node: OrgNode): Record<string, unknown> {
  const m = (role: string) => `'${mspId}.${role}'`;
  const readers = [m('admin'), ...(node === 'none' ? [] : [m(node)]), m('client')];
  return {
    Readers: sig(`OR(${readers.join(', ')})`),
    // The orderer signs every block; BlockValidation (ANY Writers of the orderer group) checks it.
    Writers: sig(node === 'orderer' ? `OR(${m('admin')}, ${m('orderer')})` : `OR(${m('admin')}, ${m('client')})`),
    Admins: sig(`OR(${m('admin')})`),
    // An org without a peer endorses nothing: no Endorsement policy of its own.
    ...(node === 'peer' ? { Endorsement: sig(`OR(${m('peer')})`) } : {}),
  };
}

/**
 * What configtx.yaml is made from: the orderer org, every bank org with its anchor peer, and the
 * application orgs without a peer (the agents org).
 */
export interface ChannelConfigInput {
  readonly orderer: FabricOrgMsp;
  readonly ordererPort: number;
  readonly peerOrgs: readonly { readonly msp: FabricOrgMsp; readonly peerPort: number }[];
  readonly clientOrgs: readonly FabricClientOrgMsp[];
}

/** configtx.yaml with one profile, {@link CHANNEL_PROFILE}: etcdraft with one consenter, every application org. */
export function writeConfigtxYaml(cfgDir: string, o: ChannelConfigInput): string {
  return writeJsonYaml(join(cfgDir, 'configtx.yaml'), {
    Profiles: {
      [CHANNEL_PROFILE]: {
        Policies: groupPolicies(),
        Capabilities: { V3_0: true },
        Orderer: ordererGroup(o),
        Application: applicationGroup(o),
      },
    },
  });
}

/** The Readers/Writers/Admins policies every group of the channel has. */
function groupPolicies(): Record<string, unknown> {
  return { Readers: meta('ANY Readers'), Writers: meta('ANY Writers'), Admins: meta('MAJORITY Admins') };
}

/** The channel's orderer group: etcdraft with the one orderer as its one consenter. */
function ordererGroup(o: ChannelConfigInput): Record<string, unknown> {
  const ordererTls = join(o.orderer.node.tlsDir, 'server.crt');
  return {
    OrdererType: 'etcdraft',
    BatchTimeout: BATCH_TIMEOUT,
    BatchSize: { MaxMessageCount: 100, AbsoluteMaxBytes: '10 MB', PreferredMaxBytes: '2 MB' },
    EtcdRaft: {
      Consenters: [{ Host: '127.0.0.1', Port: o.ordererPort, ClientTLSCert: ordererTls, ServerTLSCert: ordererTls }],
      Options: {
        TickInterval: '100ms',
        ElectionTick: 10,
        HeartbeatTick: 1,
        MaxInflightBlocks: 5,
        SnapshotIntervalSize: '16 MB',
      },
    },
    Organizations: [
      {
        Name: o.orderer.mspId,
        ID: o.orderer.mspId,
        MSPDir: o.orderer.mspDir,
        Policies: orgPolicies(o.orderer.mspId, 'orderer'),
        OrdererEndpoints: [addr(o.ordererPort)],
      },
    ],
    Policies: { ...groupPolicies(), BlockValidation: meta('ANY Writers') },
    Capabilities: { V2_0: true },
  };
}

/**
 * The channel's application group: the bank orgs, each with its anchor peer, and the orgs without
 * a peer, whose clients submit through the banks' peers.
 */
function applicationGroup(o: ChannelConfigInput): Record<string, unknown> {
  const org = (msp: FabricClientOrgMsp, node: OrgNode) => ({
    Name: msp.mspId,
    ID: msp.mspId,
    MSPDir: msp.mspDir,
    Policies: orgPolicies(msp.mspId, node),
  });
  return {
    Organizations: [
      ...o.peerOrgs.map(({ msp, peerPort }) => ({
        ...org(msp, 'peer'),
        AnchorPeers: [{ Host: '127.0.0.1', Port: peerPort }],
      })),
      ...o.clientOrgs.map((msp) => org(msp, 'none')),
    ],
    Policies: {
      ...groupPolicies(),
      // Approving a chaincode definition: a majority of the application orgs, each org counted
      // (one without an Endorsement policy as never satisfied): 2 of 3, so the two banks suffice.
      LifecycleEndorsement: meta('MAJORITY Endorsement'),
      Endorsement: meta('MAJORITY Endorsement'),
    },
    Capabilities: { V2_5: true },
  };
}

/** The one profile of {@link writeConfigtxYaml}. */
export const CHANNEL_PROFILE = 'DvpSettlement';
