/**
 * Fabric MSP/TLS material enrolled from real fabric-ca-servers (started by `startOrgCa`, as
 * network-up does, on free ports in a temp folder). The material is checked as files and parsed
 * certificates; no peer or orderer loads it, since none can run here.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadIdentity, stopProcess } from '@dvp/certs';
import { startOrgCa } from './ca';
import { orgAffiliation, type OrgConfig } from './config';
import { buildOrgMsp, MSP_FILES, ORG_ADMIN_ID, orgMspLayout } from './msp';
import { freePort } from '@dvp/certs';
import type { CaState, FabricOrgMsp } from './state';
import { expectOrgMsp, ousOf } from './__tests__/msp-checks';

jest.setTimeout(60_000);

const orgs = (ports: readonly [number, number]): { orderer: OrgConfig; seller: OrgConfig } => ({
  orderer: {
    key: 'orderer',
    name: 'Orderer',
    mspId: 'OrdererMSP',
    domain: 'orderer.test',
    affiliation: 'ordererorg',
    caPort: ports[0],
  },
  seller: { key: 'seller', name: 'Seller', mspId: 'SellerBankMSP', domain: 'seller.test', caPort: ports[1] },
});

describe('Fabric MSP material', () => {
  let dir: string;
  const pids: number[] = [];
  let cas: { orderer: CaState; seller: CaState };
  let msps: { orderer: FabricOrgMsp; seller: FabricOrgMsp };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dvp-msp-'));
    const cfg = orgs([await freePort(), await freePort()]);
    const dirs = { stateDir: join(dir, 'state'), logDir: join(dir, 'logs') };
    const [orderer, seller] = await Promise.all([
      startOrgCa(cfg.orderer, { isPeerOrg: false, isIssuerOrg: false }, dirs, (rec) => pids.push(rec.pid)),
      startOrgCa(cfg.seller, { isPeerOrg: true, isIssuerOrg: false }, dirs, (rec) => pids.push(rec.pid)),
    ]);
    cas = { orderer, seller };
    const [ordererMsp, sellerMsp] = await Promise.all([
      buildOrgMsp(cfg.orderer, false, orderer, dirs.stateDir),
      buildOrgMsp(cfg.seller, true, seller, dirs.stateDir),
    ]);
    msps = { orderer: ordererMsp, seller: sellerMsp };
  });

  afterAll(async () => {
    for (const pid of pids) await stopProcess(pid);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('layout', () => {
    it('puts each org under fabric/organizations/<org> with the Fabric folder names', () => {
      const root = join(dir, 'state', 'fabric', 'organizations');
      expect(msps.seller).toEqual({
        mspId: 'SellerBankMSP',
        root: join(root, 'seller'),
        mspDir: join(root, 'seller', 'msp'),
        node: {
          host: 'peer0.seller.test',
          enrollmentId: 'peer0',
          type: 'peer',
          mspDir: join(root, 'seller', 'peers', 'peer0.seller.test', 'msp'),
          tlsDir: join(root, 'seller', 'peers', 'peer0.seller.test', 'tls'),
          tlsHosts: ['127.0.0.1', 'localhost', 'peer0.seller.test'],
        },
        admin: {
          enrollmentId: ORG_ADMIN_ID,
          mspDir: join(root, 'seller', 'users', 'Admin@seller.test', 'msp'),
          tlsDir: join(root, 'seller', 'users', 'Admin@seller.test', 'tls'),
        },
      });
      expect(msps.orderer.node.tlsDir).toBe(join(root, 'orderer', 'orderers', 'orderer0.orderer.test', 'tls'));
      expect(orgMspLayout(orgs([1, 2]).orderer, false, join(dir, 'state'))).toEqual(msps.orderer);
    });
  });

  describe.each(['orderer', 'seller'] as const)('the %s org', (org) => {
    it('passes every check: layout, 0600 keys, OUs by type, TLS SANs and EKUs, NodeOUs, chain to its CA', () => {
      expectOrgMsp(msps[org], cas[org].caCertFile);
    });

    it('chains to its own CA and not to the other org’s', () => {
      const other = org === 'orderer' ? cas.seller : cas.orderer;
      const foreign = new X509Certificate(readFileSync(other.caCertFile));
      const own = new X509Certificate(readFileSync(join(msps[org].node.mspDir, MSP_FILES.signCert)));
      expect(own.checkIssued(foreign)).toBe(false);
    });
  });

  describe('identity types as OUs', () => {
    it('issues OU=peer to the bank’s peer0, OU=orderer to orderer0 and OU=admin to each org admin', () => {
      expect(ousOf(join(msps.seller.node.mspDir, MSP_FILES.signCert))).toEqual(['peer', 'seller']);
      expect(ousOf(join(msps.orderer.node.mspDir, MSP_FILES.signCert))).toEqual(['orderer', 'ordererorg']);
      expect(ousOf(join(msps.seller.admin.mspDir, MSP_FILES.signCert))).toEqual(['admin', 'seller']);
      expect(ousOf(join(msps.orderer.admin.mspDir, MSP_FILES.signCert))).toEqual(['admin', 'ordererorg']);
    });

    it('gives the bank’s gateway identity OU=client, which NodeOUs classify as a client of the same MSP', () => {
      const gateway = loadIdentity(cas.seller.wallet, 'gateway');
      expect(ousOf(join(gateway.dir, 'cert.pem'))).toEqual(['client', 'seller']);
      expect(
        new X509Certificate(gateway.certificate).checkIssued(new X509Certificate(readFileSync(cas.seller.caCertFile))),
      ).toBe(true);
    });

    it('keeps the org admin apart from the bank’s `admin` operator identity, which is a client', () => {
      const operator = loadIdentity(cas.seller.wallet, 'admin').certificate;
      expect(readFileSync(join(msps.seller.admin.mspDir, MSP_FILES.signCert), 'utf8')).not.toBe(operator);
      expect(ousOf(join(cas.seller.wallet, 'admin', 'cert.pem'))).toEqual(['client', 'seller']);
    });
  });
});

describe('orgAffiliation', () => {
  it('refuses an affiliation that is a NodeOU name: its certificates would carry two role OUs', () => {
    const { orderer } = orgs([1, 2]);
    expect(() => orgAffiliation({ ...orderer, affiliation: 'orderer' })).toThrow(
      'org "orderer": affiliation "orderer" contains "orderer", a NodeOU name',
    );
    const { affiliation: _defaultsToKey, ...keyOnly } = orderer;
    expect(() => orgAffiliation(keyOnly)).toThrow('org "orderer": affiliation "orderer" contains "orderer"');
    expect(orgAffiliation(orgs([1, 2]).seller)).toBe('seller');
  });
});
