/**
 * The Fabric CAs and the signed party directory of the shared local network (`make network-up`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  connectCa,
  listWallet,
  loadIdentity,
  parseCertificateClaims,
  partyOfCertificate,
  verifyDirectory,
  type SignedDirectory,
} from '@dvp/certs';
import { expectClientOrgMsp, expectNodeOu, expectOrgMsp } from '../../network/src/__tests__/msp-checks';
import { sharedNetwork } from './network';

const net = sharedNetwork();
const directory = () =>
  verifyDirectory(
    JSON.parse(readFileSync(net.directory.file, 'utf8')) as SignedDirectory,
    readFileSync(net.directory.authorityPublicKeyFile, 'utf8'),
  );

describe('the shared network’s Fabric CAs', () => {
  it('runs one CA per org, each answering over TLS with its own CA name', async () => {
    expect(Object.keys(net.fabricCa.orgs).sort()).toEqual(['agents', 'buyer', 'orderer', 'seller']);
    for (const ca of Object.values(net.fabricCa.orgs)) {
      const client = connectCa({
        url: ca.url,
        tlsTrustedCert: readFileSync(ca.tlsCertFile, 'utf8'),
        caName: ca.caName,
      });
      expect((await client.cainfo()).caName).toBe(ca.caName);
    }
  });

  it('enrolled each bank’s gateway with its role and party in the certificate', () => {
    for (const org of ['seller', 'buyer']) {
      const ca = net.fabricCa.orgs[org]!;
      const gateway = loadIdentity(ca.wallet, 'gateway');
      expect(parseCertificateClaims(gateway.certificate)).toMatchObject({ role: 'gateway', party: org });
      expect(gateway.record.mspId).toBe(ca.mspId);
    }
  });

  it('onboards a new operator through the org registrar: the role and party land in the certificate', async () => {
    const ca = net.fabricCa.orgs['seller']!;
    const client = connectCa({ url: ca.url, tlsTrustedCert: readFileSync(ca.tlsCertFile, 'utf8'), caName: ca.caName });
    const registrar = loadIdentity(ca.wallet, 'registrar');
    const enrollmentId = `operator-${process.pid}-${Date.now()}`;
    const { secret } = await client.register(registrar, {
      enrollmentId,
      type: 'client',
      role: 'operator',
      party: 'seller',
    });
    const enrolled = await client.enroll({ enrollmentId, secret });
    expect(parseCertificateClaims(enrolled.certificate)).toMatchObject({
      enrollmentId,
      role: 'operator',
      party: 'seller',
    });
  });
});

// Written by network-up for a Fabric peer/orderer that cannot run here (README, "Blocked"): these
// tests check the files and certificates, not that a Fabric process accepts them.
describe('the shared network’s Fabric MSP material', () => {
  it('has one MSP per org with a node, enrolled from that org’s CA', () => {
    expect(Object.keys(net.fabricMsp.orgs).sort()).toEqual(['buyer', 'orderer', 'seller']);
    for (const [org, msp] of Object.entries(net.fabricMsp.orgs)) {
      expect(msp.mspId).toBe(net.fabricCa.orgs[org]?.mspId);
      expectOrgMsp(msp, net.fabricCa.orgs[org]!.caCertFile);
    }
  });

  it('has orderer0 for the orderer org and peer0 for each bank', () => {
    expect(net.fabricMsp.orgs['orderer']?.node).toMatchObject({ enrollmentId: 'orderer0', type: 'orderer' });
    for (const org of ['seller', 'buyer']) {
      expect(net.fabricMsp.orgs[org]?.node).toMatchObject({ enrollmentId: 'peer0', type: 'peer' });
    }
  });

  it('gives every wallet identity of every org exactly one NodeOU, so an MSP with NodeOUs accepts it', () => {
    // No wallet identity is an MSP admin, the CA's bootstrap registrar included: the only admin of an
    // org is Admin@<domain> (fabricMsp); the `admin` identity is an operator (client).
    const agentWallets = Object.values(net.agents.parties).map((p) => p.wallet);
    for (const wallet of [...Object.values(net.fabricCa.orgs).map((ca) => ca.wallet), ...agentWallets]) {
      for (const name of listWallet(wallet)) expectNodeOu(join(wallet, name, 'cert.pem'), 'client');
    }
    expect(agentWallets.map(listWallet)).toEqual(
      agentWallets.map(() => ['admin', 'auditor', 'gateway', 'gateway-tls']),
    );
  });

  it('has the agents org’s MSP (no node) and its admin, enrolled from the agents CA', () => {
    expect(net.agents.msp.mspId).toBe('AgentsMSP');
    expectClientOrgMsp(net.agents.msp, net.fabricCa.orgs[net.agents.org]!.caCertFile);
  });
});

describe('the shared network’s party directory', () => {
  it('verifies with the directory authority’s key and lists both banks and the agent parties', () => {
    const dir = directory();
    expect(Object.keys(dir.parties).sort()).toEqual(['buyer', 'manager', 'notary', 'observer', 'seller']);
    expect(dir.parties['seller']?.evmAddress).toBe(net.evm.accounts[1]);
    expect(dir.parties['buyer']?.gatewayUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('maps each bank’s gateway certificate to that bank and to no other', () => {
    const dir = directory();
    for (const org of ['seller', 'buyer']) {
      const cert = loadIdentity(net.fabricCa.orgs[org]!.wallet, 'gateway').certificate;
      expect(partyOfCertificate(dir, cert).party).toBe(org);
    }
  });

  it('rejects a tampered directory', () => {
    const signed = JSON.parse(readFileSync(net.directory.file, 'utf8')) as SignedDirectory;
    const forged = {
      ...signed,
      directory: {
        ...signed.directory,
        parties: { ...signed.directory.parties, mallory: signed.directory.parties['seller']! },
      },
    };
    expect(() => verifyDirectory(forged, readFileSync(net.directory.authorityPublicKeyFile, 'utf8'))).toThrow(
      /signature/,
    );
  });
});
