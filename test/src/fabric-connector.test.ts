/**
 * The gateway's Fabric connector (`gateway/src/ledger/fabric/connector.ts`) on the network's real peers:
 * the shared connector suite, then what only a real peer shows (both banks' endorsements checked
 * at commit, commit status of a journaled transaction after a restart, MVCC invalidation).
 *
 * The sender and receiver are registered afresh at their banks' CAs and the sender holds a fresh
 * instrument, so nothing here depends on what other tests do on the channel. Ledger time is the
 * proposal's timestamp (the wall clock): the harness waits for an expiry.
 */
import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { signers, StatusCode, type Identity, type Status } from '@hyperledger/fabric-gateway';
import type { FabricConnection } from '../../network/src/fabric-client';
import type { FabricUpState } from '../../network/src/state';
import type {
  EscrowDepositRequest,
  EventFollower,
  LedgerConnector,
  LedgerEventHandler,
  LockRequest,
  PreparedTx,
} from '../../gateway/src/ledger/connector';
import { LedgerError } from '../../gateway/src/ledger/errors';
import { createFabricConnector, type FabricLedgerConnector } from '../../gateway/src/ledger/fabric/connector';
import { chainHeight, commitStatusRequestBytes } from '../../gateway/src/ledger/fabric/wire';
import { performAction, resumeActions } from '../../gateway/src/trades/journal';
import { describeLedgerConnector } from '../../gateway/src/ledger/__tests__/connector-suite';
import { openStore, type GatewayStore } from '../../gateway/src/store';
import { describeOnFabric, fabricUp } from './fabric';
import {
  bankIdentity,
  connectOwnPeer,
  issueFreshInstrument,
  registerClient,
  type TestFabricIdentity,
} from './fabric-clients';
import { sharedNetwork } from './network';
import { caught, crashBeforeSubmit } from '../../gateway/src/ledger/__tests__/caught';

/** Waits of a few seconds (expiries, commit status of unknown transactions) exceed jest's 5 s. */
jest.setTimeout(60_000);

const FUNDS = 1_000_000n;
/** Lifetime of the locks a test waits out: lock and a refused refund take well under a second. */
const SHORT_TTL = 3;
/** How long `resolvePrepared` waits for the commit of a transaction the peer has not seen. */
const STATUS_WAIT_MS = 2_000;

interface World {
  readonly fabric: FabricUpState;
  readonly sender: TestFabricIdentity;
  readonly receiver: TestFabricIdentity;
  readonly identity: Identity;
  /** The sender's connection to its bank's peer, under every connector. */
  readonly conn: FabricConnection;
  /** The receiver's connection to its bank's peer: the counterparty and notary of the suite. */
  readonly receiverConn: FabricConnection;
  readonly issuer: FabricConnection;
  readonly isin: string;
  /** The channel height before the first test: followers start there. */
  readonly fromBlock: bigint;
  readonly dir: string;
}

let w: World;
let store: GatewayStore;
let locks = 0;
let escrows = 0;

/**
 * A connector of the sender (or of the receiver) over its real peer connection; short waits for
 * the tests.
 */
function connector(s: GatewayStore | undefined, who: 'sender' | 'receiver' = 'sender'): FabricLedgerConnector {
  const id = who === 'sender' ? w.sender : w.receiver;
  return createFabricConnector({
    gateway: (who === 'sender' ? w.conn : w.receiverConn).gateway,
    identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) },
    signer: signers.newPrivateKeySigner(createPrivateKey(id.keyPem)),
    channel: w.fabric.channel,
    chaincode: w.fabric.chaincode.name,
    ...(s && { followers: s.followers }),
    fromBlock: w.fromBlock,
    statusWaitMs: STATUS_WAIT_MS,
    eventIdleMs: 500,
  });
}

/** `inner` with `key` replaced; its other methods stay bound to it (they use private fields). */
function overriding<K extends keyof LedgerConnector>(
  inner: FabricLedgerConnector,
  key: K,
  value: LedgerConnector[K],
): LedgerConnector {
  return new Proxy(inner, {
    get: (target, name) => {
      if (name === key) return value;
      const member: unknown = Reflect.get(target, name);
      return typeof member === 'function' ? member.bind(target) : member;
    },
  });
}

/**
 * `inner` whose followers hand on (and count) only events of this file's sender: the channel is
 * shared with every test running meanwhile, and the suite counts the events it is handed.
 */
