/**
 * Behaviour every {@link LedgerConnector} must show, whatever the ledger: the EVM connector runs
 * it on a real anvil (`evm/connector.test.ts`), the Fabric connector against the in-process fake
 * (`fabric/connector.test.ts`) and on the real peers (`test/src/fabric-connector.test.ts`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { openStore } from '../../store';
import type { GatewayStore } from '../../store';
import type { EscrowDepositRequest, LedgerConnector, LedgerEvent, LockRequest, PreparedTx } from '../connector';
import { performAction, resumeActions } from '../../trades/journal';
import { caught } from './caught';

/** What the suite needs from a running ledger. */
export interface ConnectorHarness {
  /** A new connector instance using `store` (a new instance stands for a gateway restart). */
  connector(store: GatewayStore): LedgerConnector;
  /** Fresh lock terms from the connector's signer to a fixed receiver, with their preimage. */
  lockRequest(amount: bigint, ttlSeconds: number): Promise<LockRequest & { readonly preimage: string }>;
  /** Moves ledger time so that the next transaction is at `unixSeconds`. */
  advanceTo(unixSeconds: number): Promise<void>;
  /** Lifetime of the lock the refund case waits out; default 60 s (a ledger that must wait sets a few). */
  readonly shortTtlSeconds?: number;
  balance(who: 'sender' | 'receiver'): Promise<bigint>;
  /** The follower stream that carries lock events. */
  readonly lockStream: string;
  /**
   * A connector over `store` of another party: the `counterparty` (receiver of the locks and
   * beneficiary of the escrows of {@link lockRequest} and {@link escrowRequest}), or a `notary`
   * (an identity that may approve escrow releases; it need hold nothing).
   */
  party(role: 'counterparty' | 'notary', store: GatewayStore): LedgerConnector;
  /**
   * Fresh escrow terms for a new trade: from the connector's signer, which is also the controller,
   * to the counterparty, without hashlock or notary.
   */
  escrowRequest(amount: bigint, ttlSeconds: number): Promise<EscrowDepositRequest>;
  /** The follower stream that carries escrow events. */
  readonly escrowStream: string;
  /** A fresh database file path. */
  storeFile(name: string): string;
}

const hex = (s: string | undefined): string | undefined => s?.toLowerCase().replace(/^0x/, '');

/** A fresh 32-byte preimage and its SHA-256 hashlock, both 0x-hex (lower case). */
function secret(): { readonly preimage: string; readonly hashlock: string } {
  const bytes = randomBytes(32);
  return {
    preimage: `0x${bytes.toString('hex')}`,
    hashlock: `0x${createHash('sha256').update(bytes).digest('hex')}`,
  };
}

