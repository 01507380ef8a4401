/**
 * What a real Fabric peer answers when it refuses a client, in a form tests can compare exactly:
 * the chaincode's own refusal (its wire code, text and context, found in the gateway error's
 * per-peer details), or the peer's refusal before any chaincode runs (the gateway error's gRPC
 * status, message and details). Plus the identities and probes the refusal tests need: a
 * self-signed certificate claiming an MSP, waiting until a peer starts refusing, and finding the
 * reason the peer logged (it tells the client only "access denied").
 */
import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EndorseError, GatewayError } from '@hyperledger/fabric-gateway';
import * as x509 from '@peculiar/x509';
import {
  messagesOf,
  parseFabricChaincodeError,
  type FabricChaincodeError,
} from '../../gateway/src/ledger/fabric/errors';
import type { FabricClientIdentity } from '../../network/src/fabric-client';
import type { NetworkState } from '../../network/src/state';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Resolves with what `call` was rejected with; fails the test when it succeeded. */
async function rejection(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (err) {
    return err;
  }
  throw new Error('expected the peer to refuse the call, but it succeeded');
}

/** The chaincode error a rejected call carries (code, text, context as strings). */
export async function chaincodeRefusal(call: Promise<unknown>): Promise<FabricChaincodeError> {
  const err = await rejection(call);
  for (const message of messagesOf(err)) {
    const found = parseFabricChaincodeError(message);
    if (found !== undefined) return found;
  }
  throw new Error(`no chaincode error in: ${messagesOf(err).join(' | ')}`, { cause: err });
}

/** A peer's refusal as the gateway client reports it. */
export interface PeerRefusal {
  /** `EndorseError` (submit) or `GatewayError` (evaluate). */
  readonly kind: string;
  /** gRPC status code. */
  readonly code: number;
  readonly message: string;
  /** Per-peer details: which peer refused, of which MSP, with what message. */
  readonly details: readonly { readonly address: string; readonly mspId: string; readonly message: string }[];
  /** The refused transaction's id (submit only). */
  readonly transactionId: string | undefined;
}

function asPeerRefusal(err: unknown): PeerRefusal {
  if (!(err instanceof GatewayError)) throw new Error(`not a gateway error: ${String(err)}`, { cause: err });
  return {
    kind: err.name,
    code: err.code,
    message: err.message,
    details: err.details.map(({ address, mspId, message }) => ({ address, mspId, message })),
    transactionId: err instanceof EndorseError ? err.transactionId : undefined,
  };
}

/** The gateway error a rejected call carries; fails the test for any other error. */
export async function peerRefusal(call: Promise<unknown>): Promise<PeerRefusal> {
  return asPeerRefusal(await rejection(call));
}

/**
 * Calls `probe` every `intervalMs` until it is refused; resolves with how long that took and the
 * refusal. Throws when it still succeeds after `timeoutMs`.
 */
export async function untilRefused(
  probe: () => Promise<unknown>,
  timeoutMs = 30_000,
  intervalMs = 5,
): Promise<{ readonly elapsedMs: number; readonly refusal: PeerRefusal }> {
  const start = performance.now();
  for (;;) {
    try {
      await probe();
    } catch (err) {
      return { elapsedMs: Math.round(performance.now() - start), refusal: asPeerRefusal(err) };
    }
    if (performance.now() - start > timeoutMs) throw new Error(`still accepted after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The reason `org`'s peer logged for refusing transaction `txId` (the `error="..."` of its
 * warning, which names the transaction by its first 8 hex digits); waits up to `timeoutMs` for
 * the log to be written.
 */
export async function peerLogReason(net: NetworkState, org: string, txId: string, timeoutMs = 5_000): Promise<string> {
  const log = net.processes.find((p) => p.name === `peer-${org}`)?.log;
  if (log === undefined) throw new Error(`network.json has no log of peer-${org}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = readFileSync(log, 'utf8')
      .split('\n')
      .find((l) => l.includes(`txID=${txId.slice(0, 8)} `));
    const reason = line === undefined ? undefined : /error="([^"]*)"/.exec(line)?.[1];
    if (reason !== undefined) return reason;
    if (Date.now() > deadline) throw new Error(`${log} has no refusal of ${txId} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A client identity of `mspId` that no CA of that MSP issued: a self-signed P-256 certificate,
 * subject `OU=client, CN=<cn>`, valid from a minute ago for an hour.
 */
export async function selfSignedIdentity(mspId: string, cn: string): Promise<FabricClientIdentity> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `OU=client, CN=${cn}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { mspId, certPem: cert.toString('pem'), keyPem };
}
