/**
 * Clients of the shared network's real Fabric peers for cross-ledger tests: identities freshly
 * registered at a bank's Fabric CA (so no two runs, and no other test, share an account),
 * connections through fabric-gateway, and fresh instruments created by the network's issuer.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connectCa, fabricAccountId, loadIdentity, type Role } from '@dvp/certs';
import { CommitError, EndorseError, StatusCode, type Contract } from '@hyperledger/fabric-gateway';
import { isValidIsin } from '../../chaincode/fabric/src/isin';
import {
  connectPeer,
  walletIdentity,
  type FabricClientIdentity,
  type FabricConnection,
} from '../../network/src/fabric-client';
import type { FabricUpState, NetworkState } from '../../network/src/state';

/** A signing identity with the chaincode account it owns (`<mspId>:<subject>`). */
export interface TestFabricIdentity extends FabricClientIdentity {
  /**
   * The bank (network.json org key) whose peer it uses: the bank whose CA issued it, or for an
   * identity of the agents org (which has no peer) the bank it was given.
   */
  readonly org: string;
  readonly account: string;
}

function caOf(net: NetworkState, org: string): NetworkState['fabricCa']['orgs'][string] {
  const ca = net.fabricCa.orgs[org];
  if (ca === undefined) throw new Error(`network.json has no Fabric CA for org ${org}`);
  return ca;
}

/** A wallet identity of the network (`admin`, `gateway`, `auditor`, `issuer`, ...) of `org`. */
export function bankIdentity(net: NetworkState, org: string, name: string): TestFabricIdentity {
  const ca = caOf(net, org);
  const id = walletIdentity(ca.mspId, ca.wallet, name);
  return { ...id, org, account: fabricAccountId(id.mspId, id.certPem) };
}

/**
 * A wallet identity (`gateway`, `admin`, `auditor`) of a party of the agents org (`manager`,
 * `notary`, `observer`), using the peer of bank `viaOrg`.
 */
export function agentIdentity(net: NetworkState, party: string, name: string, viaOrg: string): TestFabricIdentity {
  const agent = net.agents.parties[party];
  if (agent === undefined) throw new Error(`network.json has no agent party ${party}`);
  const id = walletIdentity(net.agents.mspId, agent.wallet, name);
  return { ...id, org: viaOrg, account: fabricAccountId(id.mspId, id.certPem) };
}

/**
 * Registers and enrolls a new client identity (identity type `client`, so the chaincode sees role
 * `client` from its OU) at `org`'s CA with the CA's registrar. The enrollment id gets a random
 * suffix: the CA keeps every registration, and each run must own fresh accounts.
 */
export async function registerClient(
  net: NetworkState,
  org: string,
  name: string,
  role: Role,
): Promise<TestFabricIdentity> {
  const ca = caOf(net, org);
  const client = connectCa({ url: ca.url, tlsTrustedCert: readFileSync(ca.tlsCertFile, 'utf8'), caName: ca.caName });
  const registrar = loadIdentity(ca.wallet, 'registrar');
  const enrollmentId = `${name}-${randomBytes(5).toString('hex')}`;
  const { secret } = await client.register(registrar, { enrollmentId, type: 'client', role, party: org });
  const enrollment = await client.enroll({ enrollmentId, secret });
  const keyPem = enrollment.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const certPem = enrollment.certificate;
  return { mspId: ca.mspId, certPem, keyPem, org, account: fabricAccountId(ca.mspId, certPem) };
}

/** Connects `id` to the peer of its own bank. */
export function connectOwnPeer(fabric: FabricUpState, id: TestFabricIdentity): FabricConnection {
  const peer = fabric.peers[id.org];
  if (peer === undefined) throw new Error(`network.json has no Fabric peer for org ${id.org}`);
  return connectPeer(peer, id);
}

const ISIN_BODY = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A random, valid ISIN (`XS` + 9 random alphanumerics + the check digit): a fresh instrument. */
export function freshIsin(): string {
  const body = `XS${[...randomBytes(9)].map((b) => ISIN_BODY[b % ISIN_BODY.length]).join('')}`;
  for (let digit = 0; digit <= 9; digit += 1) {
    if (isValidIsin(`${body}${digit}`)) return `${body}${digit}`;
  }
  throw new Error(`no check digit makes ${body} a valid ISIN`);
}

/**
 * `contract.submitTransaction(fn, ...args)`, submitted again (a new proposal) when it lost a race
 * that a later attempt wins, as any Fabric client must:
 * - its commit lost an MVCC race: every transaction reads the access policy, so a policy adoption
 *   by another test invalidates transactions endorsed just before it;
 * - the other org's peer answered differently from the first endorser (the gateway's "failed to
 *   collect enough transaction endorsements"): it has not yet committed the block the previous
 *   transaction went into, which the submitter only awaited on its own peer.
 * Other failures, chaincode refusals included (the first endorser's "failed to endorse"), are
 * thrown as they are.
 */
export async function submit(contract: Contract, fn: string, ...args: string[]): Promise<Uint8Array> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await contract.submitTransaction(fn, ...args);
    } catch (err) {
      if (!lostRace(err) || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

const MVCC: ReadonlySet<number> = new Set([StatusCode.MVCC_READ_CONFLICT, StatusCode.PHANTOM_READ_CONFLICT]);

function lostRace(err: unknown): boolean {
  if (err instanceof CommitError) return MVCC.has(err.code);
  return err instanceof EndorseError && /failed to collect enough transaction endorsements/.test(err.message);
}

/**
 * Creates a fresh instrument (settlement unit 1) through `issuer` (the chaincode as the network's
 * issuer) and issues `quantity` to `account`; returns its ISIN once both transactions are
 * committed on the issuer's peer.
 */
export async function issueFreshInstrument(issuer: Contract, account: string, quantity: bigint): Promise<string> {
  const isin = freshIsin();
  await submit(issuer, 'CreateInstrument', isin, `Test instrument ${isin}`, '1');
  if (quantity > 0n) await submit(issuer, 'Issue', isin, account, quantity.toString());
  return isin;
}
