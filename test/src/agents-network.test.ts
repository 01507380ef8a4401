/**
 * The market-infrastructure org (`AgentsMSP`) of the shared local network (`make network-up`):
 * one CA, no peer, three parties of their own (escrow manager, notary, observer). Their
 * identities carry their party and role; the signed directory lists each; their gateway configs
 * point at the issuer org's peer; and on the real peers their client identities read and submit
 * through the banks' peers while only the banks' peers endorse and only the banks approved the
 * chaincode definition.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { StatusCode, type Contract } from '@hyperledger/fabric-gateway';
import {
  certificateFingerprint,
  fabricAccountId,
  loadIdentity,
  parseCertificateClaims,
  partyOfCertificate,
  verifyDirectory,
  type SignedDirectory,
} from '@dvp/certs';
import { connectPeer } from '../../network/src/fabric-client';
import { writeGatewayConfig } from '../../network/src/gateway-config';
import { networkPaths, type FabricUpState } from '../../network/src/state';
import { describeOnFabric, fabricUp } from './fabric';
import { agentIdentity, bankIdentity, issueFreshInstrument, submit, type TestFabricIdentity } from './fabric-clients';
import { chaincodeRefusal } from './fabric-refusals';
import { sharedNetwork } from './network';
import { peer, peerEnv } from './peer-cli';

jest.setTimeout(60_000);

const net = sharedNetwork();
const AGENTS = { manager: 'escrow-manager', notary: 'notary', observer: 'observer' } as const;
const EVM_ACCOUNT = { manager: 3, notary: 4, observer: 5 } as const;
const IDENTITY_ROLES = { admin: 'operator', gateway: 'gateway', 'gateway-tls': 'gateway', auditor: 'auditor' };
const parties = Object.keys(AGENTS) as (keyof typeof AGENTS)[];
const directory = () =>
  verifyDirectory(
    JSON.parse(readFileSync(net.directory.file, 'utf8')) as SignedDirectory,
    readFileSync(net.directory.authorityPublicKeyFile, 'utf8'),
  );
const walletOf = (party: string): string => net.agents.parties[party]?.wallet ?? '';

describe('the agents org of the shared network', () => {
  it('has its own CA and MSP, and no peer', () => {
    const ca = net.fabricCa.orgs[net.agents.org];
    expect(net.agents).toMatchObject({ org: 'agents', mspId: 'AgentsMSP', msp: { mspId: 'AgentsMSP' } });
    expect(ca).toMatchObject({ mspId: 'AgentsMSP', crlFile: join(net.stateDir, 'crl', 'agents.pem') });
    expect(readFileSync(ca?.crlFile ?? '', 'utf8')).toMatch(/^-----BEGIN X509 CRL-----/);
    expect(net.fabricMsp.orgs['agents']).toBeUndefined();
    if (net.fabric.status === 'up') expect(Object.keys(net.fabric.peers).sort()).toEqual(['buyer', 'seller']);
  });

  it.each(parties)('enrolled %s’s identities at the agents CA with its party and their roles', (party) => {
    expect(net.agents.parties[party]).toEqual({
      role: AGENTS[party],
      wallet: join(net.stateDir, 'wallets', 'agents', party),
    });
    for (const [name, role] of Object.entries(IDENTITY_ROLES)) {
      const id = loadIdentity(walletOf(party), name);
      expect(id.record.mspId).toBe('AgentsMSP');
      expect(parseCertificateClaims(id.certificate)).toMatchObject({
        enrollmentId: `${party}-${name}`,
        role,
        party,
        identityType: 'client',
        ous: expect.arrayContaining(['client', 'agents']),
      });
    }
  });
});

describe('the directory’s agent parties', () => {
  it.each(parties)(
    'lists %s under AgentsMSP with its certificates, EVM account, gateway and chaincode account',
    (party) => {
      const entry = directory().parties[party];
      const wallet = walletOf(party);
      const fingerprint = (name: string) => certificateFingerprint(loadIdentity(wallet, name).certificate);
      const gateway = loadIdentity(wallet, 'gateway').certificate;
      expect(entry).toEqual({
        mspId: 'AgentsMSP',
        certificateFingerprints: ['admin', 'gateway', 'auditor'].map(fingerprint),
        evmAddress: net.evm.accounts[EVM_ACCOUNT[party]],
        gatewayUrl: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
        fabricAccount: fabricAccountId('AgentsMSP', gateway),
      });
      expect(partyOfCertificate(directory(), gateway).party).toBe(party);
    },
  );

  it('lists the banks and the three agent parties, each gateway on its own port', () => {
    const dir = directory();
    expect(Object.keys(dir.parties).sort()).toEqual(['buyer', 'manager', 'notary', 'observer', 'seller']);
    const ports = Object.values(dir.parties).map((e) => new URL(e.gatewayUrl).port);
    expect(new Set(ports).size).toBe(ports.length);
  });
});

describe('gateway-config for the agent parties', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvp-agents-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (party: string): Record<string, unknown> => {
    const out = join(dir, `${party}.json`);
    writeGatewayConfig({ networkFile: networkPaths().stateFile, party, out });
    return JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
  };
  const agentsCa = () => net.fabricCa.orgs['agents']!;

  it('writes the manager’s with role escrow-manager, its own identities and the issuer org’s (seller’s) peer', () => {
    const config = write('manager');
    const wallet = walletOf('manager');
    expect(config).toMatchObject({
      partyId: 'manager',
      role: 'escrow-manager',
      tls: { certFile: join(wallet, 'gateway-tls', 'cert.pem'), keyFile: join(wallet, 'gateway-tls', 'key.pem') },
      peers: { certFile: join(wallet, 'gateway', 'cert.pem'), keyFile: join(wallet, 'gateway', 'key.pem') },
      fabric: { mspId: 'AgentsMSP', certFile: join(wallet, 'gateway', 'cert.pem') },
    });
    expect(config['settlement']).toBeUndefined();
    if (net.fabric.status === 'up') {
      const seller = net.fabric.peers['seller']!;
      expect(config['fabric']).toMatchObject({ peer: { endpoint: seller.address, hostOverride: seller.host } });
      expect(config['securities']).toEqual({ ledger: 'fabric' });
    }
  });

  it('writes the notary’s and the observer’s with their roles', () => {
    expect(write('notary')).toMatchObject({ partyId: 'notary', role: 'notary' });
    expect(write('observer')).toMatchObject({ partyId: 'observer', role: 'observer' });
  });

  it('makes every gateway, the banks’ too, trust the agents CA and read its CRL; a bank’s has no role', () => {
    for (const party of ['seller', 'buyer', 'manager']) {
      const config = write(party) as { trustAnchors: { mspId: string }[]; crl: { files: string[] } };
      expect(config.trustAnchors.map((a) => a.mspId)).toEqual(['SellerBankMSP', 'BuyerBankMSP', 'AgentsMSP']);
      expect(config.trustAnchors[2]).toEqual({ mspId: 'AgentsMSP', certFile: agentsCa().caCertFile });
      expect(config.crl.files[2]).toBe(agentsCa().crlFile);
    }
    expect(write('seller')).not.toHaveProperty('role');
    expect(write('seller')).toHaveProperty('settlement');
  });
});

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

describeOnFabric('AgentsMSP clients on the real peers', () => {
  let fabric: FabricUpState;
  const connections: { close(): void }[] = [];
  const contractOf = (id: TestFabricIdentity): Contract => {
    const conn = connectPeer(fabric.peers[id.org]!, id);
    connections.push(conn);
    return conn.contract(fabric.channel, fabric.chaincode.name);
  };
  let manager: TestFabricIdentity;
  let isin: string;
  let depositor: TestFabricIdentity;

  beforeAll(async () => {
    fabric = fabricUp();
    manager = agentIdentity(net, 'manager', 'gateway', 'seller');
    depositor = bankIdentity(net, 'seller', 'trader');
    const issuer = bankIdentity(net, fabric.chaincode.issuer.org, fabric.chaincode.issuer.identity);
    isin = await issueFreshInstrument(contractOf(issuer), depositor.account, 10n);
  });

  afterAll(() => connections.forEach((c) => c.close()));

  it('lets the manager’s gateway identity evaluate BalanceOf and GetEscrow through the seller’s peer', async () => {
    const manage = contractOf(manager);
    expect(text(await manage.evaluateTransaction('BalanceOf', isin, depositor.account))).toBe('10');
    const missing = await chaincodeRefusal(manage.evaluateTransaction('GetEscrow', 'no-such-escrow'));
    expect(missing).toMatchObject({ code: 'NOT_FOUND', text: 'no such escrow' });
  });

  it('lets it submit OpenAccount through the seller’s peer, endorsed by both banks’ peers', async () => {
    const accountId = `agents-${process.pid}-${Date.now()}`;
    const account = JSON.parse(text(await submit(contractOf(manager), 'OpenAccount', accountId))) as object;
    expect(account).toMatchObject({ accountId, owner: manager.account });
  });

  it('runs an escrow whose controller is the manager and notary the notary, both AgentsMSP clients', async () => {
    const notary = agentIdentity(net, 'notary', 'gateway', 'buyer');
    const beneficiary = bankIdentity(net, 'buyer', 'trader').account;
    const tradeId = `AGENTS-${process.pid}-${Date.now()}`;
    const expiry = String(Math.floor(Date.now() / 1000) + 3600);
    const deposit = [tradeId, isin, '10', beneficiary, manager.account, expiry, '', notary.account];
    const { escrowId } = JSON.parse(text(await submit(contractOf(depositor), 'EscrowDeposit', ...deposit))) as {
      escrowId: string;
    };
    const escrow = JSON.parse(text(await contractOf(manager).evaluateTransaction('GetEscrow', escrowId))) as object;
    expect(escrow).toMatchObject({ controller: manager.account, notary: notary.account, status: 'OPEN' });
    await submit(contractOf(notary), 'EscrowApprove', escrowId, '10');
    const released = JSON.parse(text(await submit(contractOf(manager), 'EscrowRelease', escrowId, '10', ''))) as object;
    expect(released).toMatchObject({ status: 'RELEASED', released: '10', remaining: '0' });
    expect(text(await contractOf(manager).evaluateTransaction('BalanceOf', isin, beneficiary))).toBe('10');
  });

  it('does not honour the auditor role of an AgentsMSP identity (auditor is honoured from the bank MSPs only)', async () => {
    const auditor = agentIdentity(net, 'observer', 'auditor', 'seller');
    const refusal = await chaincodeRefusal(contractOf(auditor).evaluateTransaction('SupplyBreakdown', isin));
    expect(refusal).toEqual({
      code: 'NOT_AUTHORIZED',
      text: 'no role of the caller may call SupplyBreakdown',
      data: { mspId: 'AgentsMSP', roles: 'agents,auditor,client', transaction: 'SupplyBreakdown' },
    });
  });

  describe('endorsement, unchanged by the agents org', () => {
    const openAccount = async (endorsingOrganizations: string[]) => {
      const accountId = `endorse-${endorsingOrganizations.length}-${process.pid}-${Date.now()}`;
      const proposal = contractOf(manager).newProposal('OpenAccount', {
        arguments: [accountId],
        endorsingOrganizations,
      });
      const commit = await (await proposal.endorse()).submit();
      return commit.getStatus();
    };

    it('commits a transaction endorsed by both banks’ peers only', async () => {
      expect(fabric.chaincode.endorsementPolicy).toBe("AND('SellerBankMSP.peer','BuyerBankMSP.peer')");
      expect(await openAccount(['SellerBankMSP', 'BuyerBankMSP'])).toMatchObject({
        successful: true,
        code: StatusCode.VALID,
      });
    });

    it('invalidates one endorsed by the seller’s peer alone', async () => {
      expect(await openAccount(['SellerBankMSP'])).toMatchObject({
        successful: false,
        code: StatusCode.ENDORSEMENT_POLICY_FAILURE,
      });
    });

    it('has the chaincode definition approved by the two banks, a majority of the three application orgs', async () => {
      const args = ['lifecycle', 'chaincode', 'querycommitted', '-C', fabric.channel, '-n', fabric.chaincode.name];
      const { stdout } = await peer(net, peerEnv(net, 'seller'), [...args, '--output', 'json']);
      expect(JSON.parse(stdout)).toMatchObject({
        sequence: fabric.chaincode.sequence,
        approvals: { AgentsMSP: false, BuyerBankMSP: true, SellerBankMSP: true },
      });
    });
  });
});
