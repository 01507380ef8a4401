/**
 * The Fabric connector against an in-process fake of fabric-gateway that runs the real securities
 * chaincode (`__tests__/fabric-fake.ts`). NOT a peer: nothing here is verified on real Fabric.
 */
import { randomBytes } from 'node:crypto';
import { openStore, type GatewayStore } from '../../store';
import { tempDbFile } from '../../../testing/engine-fakes';
import type { LedgerEvent, PreparedTx } from '../connector';
import { LedgerError } from '../errors';
import { describeLedgerConnector } from '../__tests__/connector-suite';
import { fabricAccountOf, type FabricContract, type FabricGateway } from './connector';
import { fakeGateway } from './__tests__/fake';
import {
  fabricConnector,
  fabricLockRequest,
  ISIN,
  makeFabricWorld,
  submitAs,
  type FabricWorld,
} from './__tests__/fixture';
import { caught, crashBeforeSubmit } from '../__tests__/caught';

const FUNDS = 1_000_000n;
const tmp = tempDbFile();
let w: FabricWorld;
let store: GatewayStore;

const shares = (account: string): Promise<bigint> => fabricConnector(w, store).balance(account, ISIN);

beforeAll(async () => {
  w = await makeFabricWorld(FUNDS);
  store = openStore(tmp.file, { party: 'BANK' });
}, 30_000);
afterAll(() => {
  store?.close();
  tmp.remove();
});

describeLedgerConnector('Fabric (fake gateway, real chaincode)', () => ({
  connector: (s) => fabricConnector(w, s),
  lockRequest: async (amount, ttl) => fabricLockRequest(w, amount, ttl),
  advanceTo: async (t) => void (w.ledger.time = t),
  balance: (who) => shares(who === 'sender' ? w.seller.account : w.buyer.account),
  lockStream: 'htlc',
  party: (role, s) => fabricConnector(w, s, role === 'counterparty' ? w.buyer : w.notary),
  escrowRequest: async (amount, ttl) => ({
    tradeId: `T-suite-${randomBytes(4).toString('hex')}`,
    asset: ISIN,
    amount,
    beneficiary: w.buyer.account,
    controller: w.seller.account,
    expiry: w.ledger.time + ttl,
  }),
  escrowStream: 'escrow',
  storeFile: (name) => `${tmp.file}-${name}`,
}));

