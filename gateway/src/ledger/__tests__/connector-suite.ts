/**
 * Behaviour every {@link LedgerConnector} must show, whatever the ledger: the EVM connector runs
 * it on a real anvil (`evm.test.ts`); a Fabric connector must pass the same suite when it lands.
 */
import { openStore } from '../../store';
import type { GatewayStore } from '../../store';
import type { LedgerConnector, LedgerEvent, LockRequest } from '../connector';
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
  /** A fresh database file path. */
  storeFile(name: string): string;
}

const hex = (s: string | undefined): string | undefined => s?.toLowerCase().replace(/^0x/, '');

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
  });
}
