/**
 * Test identities: real P-256 X.509 certificates, signed by a throwaway CA, carrying the Fabric
 * CA attribute extension (OID 1.2.3.4.5.6.7.8.1, raw JSON `{"attrs":{...}}`) and optional OUs,
 * so the shim's ClientIdentity parses them exactly as it would on a peer.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';

import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

type KeyPair = webcrypto.CryptoKeyPair;

/** OID of the Fabric CA attribute extension. */
export const FABRIC_ATTR_OID = '1.2.3.4.5.6.7.8.1';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A test identity: what `getCreator()` returns, plus its account id. */
export interface TestIdentity {
  readonly mspId: string;
  readonly certPem: string;
  /** `<mspId>:<subject>` as the chaincode derives it. */
  readonly account: string;
}

/** What to put in a test certificate. */
export interface IdentitySpec {
  readonly mspId: string;
  readonly cn: string;
  /** Subject OUs (Fabric node OUs such as `client`, or roles). */
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
    const ous = (spec.ous ?? []).map((ou) => `OU=${ou}`);
    const name = [...ous, `CN=${spec.cn}`].join(', ');
    const extensions: x509.Extension[] = [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)];
    if (spec.attrs !== undefined) {
      const json = JSON.stringify({ attrs: spec.attrs });
      extensions.push(new x509.Extension(FABRIC_ATTR_OID, false, Buffer.from(json, 'utf8')));
    }
    this.#serial += 1;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: this.#serial.toString(16).padStart(2, '0'),
      subject: name,
      issuer: this.#cert.subject,
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2040-01-01T00:00:00Z'),
      signingKey: this.#keys.privateKey,
      publicKey: keys.publicKey,
      signingAlgorithm: ALG,
      extensions,
    });
    const subject = [...(spec.ous ?? []).map((ou) => `/OU=${ou}`), `/CN=${spec.cn}`].join('');
    return { mspId: spec.mspId, certPem: cert.toString('pem'), account: `${spec.mspId}:${subject}` };
  }
}
