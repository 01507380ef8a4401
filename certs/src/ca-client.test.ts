import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey, webcrypto } from 'node:crypto';
import { createServer as createHttpsServer, get as httpsGet } from 'node:https';
import type { AddressInfo, LookupFunction } from 'node:net';
import { parseCertificateClaims } from './attributes';
import { connectCa, type CaClient, type Enrollment } from './ca-client';
import { checkRevocation } from './crl';
import {
  certificateFingerprint,
  certificateSerialAndAki,
  generateKeyPair,
  privateKeyFromPem,
  privateKeyToPem,
  x509,
} from './crypto';
import { partyOfCertificate, signDirectory, verifyDirectory, type Directory } from './directory';
import { CaRequestError } from './errors';
import { httpsTransport, type TransportRequest } from './transport';
import { loadIdentity, saveIdentity } from './wallet';
import { makeLocalCa, startTestCa, type TestCa } from './__tests__/fixtures';

jest.setTimeout(30_000);

const EVM = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

/** Resolves every name to 127.0.0.1 (`localhost` may resolve to ::1 first). */
const loopback: LookupFunction = (_host, options, callback) => {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

describe('Fabric CA client against a real fabric-ca-server', () => {
  let ca: TestCa;
  let client: CaClient;
  let tlsCert: string;
  let registrar: Enrollment;

  beforeAll(async () => {
    ca = await startTestCa('seller');
    tlsCert = readFileSync(ca.handle.tlsCertFile, 'utf8');
    client = connectCa({ url: ca.handle.url, tlsTrustedCert: tlsCert, caName: ca.caName });
    registrar = await client.enroll({ enrollmentId: ca.registrar.id, secret: ca.registrar.secret });
  });
  afterAll(async () => {
    await ca?.stop();
  });

  describe('cainfo', () => {
    it('returns the CA name and the chain of the CA certificate file', async () => {
      const info = await client.cainfo();
      expect(info.caName).toBe('ca-seller');
      expect(info.caChain.trim()).toBe(readFileSync(ca.handle.caCertFile, 'utf8').trim());
    });

    it('refuses a server whose TLS certificate is not the trusted one', async () => {
      const rogue = await makeLocalCa();
      const untrusting = connectCa({ url: ca.handle.url, tlsTrustedCert: rogue.cert, caName: ca.caName });
      await expect(untrusting.cainfo()).rejects.toMatchObject({ code: 'ca_transport' });
    });
  });

  describe('onboarding an operator', () => {
    let operator: Enrollment;

    it('registers, enrolls with role/party/evmAddress in the certificate, and the parser reads them', async () => {
      const { secret } = await client.register(registrar, {
        enrollmentId: 'seller-op1',
        type: 'client',
        affiliation: 'seller.operations',
        role: 'operator',
        party: 'SELLER',
        evmAddress: EVM,
      });
      expect(secret.length).toBeGreaterThan(8);
      operator = await client.enroll({ enrollmentId: 'seller-op1', secret });
      const claims = parseCertificateClaims(operator.certificate);
      expect(claims).toMatchObject({
        enrollmentId: 'seller-op1',
        role: 'operator',
        party: 'SELLER',
        evmAddress: EVM,
        identityType: 'client',
        affiliation: 'seller.operations',
      });
      expect(claims.ous).toEqual(expect.arrayContaining(['client', 'seller', 'operations']));
      // Issued by this CA, for the key generated here.
      const cert = new x509.X509Certificate(operator.certificate);
      expect(
        await cert.verify({ publicKey: new x509.X509Certificate(readFileSync(ca.handle.caCertFile, 'utf8')) }),
      ).toBe(true);
      const certKey = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
      expect(certKey.export({ format: 'jwk' })).toEqual(createPublicKey(operator.privateKey).export({ format: 'jwk' }));
    });

    it('reenrolls with a new key and keeps the attributes', async () => {
      const renewed = await client.reenroll(operator, 'seller-op1');
      expect(certificateSerialAndAki(renewed.certificate).serial).not.toBe(
        certificateSerialAndAki(operator.certificate).serial,
      );
      expect(createPublicKey(renewed.privateKey).export({ format: 'jwk' })).not.toEqual(
        createPublicKey(operator.privateKey).export({ format: 'jwk' }),
      );
      expect(parseCertificateClaims(renewed.certificate)).toMatchObject({ role: 'operator', party: 'SELLER' });
      operator = renewed;
    });

    it('lists the operator among the CA identities with its attributes', async () => {
      const ids = await client.listIdentities(registrar);
      const op = ids.find((i) => i.id === 'seller-op1');
      expect(op?.attrs).toEqual(expect.arrayContaining([{ name: 'role', value: 'operator', ecert: true }]));
    });

    it('revokes by enrollment id and the CRL lists every certificate of the operator', async () => {
      const first = certificateSerialAndAki(operator.certificate);
      const res = await client.revoke(registrar, { enrollmentId: 'seller-op1' }, 'keycompromise');
      expect(res.revoked.map((c) => c.serial)).toContain(first.serial);
      expect(res.revoked).toHaveLength(2); // the enrollment and the reenrollment
      const crl = new x509.X509Crl(await client.gencrl(registrar));
      expect(
        await crl.verify({ publicKey: new x509.X509Certificate(readFileSync(ca.handle.caCertFile, 'utf8')) }),
      ).toBe(true);
      const entry = crl.findRevoked(new x509.X509Certificate(operator.certificate));
      expect(entry).not.toBeNull();
      expect(crl.entries.map((e) => e.serialNumber.toLowerCase().replace(/^0+/, ''))).toEqual(
        expect.arrayContaining(res.revoked.map((c) => c.serial.replace(/^0+/, ''))),
      );
      // What a gateway does with it.
      const caCert = readFileSync(ca.handle.caCertFile, 'utf8');
      const crlPem = crl.toString('pem');
      await expect(checkRevocation(operator.certificate, crlPem, caCert)).resolves.toMatchObject({ revoked: true });
      await expect(checkRevocation(registrar.certificate, crlPem, caCert)).resolves.toMatchObject({ revoked: false });
      const rogue = await makeLocalCa();
      await expect(checkRevocation(operator.certificate, crlPem, rogue.cert)).rejects.toMatchObject({
        code: 'invalid_input',
      });
      const tomorrow = new Date(Date.now() + 25 * 3600 * 1000);
      await expect(checkRevocation(registrar.certificate, crlPem, caCert, tomorrow)).rejects.toMatchObject({
        message: expect.stringMatching(/^CRL expired at /),
      });
    });

    it('refuses requests signed by the revoked certificate', async () => {
      await expect(client.reenroll(operator, 'seller-op1')).rejects.toMatchObject({ code: 'ca_auth', status: 401 });
    });
  });

  describe('revoking a single certificate by serial and AKI', () => {
    it('returns a CRL listing that serial when asked to', async () => {
      const { secret } = await client.register(registrar, {
        enrollmentId: 'seller-gw',
        type: 'client',
        role: 'gateway',
        party: 'SELLER',
      });
      const gw = await client.enroll({ enrollmentId: 'seller-gw', secret });
      const target = certificateSerialAndAki(gw.certificate);
      const res = await client.revoke(registrar, target, 'superseded', true);
      expect(res.revoked).toEqual([target]);
      expect(new x509.X509Crl(res.crl ?? '').findRevoked(target.serial.padStart(2, '0'))).not.toBeNull();
    });
  });

  describe('enroll', () => {
    it('sends only a CSR: no private key material leaves the process', async () => {
      const { secret } = await client.register(registrar, {
        enrollmentId: 'seller-trader',
        type: 'client',
        role: 'trader',
        party: 'SELLER',
      });
      const sent: TransportRequest[] = [];
      const real = httpsTransport(tlsCert);
      const recording = connectCa({
        url: ca.handle.url,
        tlsTrustedCert: tlsCert,
        caName: ca.caName,
        transport: (req) => (sent.push(req), real(req)),
      });
      const trader = await recording.enroll({ enrollmentId: 'seller-trader', secret });

      expect(sent).toHaveLength(1);
      const body = sent[0]?.body ?? '';
      const parsed = JSON.parse(body) as Record<string, unknown>;
      expect(Object.keys(parsed).sort()).toEqual(['attr_reqs', 'caname', 'certificate_request']);
      expect(parsed['certificate_request']).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
      expect(body).not.toMatch(/PRIVATE KEY/);
      const jwk = trader.privateKey.export({ format: 'jwk' });
      const d = Buffer.from(jwk.d ?? '', 'base64url');
      for (const encoding of ['hex', 'base64', 'base64url'] as const) expect(body).not.toContain(d.toString(encoding));
      const pkcs8 = trader.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
      expect(body).not.toContain(pkcs8.slice(40, 80));
      // The CSR carries the public key of the key that stayed here.
      const csr = new x509.Pkcs10CertificateRequest(parsed['certificate_request'] as string);
      const csrJwk = await webcrypto.subtle.exportKey('jwk', await csr.publicKey.export());
      expect(csrJwk.x).toBe(jwk.x);
    });

    it('reports a wrong secret as an authentication failure', async () => {
      const err = await client.enroll({ enrollmentId: 'seller-trader', secret: 'wrong' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CaRequestError);
      expect(err).toMatchObject({ code: 'ca_auth', status: 401, endpoint: 'enroll' });
    });
  });

  describe('enrolling a TLS server certificate', () => {
    let tls: Enrollment;
    let sent: TransportRequest[];

    beforeAll(async () => {
      const { secret } = await client.register(registrar, {
        enrollmentId: 'seller-gateway-tls',
        type: 'client',
        role: 'gateway',
        party: 'SELLER',
      });
      sent = [];
      const real = httpsTransport(tlsCert);
      const recording = connectCa({
        url: ca.handle.url,
        tlsTrustedCert: tlsCert,
        caName: ca.caName,
        transport: (req) => (sent.push(req), real(req)),
      });
      tls = await recording.enroll({
        enrollmentId: 'seller-gateway-tls',
        secret,
        hosts: ['127.0.0.1', 'localhost'],
        profile: 'tls',
      });
    });

    it('requests the names in the CSR and in the hosts field, with the tls profile', () => {
      const body = JSON.parse(sent[0]?.body ?? '{}') as Record<string, unknown>;
      expect(body).toMatchObject({ hosts: ['127.0.0.1', 'localhost'], profile: 'tls' });
      const csr = new x509.Pkcs10CertificateRequest(body['certificate_request'] as string);
      const san = csr.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension);
      expect((san as x509.SubjectAlternativeNameExtension | undefined)?.names.toJSON()).toEqual([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]);
    });

    it('gets a certificate with those subject alternative names and the serverAuth usage', () => {
      const cert = new x509.X509Certificate(tls.certificate);
      const names = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
      expect(names).toEqual(
        expect.arrayContaining([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
      );
      expect(names).toHaveLength(2);
      const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String) ?? [];
      expect(eku).toEqual(expect.arrayContaining([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]));
      expect(parseCertificateClaims(tls.certificate)).toMatchObject({ enrollmentId: 'seller-gateway-tls' });
    });

    it('lets a TLS client that trusts only the CA connect to 127.0.0.1 and to localhost', async () => {
      const server = createHttpsServer({ cert: tls.certificate, key: privateKeyToPem(tls.privateKey) }, (_req, res) =>
        res.end('ok'),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const trust = readFileSync(ca.handle.caCertFile, 'utf8');
      const get = (host: string) =>
        new Promise<string>((resolve, reject) => {
          httpsGet({ host, port, path: '/', ca: trust, agent: false, lookup: loopback }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve(text));
          }).on('error', reject);
        });
      try {
        await expect(get('127.0.0.1')).resolves.toBe('ok');
        await expect(get('localhost')).resolves.toBe('ok');
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('without hosts, the certificate has no subject alternative names', async () => {
      const { secret } = await client.register(registrar, { enrollmentId: 'seller-no-san', type: 'client' });
      const plain = await client.enroll({ enrollmentId: 'seller-no-san', secret });
      expect(new x509.X509Certificate(plain.certificate).getExtension(x509.SubjectAlternativeNameExtension)).toBeNull();
    });
  });

  describe('token authentication', () => {
    it('is rejected when the key does not match the certificate, with a clear message', async () => {
      const other = await generateKeyPair();
      const err = await client
        .listIdentities({ certificate: registrar.certificate, privateKey: other.privateKey })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CaRequestError);
      expect(err).toMatchObject({ code: 'ca_auth', status: 401, endpoint: 'identities' });
      expect((err as Error).message).toMatch(
        /^fabric-ca-server refused the credentials: identities: HTTP 401: .*\(code 20\)/,
      );
      expect((err as Error).message).toMatch(/key\.pem matches cert\.pem/);
    });

    it('is rejected for a certificate from another CA', async () => {
      const rogue = await makeLocalCa();
      const fake = await rogue.issue(ca.registrar.id, { 'hf.EnrollmentID': ca.registrar.id });
      await expect(
        client.gencrl({ certificate: fake.cert, privateKey: privateKeyFromPem(fake.key) }),
      ).rejects.toMatchObject({ code: 'ca_auth', status: 401 });
    });

    it('surfaces authorisation errors of the CA with its code and message', async () => {
      const err = await client
        .register(registrar, { enrollmentId: 'x', type: 'client', affiliation: 'buyer.operations' })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ca_forbidden', endpoint: 'register', status: 403 });
      expect((err as CaRequestError).details).toEqual([{ code: 71, message: 'Authorization failure' }]);
    });
  });

  describe('wallet', () => {
    it('stores cert, key (0600), chain and identity.json, and loads a working signer back', async () => {
      const wallet = join(ca.dir, 'wallet');
      const record = saveIdentity(wallet, 'registrar', 'SellerBankMSP', registrar);
      expect(statSync(join(wallet, 'registrar', 'key.pem')).mode & 0o777).toBe(0o600);
      // The bootstrap registrar is a client: it registers and revokes but is no MSP admin of its org.
      expect(record).toMatchObject({ mspId: 'SellerBankMSP', enrollmentId: 'registrar', identityType: 'client' });
      expect(record.fingerprint).toBe(certificateFingerprint(registrar.certificate));
      const json = readFileSync(join(wallet, 'registrar', 'identity.json'), 'utf8');
      expect(json).not.toMatch(/PRIVATE|secret/i);
      const loaded = loadIdentity(wallet, 'registrar');
      expect(loaded.record).toEqual(record);
      expect((await client.listIdentities(loaded)).map((i) => i.id)).toContain('registrar');
    });
  });

  describe('directory with CA-issued certificates', () => {
    it('maps an enrolled certificate to its party and rejects the look-alike from another CA', async () => {
      const { secret } = await client.register(registrar, {
        enrollmentId: 'seller-gw2',
        type: 'client',
        role: 'gateway',
        party: 'SELLER',
        evmAddress: EVM,
      });
      const gw = await client.enroll({ enrollmentId: 'seller-gw2', secret });
      const authority = await generateKeyPair();
      const directory: Directory = {
        version: 1,
        issuedAt: 1_800_000_000,
        parties: {
          SELLER: {
            mspId: 'SellerBankMSP',
            certificateFingerprints: [certificateFingerprint(gw.certificate)],
            evmAddress: EVM,
            gatewayUrl: 'https://127.0.0.1:18443',
          },
        },
      };
      const verified = verifyDirectory(
        signDirectory(directory, authority.privateKey),
        createPublicKey(authority.privateKey),
      );
      expect(partyOfCertificate(verified, gw.certificate).party).toBe('SELLER');
      const rogue = await makeLocalCa();
      const lookAlike = await rogue.issue('seller-gw2', parseCertificateClaims(gw.certificate).attrs);
      expect(() => partyOfCertificate(verified, lookAlike.cert)).toThrow(
        expect.objectContaining({ code: 'directory_unknown_certificate' }),
      );
    });
  });
});
