import { randomBytes } from 'node:crypto';
import { cashTokenAbi, hashedTimelockAbi } from '@dvp/cash-contracts';
import { sha256, toHex, type Hex } from 'viem';
import { openStore, type GatewayStore } from '../store';
import { startEvmFixture, type EvmFixture } from '../testing/engine-evm';
import { tempDbFile } from '../testing/engine-fakes';
import type { LedgerEvent, LockRequest } from './connector';
import { LedgerError } from './errors';
import { createEvmConnector, type EvmLedgerConnector } from './evm';
import { performAction, resumeActions } from './journaled';

const FUNDS = 1_000_000_00n;
let f: EvmFixture;
const tmp = tempDbFile();
let store: GatewayStore;

function connector(s: GatewayStore = store): EvmLedgerConnector {
  return createEvmConnector({
    rpcUrl: f.anvil.rpcUrl,
    chain: f.anvil.chain,
    account: f.signer,
    contracts: { htlc: f.deployment.htlc, escrow: f.deployment.escrow },
    followers: s.followers,
    pollingIntervalMs: 20,
  });
}

function secret(): { preimage: Hex; hashlock: Hex } {
  const preimage = toHex(randomBytes(32));
  return { preimage, hashlock: sha256(preimage) };
}

async function lockRequest(amount: bigint, ttl = 3600): Promise<LockRequest & { preimage: Hex }> {
  const { preimage, hashlock } = secret();
  return {
    receiver: f.receiver.address,
    asset: f.deployment.token,
    amount,
    hashlock,
    expiry: (await f.now()) + ttl,
    preimage,
  };
}

async function caught(promise: Promise<unknown>): Promise<LedgerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LedgerError);
  return err as LedgerError;
}

async function cash(holder: string): Promise<bigint> {
  return connector().balance(holder, f.deployment.token);
}

beforeAll(async () => {
  f = await startEvmFixture(FUNDS);
  store = openStore(tmp.file);
}, 60_000);
afterAll(async () => {
  store?.close();
  await f?.stop();
  tmp.remove();
});

