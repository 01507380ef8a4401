/**
 * Certificate revocation lists, re-read from their files on a timer so that a revoked operator is
 * refused without a restart (default every 5 s). Each CRL is matched to the trust anchor that
 * signed it; the per-request check is `@dvp/certs` {@link checkRevocation} (issuer, signature,
 * freshness). Without a current CRL for an anchor the answer is "unknown", and the identity layer
 * refuses the certificate (fail closed) unless configured otherwise.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkRevocation } from '@dvp/certs';
import type { Logger } from '../core/log';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A CA certificate the gateway trusts (see identity.ts). */
export interface RevocationAnchor {
  readonly pem: string;
  readonly certificate: x509.X509Certificate;
}

/** Result of a revocation check. */
export type RevocationVerdict =
  | { readonly status: 'good' }
  | { readonly status: 'revoked'; readonly reason: number | undefined; readonly revokedAt: Date | undefined }
  | { readonly status: 'unknown'; readonly why: string };

/** The CRLs currently loaded, reloaded in the background until {@link RevocationStore.close}. */
export interface RevocationStore {
  check(certPem: string, anchor: RevocationAnchor, now?: Date): Promise<RevocationVerdict>;
  /** Re-reads every file now (the timer calls this). */
  reload(): Promise<void>;
  /** Issuer subjects with a loaded CRL and its nextUpdate (for /healthz and logs). */
  loaded(): readonly { readonly issuer: string; readonly nextUpdate: string | undefined }[];
  close(): void;
}

export interface RevocationOptions {
  readonly files: readonly string[];
  readonly anchors: readonly RevocationAnchor[];
  readonly reloadIntervalMs: number;
  /** When false, an anchor without any CRL is treated as "nothing revoked". */
  readonly requireForEveryAnchor: boolean;
  readonly logger: Logger;
}

interface LoadedCrl {
  readonly pem: string;
  readonly crl: x509.X509Crl;
  readonly anchor: RevocationAnchor;
}

const CRL_BLOCK = /-----BEGIN (?:X509 )?CRL-----[\s\S]*?-----END (?:X509 )?CRL-----/g;

/** Parses every CRL in one PEM file and keeps those signed by a trust anchor. */
async function parseCrlFile(text: string, anchors: readonly RevocationAnchor[]): Promise<LoadedCrl[]> {
  const blocks = text.match(CRL_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error('no "X509 CRL" (or "CRL") PEM block');
  const out: LoadedCrl[] = [];
  for (const block of blocks) {
    const crl = new x509.X509Crl(block);
    const anchor = anchors.find((a) => a.certificate.subject === crl.issuer);
    if (!anchor) throw new Error(`CRL issuer '${crl.issuer}' is not a trust anchor`);
    if (!(await crl.verify({ publicKey: anchor.certificate }))) {
      throw new Error(`CRL claiming issuer '${crl.issuer}' is not signed by that anchor`);
    }
    out.push({ pem: `${block}\n`, crl, anchor });
  }
  return out;
}

/** Keeps, per anchor, the CRL with the latest thisUpdate. */
function newestPerAnchor(crls: readonly LoadedCrl[]): Map<RevocationAnchor, LoadedCrl> {
  const byAnchor = new Map<RevocationAnchor, LoadedCrl>();
  for (const c of crls) {
    const current = byAnchor.get(c.anchor);
    if (!current || current.crl.thisUpdate.getTime() < c.crl.thisUpdate.getTime()) byAnchor.set(c.anchor, c);
  }
  return byAnchor;
}

/** Reads the CRL files, skipping unchanged ones; keeps the newest CRL per anchor. */
function crlFiles(opts: Readonly<RevocationOptions>) {
  const perFile = new Map<string, { digest: string; crls: LoadedCrl[] }>();
  let current = new Map<RevocationAnchor, LoadedCrl>();
  const loadFile = async (file: string, strict: boolean): Promise<void> => {
    try {
      const text = readFileSync(file, 'utf8');
      const digest = createHash('sha256').update(text).digest('hex');
      if (perFile.get(file)?.digest === digest) return;
      perFile.set(file, { digest, crls: await parseCrlFile(text, opts.anchors) });
      opts.logger.info('CRL loaded', { file, digest: digest.slice(0, 16) });
    } catch (err) {
      if (strict) throw new Error(`CRL file '${file}': ${(err as Error).message}`, { cause: err });
      opts.logger.warn('CRL reload failed; keeping the previous CRL', { file, error: (err as Error).message });
    }
  };
  return {
    current: () => current,
    /** `strict`: throw on the first bad file (start-up) instead of logging and keeping the old one. */
    async reloadAll(strict: boolean): Promise<void> {
      for (const file of opts.files) await loadFile(file, strict);
      current = newestPerAnchor([...perFile.values()].flatMap((f) => f.crls));
    },
  };
}

async function verdict(
  loaded: LoadedCrl | undefined,
  certPem: string,
  anchor: RevocationAnchor,
  now: Date,
  requireCrl: boolean,
): Promise<RevocationVerdict> {
  if (!loaded) {
    return requireCrl
      ? { status: 'unknown', why: `no CRL loaded for issuer '${anchor.certificate.subject}'` }
      : { status: 'good' };
  }
  try {
    const r = await checkRevocation(certPem, loaded.pem, anchor.pem, now);
    return r.revoked ? { status: 'revoked', reason: r.reason, revokedAt: r.revokedAt } : { status: 'good' };
  } catch (err) {
    return { status: 'unknown', why: (err as Error).message };
  }
}

/**
 * Loads the CRL files (throws if one is unreadable or not signed by an anchor: a start-up error)
 * and starts the reload timer. On a failed reload the previous CRLs of that file are kept and the
 * failure is logged; a CRL past its nextUpdate makes checks answer "unknown".
 */
export async function createRevocationStore(opts: Readonly<RevocationOptions>): Promise<RevocationStore> {
  const files = crlFiles(opts);
  await files.reloadAll(true);
  const timer = setInterval(() => void files.reloadAll(false), opts.reloadIntervalMs);
  timer.unref();
  return {
    check: (certPem, anchor, now = new Date()) =>
      verdict(files.current().get(anchor), certPem, anchor, now, opts.requireForEveryAnchor),
    reload: () => files.reloadAll(false),
    loaded: () =>
      [...files.current().values()].map((c) => ({ issuer: c.crl.issuer, nextUpdate: c.crl.nextUpdate?.toISOString() })),
    close: () => clearInterval(timer),
  };
}
