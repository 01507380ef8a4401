/**
 * Test identities: real P-256 X.509 certificates, signed by a throwaway CA, carrying the Fabric
 * CA attribute extension (OID 1.2.3.4.5.6.7.8.1, raw JSON `{"attrs":{...}}`) and optional OUs,
 * so the shim's ClientIdentity parses them exactly as it would on a peer. The subject is laid out
 * as Fabric CA lays it out: every OU (identity type and affiliation) in ONE multi-valued RDN, in
 * DER SET order, then the CN; the `account` is what the gateway computes for it (@dvp/certs
 * `fabricAccountId`), so a chaincode and a gateway that disagree fail the tests.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';

import * as x509 from '@peculiar/x509';

// By relative path: the chaincode does not depend on @dvp/certs, and a clean clone needs no build.
import { fabricAccountId } from '../../../../certs/src/fabric-id';

x509.cryptoProvider.set(webcrypto as never);

type KeyPair = webcrypto.CryptoKeyPair;

/** OID of the Fabric CA attribute extension. */
export const FABRIC_ATTR_OID = '1.2.3.4.5.6.7.8.1';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A test identity: what `getCreator()` returns, plus its account id. */
export interface TestIdentity {
  readonly mspId: string;
  readonly certPem: string;
  /** `<mspId>:<subject>` as the chaincode derives it, computed by @dvp/certs `fabricAccountId`. */
  readonly account: string;
}

/** The subject Fabric CA writes: the OUs in one RDN, in DER order (Go's encoding/asn1 sorts a SET OF). */
function fabricCaSubject(cn: string, ous: readonly string[]): x509.Name {
  const der = (ou: string) => Buffer.from(new x509.Name([{ OU: [ou] }]).toArrayBuffer());
  const sorted = [...ous].sort((a, b) => Buffer.compare(der(a), der(b)));
  return new x509.Name(sorted.length === 0 ? [{ CN: [cn] }] : [{ OU: sorted }, { CN: [cn] }]);
}

/** What to put in a test certificate. */
export interface IdentitySpec {
  readonly mspId: string;
  readonly cn: string;
  /** Subject OUs, all in one RDN: the Fabric node OU type (`client`), affiliation parts, or roles. */
  readonly ous?: readonly string[];
  /** Attributes for the Fabric CA extension, e.g. `{ role: 'issuer' }`. */
  readonly attrs?: Readonly<Record<string, string>>;
}

/** A throwaway CA that signs test identities. */
export class TestCa {
  readonly #keys: KeyPair;
  readonly #cert: x509.X509Certificate;
  #serial = 1;

  private constructor(keys: KeyPair, cert: x509.X509Certificate) {
    this.#keys = keys;
    this.#cert = cert;
  }

  /** Creates a self-signed CA named `cn`. */
  static async create(cn = 'test-ca'): Promise<TestCa> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: `CN=${cn}`,
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2040-01-01T00:00:00Z'),
      keys,
      signingAlgorithm: ALG,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
    return new TestCa(keys, cert);
  }

  /** Issues an identity certificate as described by `spec`. */
  async issue(spec: IdentitySpec): Promise<TestIdentity> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
    const extensions: x509.Extension[] = [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)];
    if (spec.attrs !== undefined) {
      const json = JSON.stringify({ attrs: spec.attrs });
      extensions.push(new x509.Extension(FABRIC_ATTR_OID, false, Buffer.from(json, 'utf8')));
    }
    this.#serial += 1;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: this.#serial.toString(16).padStart(2, '0'),
      subject: fabricCaSubject(spec.cn, spec.ous ?? []),
      issuer: this.#cert.subject,
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2040-01-01T00:00:00Z'),
      signingKey: this.#keys.privateKey,
      publicKey: keys.publicKey,
      signingAlgorithm: ALG,
      extensions,
    });
    const certPem = cert.toString('pem');
    return { mspId: spec.mspId, certPem, account: fabricAccountId(spec.mspId, certPem) };
  }
}