describe('EVM connector', () => {
  describe('HTLC', () => {
    it('locks, claims, and reads the preimage back from the claim event', async () => {
      const evm = connector();
      const req = await lockRequest(250_00n);
      const before = await cash(f.receiver.address);
      const locked = await evm.lock(req);
      expect(locked).toMatchObject({ ledger: 'evm', lockId: evm.lockIdOf(req), alreadyDone: false });
      expect(await evm.readLock(locked.lockId)).toMatchObject({
        state: 'locked',
        amount: 250_00n,
        sender: f.signer.address,
      });
      const claimed = await evm.claim(locked.lockId, req.preimage);
      expect(claimed.alreadyDone).toBe(false);
      expect(await evm.readPreimage(locked.lockId)).toBe(req.preimage);
      expect((await evm.readLock(locked.lockId))?.state).toBe('claimed');
      expect(await cash(f.receiver.address)).toBe(before + 250_00n);
      expect(await evm.claim(locked.lockId, req.preimage)).toEqual({ ledger: 'evm', alreadyDone: true });
    });

    it('refunds only at or after expiry, with the exact decoded error before', async () => {
      const evm = connector();
      const req = await lockRequest(10_00n, 60);
      const before = await cash(f.signer.address);
      const { lockId } = await evm.lock(req);
      const early = await caught(evm.refund(lockId));
      expect(early).toMatchObject({
        code: 'LOCK_NOT_EXPIRED',
        ledger: 'evm',
        context: { lockId, errorName: 'HtlcNotExpired' },
      });
      await f.anvil.testClient.setNextBlockTimestamp({ timestamp: BigInt(req.expiry) });
      await f.anvil.testClient.mine({ blocks: 1 });
      await evm.refund(lockId);
      expect((await evm.readLock(lockId))?.state).toBe('refunded');
      expect(await cash(f.signer.address)).toBe(before);
      const late = await caught(evm.claim(lockId, req.preimage));
      expect(late).toMatchObject({ code: 'ALREADY_SETTLED', context: { errorName: 'HtlcAlreadySettled' } });
    });

    it('maps a lock beyond the balance to INSUFFICIENT_BALANCE without using a nonce', async () => {
      const evm = connector();
      const err = await caught(evm.lock(await lockRequest(FUNDS * 10n)));
      expect(err).toMatchObject({ code: 'INSUFFICIENT_BALANCE', context: { errorName: 'ERC20InsufficientBalance' } });
      expect(err.cause).toBeDefined();
      await expect(evm.lock(await lockRequest(1n))).resolves.toMatchObject({ alreadyDone: false });
    });

    it('mines 20 concurrent locks from one signer without a nonce collision', async () => {
      const evm = connector();
      const requests = await Promise.all(Array.from({ length: 20 }, (_, i) => lockRequest(BigInt(100 + i))));
      const outcomes = await Promise.all(requests.map((r) => evm.lock(r)));
      expect(new Set(outcomes.map((o) => o.txId)).size).toBe(20);
      const views = await Promise.all(outcomes.map((o) => evm.readLock(o.lockId)));
      expect(views.map((v) => v?.state)).toEqual(Array(20).fill('locked'));
      const nonces = await Promise.all(
        outcomes.map(async (o) => (await f.client.getTransaction({ hash: o.txId as Hex })).nonce),
      );
      expect(new Set(nonces).size).toBe(20);
    });

    it('re-syncs its nonce after another client used the same key', async () => {
      const evm = connector();
      await evm.lock(await lockRequest(5n)); // the connector now holds a local nonce counter
      const { createWalletClient, http } = await import('viem');
      const outside = createWalletClient({ account: f.signer, chain: f.anvil.chain, transport: http(f.anvil.rpcUrl) });
      const hash = await outside.writeContract({
        address: f.deployment.token,
        abi: cashTokenAbi,
        functionName: 'approve',
        args: [f.deployment.escrow, 1n],
      });
      await f.client.waitForTransactionReceipt({ hash });
      const next = await evm.lock(await lockRequest(6n));
      const used = await f.client.getTransaction({ hash: next.txId as Hex });
      expect(used.nonce).toBe((await f.client.getTransaction({ hash })).nonce + 1);
    });
  });

  describe('idempotent lock', () => {
    it('does not lock twice when retried with the same terms, even concurrently', async () => {
      const evm = connector();
      const req = await lockRequest(77_00n);
      const before = await cash(f.signer.address);
      const [a, b] = await Promise.all([evm.lock(req), evm.lock(req)]);
      const again = await connector().lock(req);
      expect(new Set([a.lockId, b.lockId, again.lockId]).size).toBe(1);
      expect([a.alreadyDone, b.alreadyDone, again.alreadyDone].sort()).toEqual([false, true, true]);
      expect(await cash(f.signer.address)).toBe(before - 77_00n);
    });

    it('resumes a journaled lock that was signed but never broadcast by rebroadcasting the same bytes', async () => {
      const evm = connector();
      const req = await lockRequest(3_00n);
      const intent = store.journal.recordIntent({
        owner: 'BANK',
        tradeId: 'T-rb',
        ledger: 'evm',
        kind: 'lock',
        params: {},
      });
      const crash = await caught(
        evm.lock(req, {
          beforeSend: (p) => {
            store.journal.recordPrepared(intent.id, p);
            throw new LedgerError('UNAVAILABLE', 'evm', 'simulated crash before broadcast');
          },
        }),
      );
      expect(crash.message).toContain('simulated crash');
      expect(await evm.readLock(evm.lockIdOf(req))).toBeUndefined();
      const prepared = store.journal.get(intent.id);
      const resolution = await connector().resolvePrepared({
        ledgerRef: prepared.ledgerRef ?? '',
        txId: prepared.txId ?? '',
        payload: prepared.payload ?? '',
      });
      expect(resolution).toMatchObject({
        status: 'confirmed',
        ledgerRef: evm.lockIdOf(req),
        outcome: { txId: prepared.txId },
      });
      expect((await evm.readLock(evm.lockIdOf(req)))?.state).toBe('locked');
    });

    it('resumes after a restart without locking again when the lock was mined but its outcome not recorded', async () => {
      const file = `${tmp.file}-restart`;
      let s = openStore(file);
      const req = await lockRequest(9_00n);
      const { preimage: _p, ...request } = req;
      const done = await performAction(
        s.journal,
        connector(s),
        { owner: 'BANK', tradeId: 'T-r' },
        { kind: 'lock', request },
      );
      // Simulate a crash between the receipt and recording it.
      s.db.prepare(`UPDATE ledger_actions SET state = 'prepared', result = NULL WHERE id = ?`).run(done.actionId);
      s.close();
      const before = await cash(f.signer.address);
      s = openStore(file);
      const resumed = await resumeActions(s.journal, { evm: connector(s) });
      expect(resumed.failed).toEqual([]);
      expect(resumed.done).toEqual([
        expect.objectContaining({ actionId: done.actionId, ledgerRef: done.ledgerRef, txId: done.txId }),
      ]);
      expect(s.journal.unfinished()).toEqual([]);
      expect(await cash(f.signer.address)).toBe(before);
      s.close();
    });
  });

  describe('escrow', () => {
    it('deposits once per escrow id, releases, and returns with decoded errors', async () => {
      const evm = connector();
      const expiry = (await f.now()) + 3600;
      const deposit = {
        escrowId: `E-${Date.now()}`,
        tradeId: 'T-esc',
        asset: f.deployment.token,
        amount: 40_00n,
        beneficiary: f.receiver.address,
        controller: f.signer.address,
        expiry,
      };
      expect((await evm.deposit(deposit)).alreadyDone).toBe(false);
      expect((await evm.deposit(deposit)).alreadyDone).toBe(true);
      await evm.release(deposit.escrowId, 15_00n);
      expect(await evm.readEscrow(deposit.escrowId)).toMatchObject({ state: 'held', released: 15_00n, amount: 40_00n });
      const over = await caught(evm.release(deposit.escrowId, 30_00n));
      expect(over).toMatchObject({ code: 'EXCEEDS_ESCROW', context: { errorName: 'EscrowExceedsRemaining' } });
      await evm.returnEscrow(deposit.escrowId);
      expect((await evm.readEscrow(deposit.escrowId))?.state).toBe('returned');
      expect((await evm.returnEscrow(deposit.escrowId)).alreadyDone).toBe(true);
      const other = await caught(evm.deposit({ ...deposit, amount: 1n }));
      expect(other.code).toBe('MISMATCH');
    });
  });

  describe('event follower', () => {
    it('resumes from its checkpoint after a restart without missing or repeating events', async () => {
      const file = `${tmp.file}-follower`;
      const seen: LedgerEvent[] = [];
      let s = openStore(file);
      let evm = connector(s);
      const first = await lockRequest(1_00n);
      const { lockId } = await evm.lock(first);
      await evm.claim(lockId, first.preimage);
      await evm.follow('htlc', (e) => void seen.push(e)).syncOnce();
      const before = seen.length;
      expect(seen.filter((e) => e.ref === lockId).map((e) => e.kind)).toEqual(['locked', 'claimed']);
      expect(seen.find((e) => e.kind === 'claimed' && e.ref === lockId)?.data['preimage']).toBe(first.preimage);
      s.close();

      const second = await lockRequest(2_00n); // happens while the gateway is down
      const locked = await connector().lock(second);
      s = openStore(file);
      evm = connector(s);
      const follower = evm.follow('htlc', (e) => void seen.push(e));
      expect(await follower.syncOnce()).toBe(1);
      expect(await follower.syncOnce()).toBe(0);
      expect(seen.slice(before)).toEqual([
        expect.objectContaining({ kind: 'locked', ref: locked.lockId, txId: locked.txId }),
      ]);
      const keys = seen.map((e) => `${e.block}:${e.logIndex}`);
      expect(new Set(keys).size).toBe(keys.length);
      const htlcLogs = await f.client.getContractEvents({
        address: f.deployment.htlc,
        abi: hashedTimelockAbi,
        fromBlock: 0n,
      });
      expect(seen).toHaveLength(htlcLogs.length);
      s.close();
    });
  });
});
