import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ClientIdentity, type ChaincodeStub } from 'fabric-shim';
import { connectCa, type CaClient, type Enrollment } from './ca-client';
import { generateKeyPair, x509 } from './crypto';
import { CertsError } from './errors';
import { fabricAccountId, fabricSubjectId } from './fabric-id';
import { startTestCa, type TestCa } from './__tests__/fixtures';

jest.setTimeout(30_000);

const ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A CA in memory that issues certificates with any subject, given as @peculiar/x509 JSON RDNs. */
async function localCa(): Promise<{ pem: string; issue(subject: x509.JsonName): Promise<string> }> {
  const keys = await generateKeyPair();
  const caName = new x509.Name([{ C: ['CH'] }, { O: ['seller.example.com'] }, { CN: ['ca.seller.example.com'] }]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: caName,
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2040-01-01T00:00:00Z'),
    keys: keys.webKeys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  let serial = 1;
  return {
    pem: ca.toString('pem'),
    async issue(subject) {
      const leaf = await generateKeyPair();
      serial += 1;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial.toString(16).padStart(2, '0'),
        subject: new x509.Name(subject),
        issuer: ca.subject,
        notBefore: new Date('2020-01-01T00:00:00Z'),
        notAfter: new Date('2040-01-01T00:00:00Z'),
        publicKey: leaf.webKeys.publicKey,
        signingKey: keys.webKeys.privateKey,
        signingAlgorithm: ALG,
      });
      return cert.toString('pem');
    },
  };
}

/** What fabric-shim itself makes of a creator `{ mspid, idBytes }`, as on a peer. */
function shimIdentity(mspId: string, certPem: string): ClientIdentity {
  const stub = {
    getChannelID: () => 'dvp',
    getTxID: () => 'tx-account-id',
    getCreator: () => ({ mspid: mspId, idBytes: Buffer.from(certPem, 'utf8') }),
  };
  return new ClientIdentity(stub as unknown as ChaincodeStub);
}

