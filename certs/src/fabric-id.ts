/**
 * The id a Fabric peer gives an X.509 identity, formed exactly as fabric-shim's `ClientIdentity`
 * forms it (`fabric-shim/lib/chaincode.js`, `formatDN`): the same PEM normalisation, the same
 * parser (@fidm/x509), the same attribute names and the same escaping. The securities chaincode
 * derives an identity's account from that id, so anything off the peer that names such an account
 * must compute it here rather than from another library's DN string.
 */
import { Certificate, type DistinguishedName } from '@fidm/x509';

import { CertsError } from './errors';

/** fabric-shim's `normalizeX509`: from the first BEGIN line to the last END line, each on its own line. */
const PEM_ARMOUR = /(-----\s*BEGIN ?[^-]+?-----)([\s\S]*)(-----\s*END ?[^-]+?-----)/;

function parseCertificate(certificatePem: string | Uint8Array): Certificate {
  const text = typeof certificatePem === 'string' ? certificatePem : new TextDecoder().decode(certificatePem);
  const match = PEM_ARMOUR.exec(text);
  if (match === null) throw new CertsError('invalid_input', 'no PEM certificate (BEGIN/END lines not found)');
  const normalised = `${match
    .slice(1)
    .map((part) => part.trim())
    .join('\n')}\n`;
  try {
    return Certificate.fromPEM(Buffer.from(normalised, 'utf8'));
  } catch (err) {
    throw new CertsError('invalid_input', `not a readable X.509 certificate: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Every attribute of every RDN, in certificate order, as `/<shortName>=<value>`. A multi-valued RDN
 * (Fabric CA writes the identity type and affiliation OUs into one: `OU=client + OU=seller`) gives
 * one `/OU=` per value, in the order the SET is encoded. Only the FIRST `/` of a value is escaped
 * (`value.replace('/', '\\/')` in the shim), so `CN=a/b/c` gives `/CN=a\/b/c`.
 */
function formatDn(dn: DistinguishedName): string {
  return dn.attributes
    .map((attribute) => {
      const value: unknown = attribute.value;
      if (typeof value !== 'string') {
        throw new CertsError('invalid_input', `subject attribute ${attribute.oid} has no string value`);
      }
      return `/${attribute.shortName}=${value.replace('/', '\\/')}`;
    })
    .join('');
}

/**
 * The subject part of fabric-shim's `ClientIdentity.getID()` (`x509::<subject>::<issuer>`) for a
 * certificate, e.g. `/OU=client/OU=seller/CN=trader`. Not the RFC 4514 string Node or
 * @peculiar/x509 print (`OU=client + OU=seller, CN=trader`), which differs for multi-valued RDNs
 * and for values containing `/`.
 *
 * @param certificatePem - the PEM certificate, as text or as its UTF-8 bytes (what a Fabric
 *   `SerializedIdentity` or a fabric-gateway `Identity` carries)
 * @throws {@link CertsError} `invalid_input` when there is no readable PEM certificate
 */
export function fabricSubjectId(certificatePem: string | Uint8Array): string {
  return formatDn(parseCertificate(certificatePem).subject);
}

/**
 * The securities chaincode's account of an identity: `<mspId>:<subject>`, the subject as
 * {@link fabricSubjectId} (and so the shim's `getID()`) forms it, e.g.
 * `SellerBankMSP:/OU=client/OU=seller/CN=trader`. This is the account the chaincode binds to a
 * caller, so a gateway that computed it otherwise would address an account its own identity does
 * not own.
 *
 * @param mspId - the identity's MSP ID
 * @param certificatePem - the PEM certificate, as text or as its UTF-8 bytes
 * @throws {@link CertsError} `invalid_input` when there is no readable PEM certificate
 */
export function fabricAccountId(mspId: string, certificatePem: string | Uint8Array): string {
  return `${mspId}:${fabricSubjectId(certificatePem)}`;
}
