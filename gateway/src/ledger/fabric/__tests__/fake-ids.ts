/**
 * Signing identities for the Fabric fake: real P-256 keys and X.509 certificates (self-signed,
 * with the Fabric CA attribute extension and OUs like `chaincode/fabric/src/testing/certs.ts`),
 * plus a real fabric-gateway private-key signer. The chaincode parses them exactly as on a peer;
 * the fake checks transaction signatures against them (it does not validate MSP chains).
 *
 * The subject is laid out as Fabric CA lays it out: every OU (identity type and affiliation) in
 * ONE multi-valued RDN, its values in DER SET order, then the CN. A connector that formed the
 * account from another library's DN string would then name a different account than the
 * chaincode, and the tests would fail.
 */
import 'reflect-metadata'; // @peculiar/x509 needs it loaded first
import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import { signers, type Identity, type Signer } from '@hyperledger/fabric-gateway';
import * as x509 from '@peculiar/x509';
import { fabricAccountId } from '@dvp/certs';

x509.cryptoProvider.set(webcrypto as never);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** OID of the Fabric CA attribute extension. */
const FABRIC_ATTR_OID = '1.2.3.4.5.6.7.8.1';

/** What to put in the certificate. */
export interface EnrollSpec {
  readonly mspId: string;
  readonly cn: string;
  /** The OUs, e.g. `['client', 'seller']` (type and affiliation); they go into one RDN. */
  readonly ous?: readonly string[];
  readonly attrs?: Readonly<Record<string, string>>;
}

/** An enrolled identity: what a gateway connects with, and what the chaincode sees. */
export interface FakeIdentity {
  readonly mspId: string;
  readonly certPem: string;
  /** `<mspId>:<subject>` as the chaincode derives it ({@link fabricAccountId}). */
  readonly account: string;
  readonly identity: Identity;
  readonly signer: Signer;
  readonly privateKey: KeyObject;
}

let serial = 1;

/** The subject Fabric CA writes: the OUs in one RDN, in DER order (Go's encoding/asn1 sorts a SET OF). */
function fabricCaSubject(cn: string, ous: readonly string[]): x509.Name {
  const der = (ou: string) => Buffer.from(new x509.Name([{ OU: [ou] }]).toArrayBuffer());
  const sorted = [...ous].sort((a, b) => Buffer.compare(der(a), der(b)));
  return new x509.Name(sorted.length === 0 ? [{ CN: [cn] }] : [{ OU: sorted }, { CN: [cn] }]);
}

/** Creates a key pair and a certificate for `spec`. */
export async function enroll(spec: EnrollSpec): Promise<FakeIdentity> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const extensions: x509.Extension[] = [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)];
  if (spec.attrs !== undefined)
    extensions.push(new x509.Extension(FABRIC_ATTR_OID, false, Buffer.from(JSON.stringify({ attrs: spec.attrs }))));
  serial += 1;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString(16).padStart(2, '0'),
    name: fabricCaSubject(spec.cn, spec.ous ?? []),
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2040-01-01T00:00:00Z'),
    keys,
    signingAlgorithm: ALG,
    extensions,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const certPem = cert.toString('pem');
  return {
    mspId: spec.mspId,
    certPem,
    account: fabricAccountId(spec.mspId, certPem),
    identity: { mspId: spec.mspId, credentials: Buffer.from(certPem) },
    signer: signers.newPrivateKeySigner(privateKey),
    privateKey,
  };
}