function ownEventsOnly(inner: FabricLedgerConnector): LedgerConnector {
  const follow = (stream: string, handler: LedgerEventHandler): EventFollower => {
    let handed = 0;
    const follower = inner.follow(stream, async (e) => {
      if (e.data['sender'] !== w.sender.account && e.data['depositor'] !== w.sender.account) return;
      handed += 1;
      await handler(e);
    });
    return {
      stream: follower.stream,
      syncOnce: async () => {
        handed = 0;
        await follower.syncOnce();
        return handed;
      },
      start: (intervalMs, onError) => follower.start(intervalMs, onError),
      stop: () => follower.stop(),
    };
  };
  return overriding(inner, 'follow', follow);
}

/** `inner` crashing right after its lock's transaction is journaled, before it is submitted. */
function crashingAfterJournal(inner: FabricLedgerConnector): LedgerConnector {
  const lock: LedgerConnector['lock'] = (request, options) =>
    inner.lock(request, {
      beforeSend: (p) => {
        options?.beforeSend?.(p);
        throw new LedgerError('UNAVAILABLE', 'fabric', 'simulated crash before submit');
      },
    });
  return overriding(inner, 'lock', lock);
}

/** Fresh lock terms from the sender to the receiver, with a caller-chosen id and the preimage. */
function lockRequest(amount: bigint, ttl = 3600): LockRequest & { readonly lockId: string; readonly preimage: string } {
  const preimage = randomBytes(32);
  locks += 1;
  return {
    lockId: `${w.isin}.L${locks}`,
    receiver: w.receiver.account,
    asset: w.isin,
    amount,
    hashlock: createHash('sha256').update(preimage).digest('hex'),
    expiry: Math.floor(Date.now() / 1000) + ttl,
    preimage: preimage.toString('hex'),
  };
}

/** Fresh escrow terms for a new trade from the sender, its own controller, to the receiver. */
function escrowRequest(amount: bigint, ttl: number): EscrowDepositRequest {
  escrows += 1;
  return {
    tradeId: `${w.isin}.T${escrows}`,
    asset: w.isin,
    amount,
    beneficiary: w.receiver.account,
    controller: w.sender.account,
    expiry: Math.floor(Date.now() / 1000) + ttl,
  };
}

/** Waits until the wall clock, and so the next proposal's timestamp, is at `unixSeconds` or later. */
async function advanceTo(unixSeconds: number): Promise<void> {
  const target = unixSeconds * 1000;
  for (let now = Date.now(); now < target; now = Date.now()) await new Promise((r) => setTimeout(r, target - now));
}

const shares = (account: string): Promise<bigint> => connector(undefined).balance(account, w.isin);

/** The commit status of `txId` as the sender's peer reports it. */
async function statusOf(txId: string): Promise<Status> {
  return w.conn.gateway.newCommit(commitStatusRequestBytes(txId, w.fabric.channel, w.identity)).getStatus();
}