/** Declares the shared suite; `harness` is read lazily, so it may be built in `beforeAll`. */
export function describeLedgerConnector(name: string, harness: () => ConnectorHarness): void {
  describe(`${name} connector behaviour`, () => {
    let store: GatewayStore;
    beforeAll(() => (store = openStore(harness().storeFile('suite'), { party: 'BANK' })));
    afterAll(() => store?.close());

    it('locks, claims, and reads the preimage back from the claim', async () => {
      const h = harness();
      const ledger = h.connector(store);
      const req = await h.lockRequest(250_00n, 3600);
      const before = await h.balance('receiver');
      const locked = await ledger.lock(req);
      expect(await ledger.readLock(locked.lockId)).toMatchObject({ state: 'locked', amount: 250_00n });
      expect((await ledger.claim(locked.lockId, req.preimage)).alreadyDone).toBe(false);
      expect(hex(await ledger.readPreimage(locked.lockId))).toBe(hex(req.preimage));
      expect((await ledger.readLock(locked.lockId))?.state).toBe('claimed');
      expect(await h.balance('receiver')).toBe(before + 250_00n);
      expect((await ledger.claim(locked.lockId, req.preimage)).alreadyDone).toBe(true);
    });

    it('refuses a refund before expiry with LOCK_NOT_EXPIRED and refunds at expiry', async () => {
      const h = harness();
      const ledger = h.connector(store);
      const req = await h.lockRequest(10_00n, h.shortTtlSeconds ?? 60);
      const before = await h.balance('sender');
      const { lockId } = await ledger.lock(req);
      expect(await caught(ledger.refund(lockId))).toMatchObject({ code: 'LOCK_NOT_EXPIRED', ledger: ledger.ledger });
      await h.advanceTo(req.expiry);
      await ledger.refund(lockId);
      expect((await ledger.readLock(lockId))?.state).toBe('refunded');
      expect(await h.balance('sender')).toBe(before);
      expect(await caught(ledger.claim(lockId, req.preimage))).toMatchObject({ code: 'ALREADY_SETTLED' });
    });

    it('treats a retried lock with the same terms as the same lock, also from a new instance', async () => {
      const h = harness();
      const req = await h.lockRequest(77_00n, 3600);
      const before = await h.balance('sender');
      const first = await h.connector(store).lock(req);
      const retry = await h.connector(store).lock(req);
      expect(retry).toMatchObject({ lockId: first.lockId, alreadyDone: true });
      expect(await h.balance('sender')).toBe(before - 77_00n);
    });

    it('settles a journaled lock after a restart without locking again', async () => {
      const h = harness();
      const file = h.storeFile('restart');
      let s = openStore(file, { party: 'BANK' });
      const { preimage: _secret, ...request } = await h.lockRequest(9_00n, 3600);
      const leg = h.connector(s).ledger === 'fabric' ? 'securities' : 'cash';
      const done = await performAction(s.journal, h.connector(s), { tradeId: 'T-r', leg }, { kind: 'lock', request });
      // A crash between the confirmation and recording it.
      s.db.prepare(`UPDATE ledger_actions SET state = 'prepared', result = NULL WHERE id = ?`).run(done.actionId);
      s.close();
      const before = await h.balance('sender');
      s = openStore(file, { party: 'BANK' });
      const resumed = await resumeActions(s.journal, { [leg]: h.connector(s) });
      expect(resumed.failed).toEqual([]);
      expect(resumed.done).toEqual([expect.objectContaining({ actionId: done.actionId, ledgerRef: done.ledgerRef })]);
      expect(s.journal.unfinished()).toEqual([]);
      expect(await h.balance('sender')).toBe(before);
      s.close();
    });

    it('follows events from a durable checkpoint: nothing missed or repeated across a restart', async () => {
      const h = harness();
      const file = h.storeFile('follower');
      const seen: LedgerEvent[] = [];
      let s = openStore(file, { party: 'BANK' });
      const first = await h.lockRequest(1_00n, 3600);
      const { lockId } = await h.connector(s).lock(first);
      await h.connector(s).claim(lockId, first.preimage);
      await h
        .connector(s)
        .follow(h.lockStream, (e) => void seen.push(e))
        .syncOnce();
      expect(seen.filter((e) => e.ref === lockId).map((e) => e.kind)).toEqual(['locked', 'claimed']);
      s.close();

      const later = await h.connector(store).lock(await h.lockRequest(2_00n, 3600)); // while "down"
      const before = seen.length;
      s = openStore(file, { party: 'BANK' });
      const follower = h.connector(s).follow(h.lockStream, (e) => void seen.push(e));
      expect(await follower.syncOnce()).toBe(1);
      expect(await follower.syncOnce()).toBe(0);
      expect(seen.slice(before)).toEqual([expect.objectContaining({ kind: 'locked', ref: later.lockId })]);
      const keys = seen.map((e) => `${e.block}:${e.logIndex}`);
      expect(new Set(keys).size).toBe(keys.length);
      s.close();
    });

    describe('escrow', () => {
      it('derives the id of another depositor’s escrow as that depositor’s own connector does', async () => {
        const h = harness();
        const ledger = h.connector(store);
        const other = h.party('counterparty', store);
        const request = await h.escrowRequest(1n, 3600);
        const mine = ledger.escrowIdOf(request.tradeId);
        expect(ledger.escrowIdOf(request.tradeId, other.signer)).toBe(other.escrowIdOf(request.tradeId));
        expect(ledger.escrowIdOf(request.tradeId, other.signer)).not.toBe(mine);
        expect(other.escrowIdOf(request.tradeId, ledger.signer)).toBe(mine);
        expect(await ledger.deposit(request)).toMatchObject({ escrowId: mine, alreadyDone: false });
      });

      it('releases with the preimage to the beneficiary, journaled, and reads the preimage back', async () => {
        const h = harness();
        const ledger = h.connector(store);
        const { preimage, hashlock } = secret();
        const { escrowId } = await ledger.deposit({ ...(await h.escrowRequest(30n, 3600)), hashlock });
        expect(await ledger.readEscrowPreimage(escrowId)).toBeUndefined();
        const before = await h.balance('receiver');
        const journaled: PreparedTx[] = [];
        const beforeSend = (p: PreparedTx): void => void journaled.push(p);
        // Anyone holding the preimage may release: here the beneficiary.
        const released = await h.party('counterparty', store).releaseWithPreimage(escrowId, 30n, preimage, undefined, {
          beforeSend,
        });
        expect(released).toMatchObject({ ledger: ledger.ledger, alreadyDone: false });
        expect(journaled).toEqual([{ ledgerRef: escrowId, txId: released.txId, payload: expect.any(String) }]);
        expect(await h.balance('receiver')).toBe(before + 30n);
        expect(await ledger.readEscrow(escrowId)).toMatchObject({ state: 'released', released: 30n });
        expect(await ledger.readEscrowPreimage(escrowId)).toBe(preimage);
        expect(await ledger.releaseWithPreimage(escrowId, 30n, preimage, undefined, { beforeSend })).toEqual({
          ledger: ledger.ledger,
          alreadyDone: true,
        });
        expect(journaled).toHaveLength(1);
      });

      it('refuses a wrong preimage with BAD_PREIMAGE, and any preimage of an escrow without hashlock', async () => {
        const h = harness();
        const ledger = h.connector(store);
        const conditioned = await ledger.deposit({ ...(await h.escrowRequest(5n, 3600)), hashlock: secret().hashlock });
        const plain = await ledger.deposit(await h.escrowRequest(5n, 3600));
        expect(await caught(ledger.releaseWithPreimage(conditioned.escrowId, 5n, secret().preimage))).toMatchObject({
          code: 'BAD_PREIMAGE',
          ledger: ledger.ledger,
        });
        // The controller itself presenting a preimage: an escrow without hashlock has none to match.
        expect(await caught(ledger.releaseWithPreimage(plain.escrowId, 5n, secret().preimage))).toMatchObject({
          code: 'NOT_AUTHORIZED',
          ledger: ledger.ledger,
        });
        for (const { escrowId } of [conditioned, plain])
          expect(await ledger.readEscrow(escrowId)).toMatchObject({ state: 'held', released: 0n });
        expect(await ledger.readEscrowPreimage(conditioned.escrowId)).toBeUndefined();
      });

      it('releases from an escrow with a notary only what the notary approved, each approval once', async () => {
        const h = harness();
        const ledger = h.connector(store);
        const notary = h.party('notary', store);
        const { preimage, hashlock } = secret();
        const request = { ...(await h.escrowRequest(100n, 3600)), hashlock, notary: notary.signer };
        const { escrowId } = await ledger.deposit(request);
        const before = await h.balance('receiver');
        expect(await caught(ledger.releaseWithPreimage(escrowId, 40n, preimage))).toMatchObject({
          code: 'NOT_APPROVED',
          ledger: ledger.ledger,
        });
        expect(await caught(ledger.approveRelease(escrowId, 40n))).toMatchObject({ code: 'NOT_AUTHORIZED' });
        const first = await notary.approveRelease(escrowId, 40n);
        // Fabric: the notary's own transaction. EVM: its EIP-712 signature, nothing sent.
        const proof =
          ledger.ledger === 'fabric'
            ? { outcome: expect.objectContaining({ ledger: 'fabric', txId: expect.any(String), alreadyDone: false }) }
            : { signature: expect.stringMatching(/^0x[0-9a-f]{130}$/) };
        expect(first).toEqual({ ledger: ledger.ledger, escrowId, amount: 40n, ...proof });
        const released = await ledger.releaseWithPreimage(escrowId, 40n, preimage, first.signature);
        expect(released.alreadyDone).toBe(false);
        expect(await caught(ledger.releaseWithPreimage(escrowId, 40n, preimage, first.signature))).toMatchObject({
          code: 'NOT_APPROVED',
        });
        const rest = await notary.approveRelease(escrowId, 60n);
        expect(await caught(ledger.release(escrowId, 50n, rest.signature))).toMatchObject({ code: 'NOT_APPROVED' });
        expect((await ledger.release(escrowId, 60n, rest.signature)).alreadyDone).toBe(false);
        expect(await ledger.readEscrow(escrowId)).toMatchObject({ state: 'released', released: 100n });
        expect(await h.balance('receiver')).toBe(before + 100n);
      });

      it('follows releases with the preimage of those that revealed one', async () => {
        const h = harness();
        const ledger = h.connector(store);
        const { preimage, hashlock } = secret();
        const byPreimage = await ledger.deposit({ ...(await h.escrowRequest(2n, 3600)), hashlock });
        const byController = await ledger.deposit(await h.escrowRequest(3n, 3600));
        await ledger.releaseWithPreimage(byPreimage.escrowId, 2n, preimage);
        await ledger.release(byController.escrowId, 3n);
        const s = openStore(h.storeFile('escrow-follower'), { party: 'BANK' });
        const seen: LedgerEvent[] = [];
        await h
          .connector(s)
          .follow(h.escrowStream, (e) => void seen.push(e))
          .syncOnce();
        s.close();
        const of = (escrowId: string): (string | undefined)[][] =>
          seen.filter((e) => e.ref === escrowId).map((e) => [e.kind, e.data['preimage']]);
        expect(of(byPreimage.escrowId)).toEqual([
          ['deposited', undefined],
          ['released', preimage],
        ]);
        expect(of(byController.escrowId)).toEqual([
          ['deposited', undefined],
          ['released', undefined],
        ]);
      });
    });
  });
}
