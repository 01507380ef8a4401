/**
 * The signed party directory (`@dvp/certs` SignedDirectory), verified with the directory
 * authority's key on load and re-read on a timer, so that adding or removing a certificate
 * fingerprint takes effect without a restart. A file that fails verification on reload is
 * ignored (the previous directory stays) and logged.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  partyOfCertificate,
  verifyDirectory,
  type Directory,
  type DirectoryEntry,
  type SignedDirectory,
} from '@dvp/certs';
import type { Logger } from '../core/log';

/** Read access to the current directory. */
export interface DirectoryView {
  /** The directory as last verified. */
  current(): Directory;
  has(party: string): boolean;
  entry(party: string): DirectoryEntry | undefined;
  /**
   * The party a certificate belongs to: its fingerprint is listed in that party's entry and its
   * own `party` attribute names the same party. Throws `@dvp/certs` CertsError otherwise.
   */
  partyOf(certPem: string): { readonly party: string; readonly entry: DirectoryEntry };
  /** Gateway URL of every party but `self`. */
  peerGateways(self: string): Readonly<Record<string, string>>;
}

/** A {@link DirectoryView} that reloads until closed. */
export interface DirectoryStore extends DirectoryView {
  reload(): void;
  close(): void;
}

export interface DirectoryOptions {
  readonly file: string;
  /** PEM public key or certificate of the directory authority. */
  readonly authorityKeyPem: string;
  readonly reloadIntervalMs: number;
  readonly logger: Logger;
}

function readVerified(file: string, authority: KeyObject): Directory {
  const signed = JSON.parse(readFileSync(file, 'utf8')) as SignedDirectory;
  const directory = verifyDirectory(signed, authority);
  if (directory.version !== 1 || typeof directory.parties !== 'object' || directory.parties === null) {
    throw new Error('directory has no version 1 "parties" object');
  }
  return directory;
}

/** A view over a fixed, already verified directory (tests, tools). */
export function directoryView(get: () => Directory): DirectoryView {
  return {
    current: get,
    has: (party) => Object.prototype.hasOwnProperty.call(get().parties, party),
    entry: (party) => (Object.prototype.hasOwnProperty.call(get().parties, party) ? get().parties[party] : undefined),
    partyOf: (certPem) => partyOfCertificate(get(), certPem),
    peerGateways: (self) =>
      Object.fromEntries(
        Object.entries(get().parties)
          .filter(([party]) => party !== self)
          .map(([party, e]) => [party, e.gatewayUrl]),
      ),
  };
}

/**
 * Loads and verifies the directory (throws on a bad signature or file: a start-up error) and
 * starts the reload timer.
 */
export function createDirectoryStore(opts: Readonly<DirectoryOptions>): DirectoryStore {
  const authority = createPublicKey(opts.authorityKeyPem);
  let directory: Directory;
  try {
    directory = readVerified(opts.file, authority);
  } catch (err) {
    throw new Error(`directory file '${opts.file}': ${(err as Error).message}`, { cause: err });
  }
  let issuedAt = directory.issuedAt;
  const reload = (): void => {
    try {
      const next = readVerified(opts.file, authority);
      if (next.issuedAt < issuedAt) throw new Error(`issuedAt ${next.issuedAt} is older than the loaded ${issuedAt}`);
      if (next.issuedAt !== issuedAt) opts.logger.info('directory reloaded', { issuedAt: next.issuedAt });
      directory = next;
      issuedAt = next.issuedAt;
    } catch (err) {
      opts.logger.warn('directory reload failed; keeping the previous one', { error: (err as Error).message });
    }
  };
  const timer = setInterval(reload, opts.reloadIntervalMs);
  timer.unref();
  return { ...directoryView(() => directory), reload, close: () => clearInterval(timer) };
}