describeOnFabric('Fabric connector on the real peers', () => {
  beforeAll(async () => {
    const net = sharedNetwork();
    const fabric = fabricUp();
    const [senderBank, receiverBank = senderBank] = Object.keys(fabric.peers);
    if (senderBank === undefined || receiverBank === undefined) throw new Error('network.json lists no Fabric peer');
    const [sender, receiver] = await Promise.all([
      registerClient(net, senderBank, 'connector-sender', 'gateway'),
      registerClient(net, receiverBank, 'connector-receiver', 'gateway'),
    ]);
    const conn = connectOwnPeer(fabric, sender);
    const receiverConn = connectOwnPeer(fabric, receiver);
    const issuer = connectOwnPeer(fabric, bankIdentity(net, fabric.chaincode.issuer.org, 'issuer'));
    const cc = issuer.contract(fabric.channel, fabric.chaincode.name);
    const isin = await issueFreshInstrument(cc, sender.account, FUNDS);
    const qscc = conn.gateway.getNetwork(fabric.channel).getContract('qscc');
    const fromBlock = chainHeight(await qscc.evaluateTransaction('GetChainInfo', fabric.channel));
    const dir = mkdtempSync(join(tmpdir(), 'dvp-fabric-connector-'));
    const identity = { mspId: sender.mspId, credentials: Buffer.from(sender.certPem) };
    w = { fabric, sender, receiver, identity, conn, receiverConn, issuer, isin, fromBlock, dir };
    store = openStore(join(dir, 'gateway.sqlite'), { party: 'BANK' });
  }, 60_000);
  afterAll(() => {
    store?.close();
    w?.conn.close();
    w?.receiverConn.close();
    w?.issuer.close();
    if (w) rmSync(w.dir, { recursive: true, force: true });
  });

  describeLedgerConnector('Fabric (real peers, every bank endorsing)', () => ({
    connector: (s) => ownEventsOnly(connector(s)),
    lockRequest: async (amount, ttl) => lockRequest(amount, ttl),
    advanceTo,
    shortTtlSeconds: SHORT_TTL,
    balance: (who) => shares(who === 'sender' ? w.sender.account : w.receiver.account),
    lockStream: 'htlc',
    // The receiver's gateway identity is also the notary: any identity account may be one.
    party: (_role, s) => connector(s, 'receiver'),
    escrowRequest: async (amount, ttl) => escrowRequest(amount, ttl),
    escrowStream: 'escrow',
    storeFile: (name) => join(w.dir, `${name}.sqlite`),
  }));

  describe('endorsement by every bank', () => {
    it('invalidates at commit a lock endorsed by one bank only (ENDORSEMENT_POLICY_FAILURE) and changes nothing', async () => {
      const req = lockRequest(5n);
      const before = await shares(w.sender.account);
      const args = [req.lockId, w.isin, '5', req.receiver, req.hashlock, String(req.expiry)];
      const contract = w.conn.contract(w.fabric.channel, w.fabric.chaincode.name);
      const proposal = contract.newProposal('LockHTLC', {
        arguments: args,
        endorsingOrganizations: [w.sender.mspId],
      });
      const endorsed = await proposal.endorse();
      const status = await (await endorsed.submit()).getStatus();
      expect(status).toMatchObject({
        successful: false,
        code: StatusCode.ENDORSEMENT_POLICY_FAILURE,
        transactionId: proposal.getTransactionId(),
      });
      expect(await connector(store).readLock(req.lockId)).toBeUndefined();
      expect(await shares(w.sender.account)).toBe(before);
      // The same terms endorsed by every bank commit.
      expect(await connector(store).lock(req)).toMatchObject({ lockId: req.lockId, alreadyDone: false });
      expect(await shares(w.sender.account)).toBe(before - 5n);
    });
  });

  describe('chaincode rejections', () => {
    it('reports a lock beyond the free balance as INSUFFICIENT_BALANCE with the chaincode context, journaling nothing', async () => {
      const balance = await shares(w.sender.account);
      const req = lockRequest(FUNDS * 10n);
      const journaled: PreparedTx[] = [];
      const err = await caught(connector(store).lock(req, { beforeSend: (p) => void journaled.push(p) }));
      expect(err).toMatchObject({
        code: 'INSUFFICIENT_BALANCE',
        ledger: 'fabric',
        message: 'LockHTLC rejected: INSUFFICIENT_BALANCE: free balance is lower than the quantity',
      });
      expect(err.context).toEqual({
        account: w.sender.account,
        isin: w.isin,
        balance: balance.toString(),
        needed: (FUNDS * 10n).toString(),
        lockId: req.lockId,
        txId: expect.stringMatching(/^[0-9a-f]{64}$/),
        errorName: 'INSUFFICIENT_BALANCE',
      });
      expect(journaled).toEqual([]);
    });
  });

  describe('resolvePrepared after a restart', () => {
    it('confirms a committed lock with its block, with or without its signed bytes', async () => {
      let prepared: PreparedTx | undefined;
      const out = await connector(store).lock(lockRequest(8n), { beforeSend: (p) => (prepared = p) });
      if (prepared === undefined) throw new Error('beforeSend was not called');
      const { payload: _bytes, ...withoutBytes } = prepared;
      for (const p of [prepared, withoutBytes]) {
        expect(await connector(store).resolvePrepared(p)).toEqual({
          status: 'confirmed',
          ledgerRef: out.lockId,
          outcome: { ledger: 'fabric', txId: out.txId, block: out.block, alreadyDone: false },
        });
      }
    });

    it('submits the journaled signed bytes of a lock that was never submitted', async () => {
      const req = lockRequest(10n);
      const before = await shares(w.sender.account);
      const prepared = await crashBeforeSubmit((beforeSend) => connector(store).lock(req, { beforeSend }));
      expect(await connector(store).readLock(req.lockId)).toBeUndefined();
      const resolution = await connector(store).resolvePrepared(prepared);
      expect(resolution).toEqual({
        status: 'confirmed',
        ledgerRef: req.lockId,
        outcome: { ledger: 'fabric', txId: prepared.txId, block: expect.any(BigInt), alreadyDone: false },
      });
      expect(await statusOf(prepared.txId)).toMatchObject({ successful: true, code: StatusCode.VALID });
      expect((await connector(store).readLock(req.lockId))?.state).toBe('locked');
      expect(await shares(w.sender.account)).toBe(before - 10n);
    });

    it('reports a lock that was never submitted, and whose bytes were not kept, as dropped', async () => {
      const req = lockRequest(9n);
      const { payload: _bytes, ...prepared } = await crashBeforeSubmit((beforeSend) =>
        connector(store).lock(req, { beforeSend }),
      );
      expect(await connector(store).resolvePrepared(prepared)).toEqual({ status: 'dropped' });
      expect(await connector(store).readLock(req.lockId)).toBeUndefined();
    });

    it('resumes a journaled lock that crashed before its submit by submitting the journaled bytes, once', async () => {
      const file = join(w.dir, 'resume.sqlite');
      const { preimage: _secret, ...request } = lockRequest(12n);
      const before = await shares(w.sender.account);
      let s = openStore(file, { party: 'BANK' });
      const target = { tradeId: 'T-resume', leg: 'securities' } as const;
      const crash = await caught(
        performAction(s.journal, crashingAfterJournal(connector(s)), target, { kind: 'lock', request }),
      );
      expect(crash).toMatchObject({ code: 'UNAVAILABLE', message: 'simulated crash before submit' });
      const [action] = s.journal.unfinished();
      expect(action).toMatchObject({ state: 'prepared', ledgerRef: request.lockId, payload: expect.any(String) });
      s.close();
      expect(await shares(w.sender.account)).toBe(before);

      s = openStore(file, { party: 'BANK' });
      const resumed = await resumeActions(s.journal, { securities: connector(s) });
      expect(resumed.failed).toEqual([]);
      expect(resumed.done).toEqual([
        expect.objectContaining({ actionId: action?.id, ledgerRef: request.lockId, txId: action?.txId }),
      ]);
      expect(s.journal.unfinished()).toEqual([]);
      expect(await resumeActions(s.journal, { securities: connector(s) })).toEqual({ done: [], failed: [] });
      s.close();
      expect(await shares(w.sender.account)).toBe(before - 12n);
    });

    it('reports stale journaled bytes as dropped once the state they read has changed (MVCC_READ_CONFLICT)', async () => {
      const fabric = connector(store);
      const req = lockRequest(11n, SHORT_TTL);
      const receiverBefore = await shares(w.receiver.account);
      await fabric.lock(req);
      const claim = await crashBeforeSubmit((beforeSend) => fabric.claim(req.lockId, req.preimage, { beforeSend }));
      await advanceTo(req.expiry);
      await fabric.refund(req.lockId);
      expect(await connector(store).resolvePrepared(claim)).toEqual({ status: 'dropped' });
      expect(await statusOf(claim.txId)).toMatchObject({ successful: false, code: StatusCode.MVCC_READ_CONFLICT });
      expect((await fabric.readLock(req.lockId))?.state).toBe('refunded');
      expect(await shares(w.receiver.account)).toBe(receiverBefore);
    });
  });

  describe('escrow on both banks’ peers', () => {
    it('releases with the preimage after the notary approved through its own bank’s peer, which then reads the preimage', async () => {
      const bytes = randomBytes(32);
      const preimage = `0x${bytes.toString('hex')}`;
      const hashlock = createHash('sha256').update(bytes).digest('hex');
      const notary = connector(store, 'receiver');
      const request = { ...escrowRequest(20n, 3600), hashlock, notary: w.receiver.account };
      const { escrowId } = await connector(store).deposit(request);
      const before = await shares(w.receiver.account);
      const approval = await notary.approveRelease(escrowId, 20n);
      expect(approval).toEqual({
        ledger: 'fabric',
        escrowId,
        amount: 20n,
        outcome: { ledger: 'fabric', txId: expect.any(String), block: expect.any(BigInt), alreadyDone: false },
      });
      expect(await statusOf(approval.outcome?.txId ?? '')).toMatchObject({ successful: true, code: StatusCode.VALID });
      const released = await connector(store).releaseWithPreimage(escrowId, 20n, preimage);
      expect(await statusOf(released.txId ?? '')).toMatchObject({ successful: true, code: StatusCode.VALID });
      expect(await notary.readEscrowPreimage(escrowId)).toBe(preimage);
      expect(await notary.readEscrow(escrowId)).toMatchObject({
        state: 'released',
        released: 20n,
        notary: w.receiver.account,
      });
      expect(await shares(w.receiver.account)).toBe(before + 20n);
    });
  });

  describe('races', () => {
    it('locks once when two connectors send the same lock at the same time', async () => {
      const req = lockRequest(6n);
      const before = await shares(w.sender.account);
      const outcomes = await Promise.all([connector(store).lock(req), connector(store).lock(req)]);
      expect(outcomes.map((o) => o.alreadyDone).sort()).toEqual([false, true]);
      expect(await shares(w.sender.account)).toBe(before - 6n);
    });
  });
});
