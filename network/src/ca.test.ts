/**
 * The agents org's CA as network-up starts it (`startOrgCa` with agent parties, then
 * `buildClientOrgMsp`), on a real fabric-ca-server on a free port in a temp folder: each party's
 * identities in its own wallet with its party and their roles, one CA enrollment id per party and
 * identity, and an MSP with an org admin but no node.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, listWallet, loadIdentity, parseCertificateClaims, stopProcess } from '@dvp/certs';
import { AGENT_IDENTITIES, agentWallet, startOrgCa } from './ca';
import { buildClientOrgMsp } from './msp';
import type { CaState, FabricClientOrgMsp } from './state';
import { expectClientOrgMsp, expectNodeOu } from './__tests__/msp-checks';

jest.setTimeout(60_000);

const PARTIES = ['manager', 'notary', 'observer'] as const;
const ROLES: Readonly<Record<string, string>> = {
  admin: 'operator',
  gateway: 'gateway',
  'gateway-tls': 'gateway',
  auditor: 'auditor',
};

describe('the agents org’s CA', () => {
  let dir: string;
  const pids: number[] = [];
  let ca: CaState;
  let msp: FabricClientOrgMsp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dvp-agents-ca-'));
    const org = { key: 'agents', name: 'MarketInfrastructure', mspId: 'AgentsMSP', domain: 'agents.test' };
    const dirs = { stateDir: join(dir, 'state'), logDir: join(dir, 'logs') };
    const kind = { isPeerOrg: false, isIssuerOrg: false, agentParties: PARTIES };
    ca = await startOrgCa({ ...org, caPort: await freePort() }, kind, dirs, (rec) => pids.push(rec.pid));
    msp = await buildClientOrgMsp({ ...org, caPort: 0 }, ca, dirs.stateDir);
  });

  afterAll(async () => {
    for (const pid of pids) await stopProcess(pid);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps only the registrar in the org’s wallet and each party’s identities in a wallet of its own', () => {
    expect(ca.wallet).toBe(join(dir, 'state', 'wallets', 'agents'));
    expect(listWallet(ca.wallet)).toEqual(['registrar']);
    for (const party of PARTIES) {
      expect(agentWallet(ca.wallet, party)).toBe(join(ca.wallet, party));
      expect(listWallet(agentWallet(ca.wallet, party))).toEqual([...AGENT_IDENTITIES].sort());
    }
    expect(AGENT_IDENTITIES).toEqual(['admin', 'gateway', 'gateway-tls', 'auditor']);
  });

  describe.each(PARTIES)('for %s', (party) => {
    it.each(Object.entries(ROLES))('enrolls %s with role %s and the party’s name as its party', (name, role) => {
      const id = loadIdentity(agentWallet(ca.wallet, party), name);
      expect(id.record).toMatchObject({ name, mspId: 'AgentsMSP', enrollmentId: `${party}-${name}`, role, party });
      expect(parseCertificateClaims(id.certificate)).toMatchObject({ role, party, affiliation: 'agents' });
      expectNodeOu(join(id.dir, 'cert.pem'), 'client');
      const cert = new X509Certificate(id.certificate);
      expect(cert.checkIssued(new X509Certificate(readFileSync(ca.caCertFile)))).toBe(true);
    });

    it('gives gateway-tls a TLS server certificate for the loopback names', () => {
      const cert = new X509Certificate(loadIdentity(agentWallet(ca.wallet, party), 'gateway-tls').certificate);
      expect((cert.subjectAltName ?? '').split(', ').sort()).toEqual(['DNS:localhost', 'IP Address:127.0.0.1']);
      expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    });
  });

  it('publishes the CA’s CRL at crl/agents.pem', () => {
    expect(ca.crlFile).toBe(join(dir, 'state', 'crl', 'agents.pem'));
    expect(readFileSync(ca.crlFile, 'utf8')).toMatch(/^-----BEGIN X509 CRL-----/);
  });

  it('writes an MSP with an org admin and no node', () => {
    const root = join(dir, 'state', 'fabric', 'organizations', 'agents');
    expect(msp).toEqual({
      mspId: 'AgentsMSP',
      root,
      mspDir: join(root, 'msp'),
      admin: {
        enrollmentId: 'orgadmin',
        mspDir: join(root, 'users', 'Admin@agents.test', 'msp'),
        tlsDir: join(root, 'users', 'Admin@agents.test', 'tls'),
      },
    });
    expectClientOrgMsp(msp, ca.caCertFile);
    expect(existsSync(join(root, 'peers'))).toBe(false);
  });
});