/** The chaincode's account of a shim identity: MSP ID + the subject part of `getID()`. */
function shimAccount(identity: ClientIdentity): string {
  const subject = /^x509::(.*)::(.*)$/s.exec(identity.getID())?.[1];
  return `${identity.getMSPID()}:${subject ?? ''}`;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('fabricSubjectId', () => {
  let ca: Awaited<ReturnType<typeof localCa>>;
  beforeAll(async () => {
    ca = await localCa();
  });

  it('gives one /OU= per value of a multi-valued RDN, where Node prints the RDN as one "OU=a + OU=b"', async () => {
    const pem = await ca.issue([{ OU: ['client', 'seller'] }, { CN: ['trader'] }]);
    expect(fabricSubjectId(pem)).toBe('/OU=client/OU=seller/CN=trader');
    expect(new X509Certificate(pem).subject).toBe('OU=client + OU=seller\nCN=trader');
  });

  it('keeps the values of a multi-valued RDN in the order the SET is encoded', async () => {
    const pem = await ca.issue([{ OU: ['buyer', 'client'] }, { CN: ['trader'] }]);
    expect(fabricSubjectId(pem)).toBe('/OU=buyer/OU=client/CN=trader');
  });

  it('escapes only the first slash of a value, as fabric-shim does', async () => {
    expect(fabricSubjectId(await ca.issue([{ CN: ['desk/one'] }]))).toBe('/CN=desk\\/one');
    expect(fabricSubjectId(await ca.issue([{ CN: ['desk/one/two'] }]))).toBe('/CN=desk\\/one/two');
  });

  it('reads the certificate from its UTF-8 bytes and from CRLF text with words around it', async () => {
    const pem = await ca.issue([{ OU: ['client', 'seller'] }, { CN: ['trader'] }]);
    const crlf = `subject: trader\r\n${pem.replace(/\n/g, '\r\n')}\r\ntrailing words`;
    expect(fabricSubjectId(Buffer.from(pem, 'utf8'))).toBe('/OU=client/OU=seller/CN=trader');
    expect(fabricSubjectId(crlf)).toBe('/OU=client/OU=seller/CN=trader');
  });

  it('refuses text without BEGIN and END lines with invalid_input', () => {
    const err = thrown(() => fabricSubjectId('not a certificate'));
    expect(err).toBeInstanceOf(CertsError);
    expect(err).toMatchObject({
      code: 'invalid_input',
      message: 'no PEM certificate (BEGIN/END lines not found)',
    });
  });

  it('refuses a PEM block that is not a certificate with invalid_input', async () => {
    const keys = await generateKeyPair();
    const publicKeyPem = createPublicKey(keys.privateKey).export({ format: 'pem', type: 'spki' }).toString();
    const err = thrown(() => fabricSubjectId(publicKeyPem));
    expect(err).toBeInstanceOf(CertsError);
    expect(err).toMatchObject({
      code: 'invalid_input',
      message: 'not a readable X.509 certificate: Could not convert certificate from PEM: invalid type',
    });
  });
});

describe('fabricAccountId', () => {
  it('is the MSP ID, a colon and the subject id', async () => {
    const ca = await localCa();
    const pem = await ca.issue([{ OU: ['client', 'seller'] }, { CN: ['trader'] }]);
    expect(fabricAccountId('SellerBankMSP', pem)).toBe('SellerBankMSP:/OU=client/OU=seller/CN=trader');
  });
});

describe('agreement with fabric-shim ClientIdentity', () => {
  describe('on Fabric-CA-style certificates (type and affiliation OUs in one RDN)', () => {
    let ca: Awaited<ReturnType<typeof localCa>>;
    beforeAll(async () => {
      ca = await localCa();
    });

    const SUBJECTS: readonly (readonly [string, x509.JsonName])[] = [
      ['type + affiliation', [{ OU: ['client', 'seller'] }, { CN: ['trader'] }]],
      ['affiliation sorted before the type', [{ OU: ['buyer', 'client'] }, { CN: ['trader'] }]],
      ['type + dotted affiliation', [{ OU: ['client', 'seller', 'operations'] }, { CN: ['seller-op1'] }]],
      ['a CN with one slash', [{ OU: ['client', 'seller'] }, { CN: ['desk/one'] }]],
      ['a CN with two slashes', [{ OU: ['client', 'seller'] }, { CN: ['desk/one/two'] }]],
      ['a CN posing as an OU', [{ OU: ['client'] }, { CN: ['mallory/OU=admin'] }]],
      [
        'C, ST, O before the OUs',
        [{ C: ['CH'] }, { ST: ['Zurich'] }, { O: ['Seller'] }, { OU: ['peer', 'seller'] }, { CN: ['peer0'] }],
      ],
      ['no OU at all', [{ CN: ['nobody'] }]],
    ];

    it.each(SUBJECTS)('gives the account the shim gives for %s', async (_name, subject) => {
      const pem = await ca.issue(subject);
      const shim = shimIdentity('SellerBankMSP', pem);
      expect(fabricAccountId('SellerBankMSP', pem)).toBe(shimAccount(shim));
      expect(shim.getID()).toBe(`x509::${fabricSubjectId(pem)}::${fabricSubjectId(ca.pem)}`);
    });
  });

  describe('on certificates issued by a real fabric-ca-server', () => {
    let testCa: TestCa;
    let client: CaClient;
    let registrar: Enrollment;

    beforeAll(async () => {
      testCa = await startTestCa('buyer');
      const tlsTrustedCert = readFileSync(testCa.handle.tlsCertFile, 'utf8');
      client = connectCa({ url: testCa.handle.url, tlsTrustedCert, caName: testCa.caName });
      registrar = await client.enroll({ enrollmentId: testCa.registrar.id, secret: testCa.registrar.secret });
    });
    afterAll(async () => {
      await testCa?.stop();
    });

    const IDENTITIES = [
      { enrollmentId: 'trader', type: 'client', affiliation: 'buyer', account: '/OU=buyer/OU=client/CN=trader' },
      {
        enrollmentId: 'buyer-op1',
        type: 'client',
        affiliation: 'buyer.operations',
        account: '/OU=buyer/OU=client/OU=operations/CN=buyer-op1',
      },
      { enrollmentId: 'peer0', type: 'peer', affiliation: 'buyer', account: '/OU=peer/OU=buyer/CN=peer0' },
      { enrollmentId: 'desk/one', type: 'client', affiliation: 'buyer', account: '/OU=buyer/OU=client/CN=desk\\/one' },
      {
        enrollmentId: 'desk/one/two',
        type: 'client',
        affiliation: 'buyer.trading',
        account: '/OU=buyer/OU=client/OU=trading/CN=desk\\/one/two',
      },
    ] as const;

    it.each(IDENTITIES)(
      'gives $account, as the shim does, for $enrollmentId ($type of $affiliation)',
      async ({ enrollmentId, type, affiliation, account }) => {
        const { secret } = await client.register(registrar, { enrollmentId, type, affiliation });
        const { certificate } = await client.enroll({ enrollmentId, secret });
        expect(fabricAccountId('BuyerBankMSP', certificate)).toBe(`BuyerBankMSP:${account}`);
        expect(fabricAccountId('BuyerBankMSP', certificate)).toBe(
          shimAccount(shimIdentity('BuyerBankMSP', certificate)),
        );
      },
    );

    it('gives the shim id of the registrar, whose issuer is the CA certificate', () => {
      const caPem = readFileSync(testCa.handle.caCertFile, 'utf8');
      const shim = shimIdentity('BuyerBankMSP', registrar.certificate);
      expect(shim.getID()).toBe(`x509::${fabricSubjectId(registrar.certificate)}::${fabricSubjectId(caPem)}`);
    });
  });
});
