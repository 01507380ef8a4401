/**
 * The channel and chaincode policies network-up deploys, from network.config.json without a
 * network: the agents org is an application org of the channel (its clients read and write) that
 * endorses nothing, and the chaincode's endorsement, lifecycle and access policies stay the banks'.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNetworkConfig, type NetworkConfig } from './config';
import { CHANNEL_PROFILE, writeConfigtxYaml } from './configtx';
import { deployedPolicy, endorsementPolicy } from './fabric';
import { clientOrgMspLayout, orgMspLayout } from './msp';

const cfg = loadNetworkConfig({});

describe('loadNetworkConfig', () => {
  it('reads the agents org and its three parties, shifting their ports by DVP_PORT_OFFSET', () => {
    const shifted = loadNetworkConfig({ DVP_PORT_OFFSET: '2000' });
    expect(cfg.agentsOrg).toMatchObject({ key: 'agents', mspId: 'AgentsMSP', caPort: 17354 });
    expect(shifted.agentsOrg.caPort).toBe(19354);
    expect(shifted.agentsOrg.parties).toEqual([
      { key: 'manager', role: 'escrow-manager', gatewayPort: 19380, evmAccount: 3 },
      { key: 'notary', role: 'notary', gatewayPort: 19480, evmAccount: 4 },
      { key: 'observer', role: 'observer', gatewayPort: 19580, evmAccount: 5 },
    ]);
  });

  it.each([
    ['an unknown role', { key: 'clerk', role: 'clerk', gatewayPort: 1, evmAccount: 6 }, 'role "clerk" is not one of'],
    ['a bank’s key', { key: 'seller', role: 'notary', gatewayPort: 1, evmAccount: 6 }, 'the key is already a party'],
  ])('refuses an agent party with %s', (_what, party, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'dvp-config-'));
    try {
      const raw = JSON.parse(readFileSync(join(__dirname, '..', 'network.config.json'), 'utf8')) as NetworkConfig;
      const file = join(dir, 'network.config.json');
      writeFileSync(file, JSON.stringify({ ...raw, agentsOrg: { ...raw.agentsOrg, parties: [party] } }));
      expect(() => loadNetworkConfig({ DVP_NETWORK_CONFIG: file })).toThrow(
        `agentsOrg party "${party.key}": ${message}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the chaincode’s policies', () => {
  it('needs the endorsement of every bank’s peer and of no other org', () => {
    expect(endorsementPolicy(cfg)).toBe("AND('SellerBankMSP.peer','BuyerBankMSP.peer')");
  });

  it('honours admin, auditor and issuer from bank MSPs only, and lets any client release, approve and return escrows', () => {
    const policy = deployedPolicy(cfg);
    expect(policy.roleMsps).toEqual({
      admin: ['SellerBankMSP', 'BuyerBankMSP'],
      issuer: ['SellerBankMSP'],
      auditor: ['SellerBankMSP', 'BuyerBankMSP'],
    });
    expect(policy.governors).toEqual(['SellerBankMSP', 'BuyerBankMSP']);
    expect(policy.roles['client']).toEqual(expect.arrayContaining(['EscrowRelease', 'EscrowApprove', 'EscrowReturn']));
    expect(policy.public).toEqual(expect.arrayContaining(['BalanceOf', 'GetEscrow']));
  });
});

/** The parts of configtx.yaml these tests read. */
interface Configtx {
  Profiles: Record<
    string,
    {
      Application: {
        Organizations: { ID: string; MSPDir: string; Policies: Record<string, unknown>; AnchorPeers?: unknown }[];
        Policies: Record<string, unknown>;
      };
    }
  >;
}

describe('the channel’s application group', () => {
  let dir: string;
  let application: Configtx['Profiles'][string]['Application'];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dvp-configtx-'));
    const state = join(dir, 'state');
    const peerOrg = (o: NetworkConfig['peerOrgs'][number]) => ({
      msp: orgMspLayout(o, true, state),
      peerPort: o.peerPort ?? 0,
    });
    const file = writeConfigtxYaml(dir, {
      orderer: orgMspLayout(cfg.ordererOrg, false, state),
      ordererPort: 1,
      peerOrgs: cfg.peerOrgs.map(peerOrg),
      clientOrgs: [clientOrgMspLayout(cfg.agentsOrg, state)],
    });
    application = (JSON.parse(readFileSync(file, 'utf8')) as Configtx).Profiles[CHANNEL_PROFILE]!.Application;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds both banks and the agents org', () => {
    expect(application.Organizations.map((o) => o.ID)).toEqual(['SellerBankMSP', 'BuyerBankMSP', 'AgentsMSP']);
  });

  it('lets the agents org’s clients read and write, with no anchor peer and no Endorsement policy', () => {
    const agents = application.Organizations[2]!;
    expect(agents.MSPDir).toBe(join(dir, 'state', 'fabric', 'organizations', 'agents', 'msp'));
    expect(agents.AnchorPeers).toBeUndefined();
    const sig = (rule: string) => ({ Type: 'Signature', Rule: rule });
    expect(agents.Policies).toEqual({
      Readers: sig("OR('AgentsMSP.admin', 'AgentsMSP.client')"),
      Writers: sig("OR('AgentsMSP.admin', 'AgentsMSP.client')"),
      Admins: sig("OR('AgentsMSP.admin')"),
    });
  });

  it('keeps each bank’s anchor peer and peer Endorsement policy', () => {
    for (const bank of application.Organizations.slice(0, 2)) {
      expect(bank.AnchorPeers).toEqual([{ Host: '127.0.0.1', Port: expect.any(Number) }]);
      expect(bank.Policies['Endorsement']).toEqual({ Type: 'Signature', Rule: `OR('${bank.ID}.peer')` });
    }
  });

  it('approves chaincode definitions by a majority of the orgs’ Endorsement policies (2 of 3: the two banks)', () => {
    const meta = (rule: string) => ({ Type: 'ImplicitMeta', Rule: rule });
    expect(application.Policies).toMatchObject({
      LifecycleEndorsement: meta('MAJORITY Endorsement'),
      Endorsement: meta('MAJORITY Endorsement'),
      Admins: meta('MAJORITY Admins'),
    });
  });
});
