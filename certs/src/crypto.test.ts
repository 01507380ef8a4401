import { createPublicKey, verify } from 'node:crypto';
import { parseCertificateClaims } from './attributes';
import { certificateSerialAndAki, createCsr, generateKeyPair, signLowS, x509 } from './crypto';
import { createAuthToken } from './token';
import { nodeOusConfig } from './ca-config';
import { makeLocalCa } from './__tests__/fixtures';

const HALF_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551') >> 1n;

/** Reads r and s out of a DER ECDSA signature. */
function derRS(sig: Buffer): { r: bigint; s: bigint } {
  expect(sig[0]).toBe(0x30);
  const rLen = sig[3] ?? 0;
  const r = sig.subarray(4, 4 + rLen);
  const s = sig.subarray(6 + rLen);
  return { r: BigInt(`0x${r.toString('hex')}`), s: BigInt(`0x${s.toString('hex')}`) };
}

describe('signLowS', () => {
  it('always produces a verifiable DER signature with s in the lower half of the order', async () => {
    const keys = await generateKeyPair();
    const pub = createPublicKey(keys.privateKey);
    for (let i = 0; i < 64; i++) {
      const data = Buffer.from(`message ${i}`);
      const sig = signLowS(keys.privateKey, data);
      expect(derRS(sig).s <= HALF_N).toBe(true);
      expect(verify('sha256', data, pub, sig)).toBe(true);
    }
  });
});

describe('createAuthToken', () => {
  it('is b64(cert).b64(sig) with the signature over method.b64(uri).b64(body).b64(cert)', async () => {
    const keys = await generateKeyPair();
    const cert = '-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n';
    const body = '{"id":"x"}';
    const token = createAuthToken(cert, keys.privateKey, 'POST', '/api/v1/register', body);
    const [b64cert, b64sig, extra] = token.split('.');
    expect(extra).toBeUndefined();
    expect(Buffer.from(b64cert ?? '', 'base64').toString()).toBe(cert);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const payload = `POST.${b64('/api/v1/register')}.${b64(body)}.${b64cert}`;
    expect(
      verify('sha256', Buffer.from(payload), createPublicKey(keys.privateKey), Buffer.from(b64sig ?? '', 'base64')),
    ).toBe(true);
  });
});

describe('createCsr', () => {
  it('makes a self-verifying PKCS#10 request with CN = enrollment id', async () => {
    const keys = await generateKeyPair();
    const csr = new x509.Pkcs10CertificateRequest(await createCsr('bank-op1', keys));
    expect(csr.subject).toBe('CN=bank-op1');
    expect(await csr.verify()).toBe(true);
  });
});

describe('parseCertificateClaims', () => {
  it('reads role and party from the Fabric attribute extension', async () => {
    const ca = await makeLocalCa();
    const { cert } = await ca.issue('op', { role: 'approver', party: 'BUYER', evmAddress: '0x01' });
    expect(parseCertificateClaims(cert)).toMatchObject({
      enrollmentId: 'op',
      role: 'approver',
      party: 'BUYER',
      evmAddress: '0x01',
    });
  });

  it('ignores an unknown role value instead of trusting it', async () => {
    const ca = await makeLocalCa();
    const { cert } = await ca.issue('op', { role: 'superuser' });
    expect(parseCertificateClaims(cert).role).toBeUndefined();
  });

  it('falls back to an OU naming a role when there is no role attribute', async () => {
    const keys = await generateKeyPair();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '0a',
      name: 'CN=aud1, OU=client, OU=auditor',
      keys: keys.webKeys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    });
    expect(parseCertificateClaims(cert.toString('pem'))).toMatchObject({
      enrollmentId: 'aud1',
      role: 'auditor',
      identityType: 'client',
      party: undefined,
      attrs: {},
    });
  });

  it('reports serial and AKI the way fabric-ca-server keys them', async () => {
    const ca = await makeLocalCa();
    const { cert } = await ca.issue('op', {});
    expect(certificateSerialAndAki(cert).serial).toMatch(/^[1-9a-f][0-9a-f]*$/);
  });
});

describe('nodeOusConfig', () => {
  it('maps the four Fabric CA identity types to NodeOUs identifiers under the CA certificate', () => {
    const yaml = nodeOusConfig('cacerts/ca-cert.pem');
    expect(yaml).toMatch(/^NodeOUs:\n {2}Enable: true\n/);
    for (const [key, ou] of [
      ['Client', 'client'],
      ['Peer', 'peer'],
      ['Admin', 'admin'],
      ['Orderer', 'orderer'],
    ]) {
      expect(yaml).toContain(
        `  ${key}OUIdentifier:\n    Certificate: "cacerts/ca-cert.pem"\n    OrganizationalUnitIdentifier: ${ou}\n`,
      );
    }
  });
});
