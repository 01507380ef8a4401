/**
 * What a certificate says about its holder: the Fabric CA attribute extension (OID 1.2.3.4.5.6.7.8.1,
 * JSON `{"attrs":{...}}`) and the subject OUs (identity type and affiliation, used by NodeOUs).
 */
import { x509 } from './crypto';

/** OID of the extension in which Fabric CA writes `ecert` attributes. */
export const FABRIC_ATTRS_OID = '1.2.3.4.5.6.7.8.1';

/** Business roles an identity may hold (DESIGN §6: the role decides what it may do). */
export const ROLES = [
  'operator',
  'trader',
  'approver',
  'auditor',
  'gateway',
  'escrow-manager',
  'notary',
  'issuer',
] as const;
export type Role = (typeof ROLES)[number];

/** Fabric identity types; each becomes an OU in the certificate (NodeOUs classify on it). */
export const IDENTITY_TYPES = ['client', 'peer', 'admin', 'orderer'] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number];

/** Attribute names this project registers with `ecert:true`. */
export const ATTR_ROLE = 'role';
export const ATTR_PARTY = 'party';
export const ATTR_EVM_ADDRESS = 'evmAddress';

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function isIdentityType(value: string): value is IdentityType {
  return (IDENTITY_TYPES as readonly string[]).includes(value);
}

/** The claims read from one certificate. Absent claims are `undefined`, never guessed. */
export interface CertificateClaims {
  /** Subject CN: the Fabric CA enrollment id. */
  readonly enrollmentId: string;
  readonly role: Role | undefined;
  readonly party: string | undefined;
  readonly evmAddress: string | undefined;
  readonly identityType: string | undefined;
  readonly affiliation: string | undefined;
  /** Every subject OU, in order. */
  readonly ous: readonly string[];
  /** Every attribute in the Fabric extension (empty when the extension is absent). */
  readonly attrs: Readonly<Record<string, string>>;
}

/** Reads the Fabric attribute extension; `{}` if absent. Throws if it is present but not the expected JSON. */
export function certificateAttributes(cert: x509.X509Certificate): Record<string, string> {
  const ext = cert.extensions.find((e) => e.type === FABRIC_ATTRS_OID);
  if (!ext) return {};
  const parsed: unknown = JSON.parse(Buffer.from(ext.value).toString('utf8'));
  const attrs = (parsed as { attrs?: unknown } | null)?.attrs;
  if (typeof attrs !== 'object' || attrs === null)
    throw new Error(`extension ${FABRIC_ATTRS_OID} has no "attrs" object`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

/**
 * Parses a PEM certificate into its claims. The role comes from the `role` attribute, or else from
 * an OU naming a role (a CA configured with role affiliations); the attribute wins when both exist.
 */
export function parseCertificateClaims(certPem: string | x509.X509Certificate): CertificateClaims {
  const cert = typeof certPem === 'string' ? new x509.X509Certificate(certPem) : certPem;
  const attrs = certificateAttributes(cert);
  const ous = cert.subjectName.getField('OU');
  const cn = cert.subjectName.getField('CN')[0] ?? '';
  const attrRole = attrs[ATTR_ROLE];
  const role = attrRole !== undefined && isRole(attrRole) ? attrRole : ous.find(isRole);
  return {
    enrollmentId: attrs['hf.EnrollmentID'] ?? cn,
    role,
    party: attrs[ATTR_PARTY],
    evmAddress: attrs[ATTR_EVM_ADDRESS],
    identityType: attrs['hf.Type'] ?? ous.find(isIdentityType),
    affiliation: attrs['hf.Affiliation'],
    ous,
    attrs,
  };
}
