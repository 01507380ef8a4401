/** Public API of `@dvp/certs`: CA server launcher, CA client, wallet, attributes, directory, Fabric ids. */
export { startCaServer, stopProcess, isAlive, DEFAULT_CA_SERVER_BINARY } from './ca-server';
export { nodeOusConfig } from './ca-config';
export type { CaServerOptions, CaServerHandle } from './ca-server';
export { connectCa, DEFAULT_ATTRIBUTE_REQUESTS } from './ca-client';
export type {
  CaClient,
  CaClientOptions,
  CaInfo,
  Enrollment,
  EnrollRequest,
  IdentityInfo,
  RegisterRequest,
  RevocationReason,
  RevokeResult,
  RevokeTarget,
  Signer,
} from './ca-client';
export { httpsTransport } from './transport';
export type { Transport, TransportRequest, TransportResponse } from './transport';
export { createAuthToken } from './token';
export {
  ATTR_EVM_ADDRESS,
  ATTR_PARTY,
  ATTR_ROLE,
  FABRIC_ATTRS_OID,
  IDENTITY_TYPES,
  ROLES,
  certificateAttributes,
  isIdentityType,
  isRole,
  parseCertificateClaims,
} from './attributes';
export type { CertificateClaims, IdentityType, Role } from './attributes';
export { identityRecord, listWallet, loadIdentity, saveIdentity } from './wallet';
export type { IdentityRecord, WalletIdentity } from './wallet';
export { partyOfCertificate, signDirectory, verifyDirectory } from './directory';
export { canonicalHash, canonicalJson, type CanonicalOptions } from './canonical';
export { freePort } from './net';
export type { Directory, DirectoryEntry, SignedDirectory } from './directory';
export { certificateFingerprint, certificateSerialAndAki, generateKeyPair, signLowS } from './crypto';
export { checkRevocation } from './crl';
export type { RevocationStatus } from './crl';
export { fabricAccountId, fabricSubjectId } from './fabric-id';
export { CaRequestError, CertsError, CERTS_ERROR_TITLES } from './errors';
export type { CaErrorDetail, CertsErrorCode } from './errors';