describe('Fabric connector', () => {
  describe('identity', () => {
    it('signs as the account the chaincode derives from the certificate', async () => {
      const fabric = fabricConnector(w, store);
      expect(fabric.signer).toBe(w.seller.account);
      expect(fabricAccountOf(w.buyer.identity)).toBe(w.buyer.account);
      const { lockId } = await fabric.lock(fabricLockRequest(w, 1n));
      expect((await fabric.readLock(lockId))?.sender).toBe(fabric.signer);
    });

    it('names the account as fabric-shim does: one /OU= per value of the type + affiliation RDN, in DER order', () => {
      expect(fabricAccountOf(w.seller.identity)).toBe('SellerBankMSP:/OU=client/OU=seller/CN=alice');
      expect(fabricAccountOf(w.buyer.identity)).toBe('BuyerBankMSP:/OU=buyer/OU=client/CN=bob');
    });
  });

  describe('lock', () => {
    it('derives a stable lock id from the terms when the caller gives none', async () => {
      const { lockId: _given, ...terms } = fabricLockRequest(w, 3n);
      const first = await fabricConnector(w, store).lock(terms);
      expect(first.lockId).toMatch(/^[0-9a-f]{64}$/);
      expect(await fabricConnector(w, store).lock(terms)).toMatchObject({ lockId: first.lockId, alreadyDone: true });
    });

    it('refuses an existing lock id with other terms as MISMATCH', async () => {
      const req = fabricLockRequest(w, 4n);
      await fabricConnector(w, store).lock(req);
      const err = await caught(fabricConnector(w, store).lock({ ...req, amount: 5n }));
      expect(err).toMatchObject({ code: 'MISMATCH', ledger: 'fabric', context: { lockId: req.lockId } });
    });

    it('locks once when two gateways race the same lock into one block (MVCC conflict)', async () => {
      const req = fabricLockRequest(w, 6n);
      const before = await shares(w.seller.account);
      w.ledger.hold();
      const racing = Promise.all([fabricConnector(w, store).lock(req), fabricConnector(w, store).lock(req)]);
      while (w.ledger.heldCount < 2) await new Promise((r) => setImmediate(r));
      const block = w.ledger.cut();
      expect(block?.txs.map((t) => t.code)).toEqual([0, 11]); // VALID, MVCC_READ_CONFLICT
      const outcomes = await racing;
      expect(outcomes.map((o) => o.alreadyDone).sort()).toEqual([false, true]);
      expect(await shares(w.seller.account)).toBe(before - 6n);
    });

    it('re-runs a lock invalidated by another transaction of the same account in its block', async () => {
      const [a, b] = [fabricLockRequest(w, 14n), fabricLockRequest(w, 15n)];
      const journaled: PreparedTx[] = [];
      w.ledger.hold();
      const beforeSend = (p: PreparedTx): void => void journaled.push(p);
      const both = Promise.all([fabricConnector(w, store).lock(a), fabricConnector(w, store).lock(b, { beforeSend })]);
      while (w.ledger.heldCount < 2) await new Promise((r) => setImmediate(r));
      expect(w.ledger.cut()?.txs.map((t) => t.code)).toEqual([0, 11]); // both read the seller's balance
      const [first, second] = await both;
      expect(second).toMatchObject({ alreadyDone: false, txId: journaled[1]?.txId });
      expect(journaled.map((p) => p.txId)).toHaveLength(2);
      expect(w.ledger.statusOf(journaled[0]?.txId ?? '')?.code).toBe(11);
      expect(second.block).toBeGreaterThan(first.block ?? 0n);
    });

    it('journals the transaction id and signed bytes before submitting, and nothing when endorsement fails', async () => {
      const seen: PreparedTx[] = [];
      const fabric = fabricConnector(w, store);
      const req = fabricLockRequest(w, 7n);
      const out = await fabric.lock(req, { beforeSend: (p) => void seen.push(p) });
      expect(seen).toEqual([{ ledgerRef: req.lockId, txId: out.txId, payload: expect.any(String) }]);
      expect(w.ledger.statusOf(out.txId ?? '')).toEqual({ block: out.block, code: 0 });
      await caught(fabric.lock(fabricLockRequest(w, FUNDS * 10n), { beforeSend: (p) => void seen.push(p) }));
      expect(seen).toHaveLength(1);
    });
  });

  describe('resolvePrepared after a restart', () => {
    it('confirms a committed transaction with its block', async () => {
      let prepared: PreparedTx | undefined;
      const out = await fabricConnector(w, store).lock(fabricLockRequest(w, 8n), { beforeSend: (p) => (prepared = p) });
      const { payload: _bytes, ...withoutBytes } = prepared as PreparedTx;
      for (const p of [prepared as PreparedTx, withoutBytes])
        expect(await fabricConnector(w, store).resolvePrepared(p)).toEqual({
          status: 'confirmed',
          ledgerRef: out.lockId,
          outcome: { ledger: 'fabric', txId: out.txId, block: out.block, alreadyDone: false },
        });
    });

    it('reports a transaction that was never submitted, and whose bytes were not kept, as dropped', async () => {
      const req = fabricLockRequest(w, 9n);
      const { payload: _bytes, ...prepared } = await crashBeforeSubmit((beforeSend) =>
        fabricConnector(w, store).lock(req, { beforeSend }),
      );
      const height = w.ledger.height;
      expect(await fabricConnector(w, store).resolvePrepared(prepared)).toEqual({ status: 'dropped' });
      expect(w.ledger.height).toBe(height);
      expect(await fabricConnector(w, store).readLock(req.lockId)).toBeUndefined();
    });

    it('submits the journaled signed bytes of a transaction that was never submitted', async () => {
      const req = fabricLockRequest(w, 10n);
      const prepared = await crashBeforeSubmit((beforeSend) => fabricConnector(w, store).lock(req, { beforeSend }));
      const resolution = await fabricConnector(w, store).resolvePrepared(prepared);
      expect(resolution).toMatchObject({ status: 'confirmed', outcome: { txId: prepared.txId } });
      expect((await fabricConnector(w, store).readLock(req.lockId))?.state).toBe('locked');
    });

    it('reports stale journaled bytes as dropped once the state they read has changed', async () => {
      const fabric = fabricConnector(w, store);
      const req = fabricLockRequest(w, 11n, 60);
      await fabric.lock(req);
      const claim = await crashBeforeSubmit((beforeSend) => fabric.claim(req.lockId, req.preimage, { beforeSend }));
      w.ledger.time = req.expiry;
      await fabric.refund(req.lockId);
      expect(await fabricConnector(w, store).resolvePrepared(claim)).toEqual({ status: 'dropped' });
      expect(w.ledger.statusOf(claim.txId)?.code).toBe(11); // MVCC_READ_CONFLICT: never applied
      expect((await fabric.readLock(req.lockId))?.state).toBe('refunded');
    });
  });

  describe('escrow', () => {
    it('deposits once, releases in parts to the beneficiary, and is a no-op once released', async () => {
      const seller = fabricConnector(w, store);
      const manager = fabricConnector(w, store, w.manager);
      const request = {
        tradeId: `T-1-${w.ledger.height}`,
        asset: ISIN,
        amount: 100n,
        beneficiary: w.buyer.account,
        controller: w.manager.account,
        expiry: w.ledger.time + 3600,
      };
      const buyerBefore = await shares(w.buyer.account);
      const escrowId = seller.escrowIdOf(request.tradeId);
      expect(await seller.deposit(request)).toMatchObject({ escrowId, alreadyDone: false });
      expect(await fabricConnector(w, store).deposit(request)).toMatchObject({ escrowId, alreadyDone: true });
      expect(await caught(seller.deposit({ ...request, amount: 99n }))).toMatchObject({ code: 'MISMATCH' });
      expect(await caught(seller.deposit({ ...request, notary: w.manager.account }))).toMatchObject({
        code: 'MISMATCH',
      });
      expect(await caught(manager.release(escrowId, 101n))).toMatchObject({
        code: 'EXCEEDS_ESCROW',
        context: { errorName: 'EXCEEDS_ESCROW', escrowId },
      });
      expect(await caught(seller.returnEscrow(escrowId))).toMatchObject({ code: 'LOCK_NOT_EXPIRED' });
      await manager.release(escrowId, 40n);
      expect(await seller.readEscrow(escrowId)).toMatchObject({
        state: 'held',
        released: 40n,
        amount: 100n,
        tradeId: request.tradeId,
      });
      await manager.release(escrowId, 60n);
      expect((await manager.release(escrowId, 60n)).alreadyDone).toBe(true);
      expect((await seller.readEscrow(escrowId))?.state).toBe('released');
      expect(await shares(w.buyer.account)).toBe(buyerBefore + 100n);

      const seen: LedgerEvent[] = [];
      const s = openStore(`${tmp.file}-escrow`, { party: 'BANK' });
      await fabricConnector(w, s)
        .follow('escrow', (e) => void seen.push(e))
        .syncOnce();
      s.close();
      const mine = seen.filter((e) => e.ref === escrowId);
      expect(mine.map((e) => e.kind)).toEqual(['deposited', 'released', 'released']);
      expect(mine[0]?.data).toMatchObject({ amount: '100', asset: ISIN, tradeId: request.tradeId });
    });

    it('releases from an escrow with a notary only what the notary approved on the ledger', async () => {
      const seller = fabricConnector(w, store);
      const manager = fabricConnector(w, store, w.manager);
      const tradeId = `T-N-${w.ledger.height}`;
      const request = {
        tradeId,
        asset: ISIN,
        amount: 10n,
        beneficiary: w.buyer.account,
        controller: w.manager.account,
      };
      const { escrowId } = await seller.deposit({ ...request, expiry: w.ledger.time + 600, notary: w.notary.account });
      expect(await seller.readEscrow(escrowId)).toMatchObject({ notary: w.notary.account, tradeId });
      expect(await caught(manager.release(escrowId, 10n))).toMatchObject({ code: 'NOT_APPROVED' });
      await submitAs(w, w.notary, 'EscrowApprove', escrowId, '10');
      expect((await manager.release(escrowId, 10n)).alreadyDone).toBe(false);
      expect((await seller.readEscrow(escrowId))?.state).toBe('released');
    });

    it('returns to the depositor at expiry and refuses an approval carried by the release', async () => {
      const seller = fabricConnector(w, store);
      const request = { tradeId: `T-2-${w.ledger.height}`, asset: ISIN, amount: 5n, beneficiary: w.buyer.account };
      const { escrowId } = await seller.deposit({
        ...request,
        controller: w.manager.account,
        expiry: w.ledger.time + 60,
      });
      expect(await caught(seller.release(escrowId, 5n, '0xsig'))).toMatchObject({ code: 'INVALID_ARGUMENT' });
      const preimage = '00'.repeat(32);
      expect(await caught(seller.releaseWithPreimage(escrowId, 5n, preimage, '0xsig'))).toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      w.ledger.time += 60;
      expect((await seller.returnEscrow(escrowId)).alreadyDone).toBe(false);
      expect((await seller.returnEscrow(escrowId)).alreadyDone).toBe(true);
      expect((await seller.readEscrow(escrowId))?.state).toBe('returned');
    });
  });

  describe('follow', () => {
    it('indexes the events of one block in block order', async () => {
      await submitAs(w, w.issuer, 'Issue', ISIN, w.buyer.account, '50');
      const a = fabricLockRequest(w, 12n);
      const b = { ...fabricLockRequest(w, 13n), receiver: w.seller.account };
      w.ledger.hold(); // two senders: the two locks touch no common key
      const both = Promise.all([fabricConnector(w, store).lock(a), fabricConnector(w, store, w.buyer).lock(b)]);
      while (w.ledger.heldCount < 2) await new Promise((r) => setImmediate(r));
      const block = w.ledger.cut()?.number;
      await both;
      const s = openStore(`${tmp.file}-block`, { party: 'BANK' });
      const seen: LedgerEvent[] = [];
      await fabricConnector(w, s, w.seller, { fromBlock: block ?? 0n })
        .follow('htlc', (e) => void seen.push(e))
        .syncOnce();
      s.close();
      expect(seen.map((e) => [e.block, e.logIndex, e.ref])).toEqual([
        [block, 0, a.lockId],
        [block, 1, b.lockId],
      ]);
    });

    it('stops at the first event beyond the tip it saw, checkpointing exactly that tip', async () => {
      const [early, late] = [fabricLockRequest(w, 16n), fabricLockRequest(w, 17n)];
      const from = w.ledger.height;
      await fabricConnector(w, store).lock(early);
      const base = fakeGateway(w.ledger, w.seller);
      // The chain moves on right after the follower asked qscc for the height.
      const moving: FabricGateway = {
        ...base,
        getNetwork: (name) => {
          const n = base.getNetwork(name);
          const qscc = n.getContract('qscc');
          const evaluateTransaction = async (fn: string, ...args: string[]): Promise<Uint8Array> => {
            const info = await qscc.evaluateTransaction(fn, ...args);
            await fabricConnector(w, store).lock(late);
            return info;
          };
          const getContract = (cc: string): FabricContract =>
            cc === 'qscc' ? { newProposal: (t, o) => qscc.newProposal(t, o), evaluateTransaction } : n.getContract(cc);
          return {
            getName: () => n.getName(),
            getChaincodeEvents: (cc, o) => n.getChaincodeEvents(cc, o),
            getContract,
          };
        },
      };
      const s = openStore(`${tmp.file}-tip`, { party: 'BANK' });
      const seen: string[] = [];
      const follower = fabricConnector(w, s, w.seller, { gateway: moving, fromBlock: from }).follow(
        'htlc',
        (e) => void seen.push(e.ref),
      );
      expect(await follower.syncOnce()).toBe(1);
      expect(s.followers.checkpoint('fabric', follower.stream)).toBe(from);
      expect(await follower.syncOnce()).toBe(1);
      expect(seen).toEqual([early.lockId, late.lockId]);
      s.close();
    });

    it('refuses an unknown stream and a connector without a follower store', () => {
      expect(() => fabricConnector(w, store).follow('cash', () => undefined)).toThrow(LedgerError);
      expect(() => fabricConnector(w, undefined).follow('htlc', () => undefined)).toThrow(/followers store/);
    });
  });
});
