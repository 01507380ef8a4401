/**
 * Who is calling: MSP id and certificate subject from the transaction creator, roles from the
 * Fabric CA attribute extension (OID 1.2.3.4.5.6.7.8.1, `{"attrs":{"role":...}}`) and the
 * subject's OUs. Identity-bound accounts are derived from MSP id + subject, so the same person
 * re-enrolled with a new key keeps the same account.
 */
import { X509Certificate } from 'node:crypto';

import type { Context } from 'fabric-contract-api';

import { fail } from './errors';

/** The invoking identity, as the chaincode sees it. */
export interface Caller {
  readonly mspId: string;
  /** Subject DN in Fabric's `/C=../OU=../CN=..` form. */
  readonly subject: string;
  /** The account bound to this identity: `<mspId>:<subject>`. */
  readonly account: string;
  /** Roles from the `role` attribute (comma-separated allowed) and from every subject OU. */
  readonly roles: readonly string[];
}

/** The account id bound to an identity. */
export function identityAccount(mspId: string, subject: string): string {
  return `${mspId}:${subject}`;
}

/** True when `account` has the identity-bound form `<mspId>:/...`. */
export function isIdentityAccount(account: string): boolean {
  return /^[A-Za-z0-9._-]{1,128}:\/[^\u0000]{1,1024}$/.test(account);
}

/** Explicit (registered) account ids: short, no `:` or `/`, so they never collide with identities. */
export function isExplicitAccount(account: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(account);
}

/**
 * The OU values of the caller's certificate, from its parsed subject. Never from the DN string
 * `getID()` formats: the shim escapes only the first `/` of a value, so a CN such as
 * `mallory/OU=admin` would read as an `admin` OU there.
 */
function subjectOus(ctx: Context, mspId: string): string[] {
  const pem = Buffer.from(ctx.clientIdentity.getIDBytes()).toString('utf8');
  const body = /-----BEGIN[^-]*-----([\s\S]*?)-----END[^-]*-----/.exec(pem)?.[1];
  let ou: string | string[] | undefined;
  try {
    const der = Buffer.from((body ?? '').replace(/\s+/g, ''), 'base64');
    ou = new X509Certificate(der).toLegacyObject().subject['OU'];
  } catch {
    fail('NOT_AUTHORIZED', 'caller certificate cannot be parsed', { mspId });
  }
  return (typeof ou === 'string' ? [ou] : (ou ?? [])).map((v) => v.trim()).filter((v) => v !== '');
}

/** Reads the caller from the transaction context. */
export function callerOf(ctx: Context): Caller {
  const mspId = ctx.clientIdentity.getMSPID();
  // getID() is `x509::<subject>::<issuer>`; the subject is everything up to the last `::`.
  const match = /^x509::(.*)::(.*)$/s.exec(ctx.clientIdentity.getID());
  const subject = match?.[1];
  if (subject === undefined || subject === '') fail('NOT_AUTHORIZED', 'caller has no X.509 subject', { mspId });
  const roles = new Set<string>();
  const attr = ctx.clientIdentity.getAttributeValue('role');
  for (const role of (attr ?? '').split(',')) if (role.trim() !== '') roles.add(role.trim());
  for (const ou of subjectOus(ctx, mspId)) roles.add(ou);
  return { mspId, subject, account: identityAccount(mspId, subject), roles: [...roles].sort() };
}
