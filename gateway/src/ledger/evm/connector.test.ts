import { randomBytes } from 'node:crypto';
import { cashTokenAbi, hashedTimelockAbi, settlementEscrowAbi } from '@dvp/cash-contracts';
import { anvilAccount } from '@dvp/cash-contracts/testing';
import { sha256, toHex, type Hex } from 'viem';
import type { HDAccount } from 'viem/accounts';
import { openStore, type GatewayStore } from '../../store';
import { startEvmFixture, type EvmFixture } from '../../../testing/engine-evm';
import { tempDbFile } from '../../../testing/engine-fakes';
import type { EscrowDepositRequest, LedgerEvent, LockRequest, PreparedTx } from '../connector';
import { LedgerError } from '../errors';
import { createEvmConnector, type EvmLedgerConnector } from './connector';
import { toBytes32Id } from './ids';
import { describeLedgerConnector } from '../__tests__/connector-suite';
import { caught } from '../__tests__/caught';

const FUNDS = 1_000_000_00n;
/** A notary of escrows (anvil account 3): it only signs approvals, so it needs no funds. */
const NOTARY = anvilAccount(3);
let f: EvmFixture;
const tmp = tempDbFile();
let store: GatewayStore;

function connector(s: GatewayStore = store, account: HDAccount = f.signer): EvmLedgerConnector {
  return createEvmConnector({
    rpcUrl: f.anvil.rpcUrl,
    chain: f.anvil.chain,
    account,
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

async function cash(holder: string): Promise<bigint> {
  return connector().balance(holder, f.deployment.token);
}

beforeAll(async () => {
  f = await startEvmFixture(FUNDS);
  store = openStore(tmp.file, { party: 'BANK' });
}, 60_000);
afterAll(async () => {
  store?.close();
  await f?.stop();
  tmp.remove();
});

describeLedgerConnector('EVM', () => ({
  connector: (s) => connector(s),
  lockRequest: (amount, ttl) => lockRequest(amount, ttl),
  advanceTo: async (t) => {
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: BigInt(t) });
    await f.anvil.testClient.mine({ blocks: 1 });
  },
  balance: (who) => cash(who === 'sender' ? f.signer.address : f.receiver.address),
  lockStream: 'htlc',
  party: (role, s) => connector(s, role === 'counterparty' ? f.receiver : NOTARY),
  escrowRequest: async (amount, ttl) => ({
    tradeId: `T-suite-${randomBytes(4).toString('hex')}`,
    asset: f.deployment.token,
    amount,
    beneficiary: f.receiver.address,
    controller: f.signer.address,
    expiry: (await f.now()) + ttl,
  }),
  escrowStream: 'escrow',
  storeFile: (name) => `${tmp.file}-${name}`,
}));

describe('EVM connector', () => {
  describe('HTLC', () => {
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

  describe('lock ids', () => {
    it('computes the id the contract computes, before anything is sent', async () => {
      const req = await lockRequest(12n);
      const onChain = await f.client.readContract({
        address: f.deployment.htlc,
        abi: hashedTimelockAbi,
        functionName: 'computeLockId',
        args: [f.signer.address, f.receiver.address, f.deployment.token, 12n, req.hashlock as Hex, BigInt(req.expiry)],
      });
      expect(connector().lockIdOf(req)).toBe(onChain);
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
        tradeId: 'T-rb',
        leg: 'cash',
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
  });

  describe('journaled transaction that reverts', () => {
    it('reports the decoded revert when a transaction signed before a crash can no longer succeed', async () => {
      const evm = connector();
      const req = await lockRequest(2_00n, 120);
      const { lockId } = await evm.lock(req);
      let prepared: PreparedTx | undefined;
      const crash = await caught(
        evm.claim(lockId, req.preimage, {
          beforeSend: (p) => {
            prepared = p;
            throw new LedgerError('UNAVAILABLE', 'evm', 'simulated crash before broadcast');
          },
        }),
      );
      expect(crash.message).toContain('simulated crash');
      await f.anvil.testClient.setNextBlockTimestamp({ timestamp: BigInt(req.expiry) });
      const resolution = await connector().resolvePrepared(prepared as PreparedTx);
      expect(resolution).toMatchObject({
        status: 'reverted',
        error: { code: 'LOCK_EXPIRED', context: { errorName: 'HtlcExpired', ledgerRef: lockId } },
      });
    });
  });

  describe('escrow', () => {
    async function depositRequest(amount: bigint): Promise<EscrowDepositRequest> {
      return {
        tradeId: `T-esc-${randomBytes(4).toString('hex')}`,
        asset: f.deployment.token,
        amount,
        beneficiary: f.receiver.address,
        controller: f.signer.address,
        expiry: (await f.now()) + 3600,
      };
    }

    it('computes the escrow id the contract derives from the signer and the trade, before sending', async () => {
      const evm = connector();
      const request = await depositRequest(1_00n);
      const onChain = await f.client.readContract({
        address: f.deployment.escrow,
        abi: settlementEscrowAbi,
        functionName: 'computeEscrowId',
        args: [f.signer.address, toBytes32Id(request.tradeId)],
      });
      expect(evm.escrowIdOf(request.tradeId)).toBe(onChain);
      const outcome = await evm.deposit(request);
      expect(outcome).toMatchObject({ escrowId: onChain, alreadyDone: false });
      const [deposited] = await f.client.getContractEvents({
        address: f.deployment.escrow,
        abi: settlementEscrowAbi,
        eventName: 'Deposited',
        args: { escrowId: onChain },
        fromBlock: 0n,
      });
      expect(deposited?.transactionHash).toBe(outcome.txId);
    });

    it('deposits once per trade, releases, and returns with decoded errors', async () => {
      const evm = connector();
      const deposit = await depositRequest(40_00n);
      const first = await evm.deposit(deposit);
      expect(first.alreadyDone).toBe(false);
      expect(await connector().deposit(deposit)).toEqual({
        ledger: 'evm',
        escrowId: first.escrowId,
        alreadyDone: true,
      });
      await evm.release(first.escrowId, 15_00n);
      expect(await evm.readEscrow(first.escrowId)).toMatchObject({ state: 'held', released: 15_00n, amount: 40_00n });
      const over = await caught(evm.release(first.escrowId, 30_00n));
      expect(over).toMatchObject({ code: 'EXCEEDS_ESCROW', context: { errorName: 'EscrowExceedsRemaining' } });
      await evm.returnEscrow(first.escrowId);
      expect((await evm.readEscrow(first.escrowId))?.state).toBe('returned');
      expect((await evm.returnEscrow(first.escrowId)).alreadyDone).toBe(true);
      expect((await evm.deposit(deposit)).alreadyDone).toBe(true);
    });

    it('sends one transaction when the same deposit is made concurrently', async () => {
      const evm = connector();
      await evm.deposit(await depositRequest(1n)); // the allowance is in place from here on
      const deposit = await depositRequest(7_00n);
      const before = await cash(f.signer.address);
      const nonce = await f.client.getTransactionCount({ address: f.signer.address });
      const outcomes = await Promise.all([evm.deposit(deposit), evm.deposit(deposit)]);
      expect(outcomes.map((o) => o.alreadyDone)).toEqual([false, true]);
      expect(new Set(outcomes.map((o) => o.escrowId))).toEqual(new Set([evm.escrowIdOf(deposit.tradeId)]));
      expect(await cash(f.signer.address)).toBe(before - 7_00n);
      expect(await f.client.getTransactionCount({ address: f.signer.address })).toBe(nonce + 1);
    });

    it('refuses a deposit for the same trade with other terms with MISMATCH, naming them', async () => {
      const evm = connector();
      const deposit = await depositRequest(5_00n);
      const { escrowId } = await evm.deposit(deposit);
      const others: [Partial<EscrowDepositRequest>, string][] = [
        [{ amount: 1n }, 'amount'],
        [{ expiry: deposit.expiry + 1 }, 'expiry'],
        [{ controller: f.receiver.address }, 'controller'],
        [{ hashlock: secret().hashlock }, 'hashlock'],
        [{ notary: f.receiver.address, amount: 2n }, 'amount,notary'],
      ];
      for (const [change, differs] of others) {
        const err = await caught(evm.deposit({ ...deposit, ...change }));
        expect(err).toMatchObject({ code: 'MISMATCH', context: { escrowId, tradeId: deposit.tradeId, differs } });
      }
      expect(await evm.readEscrow(escrowId)).toMatchObject({ amount: 5_00n, released: 0n, state: 'held' });
    });

    it('gives another depositor of the same trade its own escrow: nobody can take this signer’s id', async () => {
      await f.mint(f.receiver.address, 10_00n);
      const other = connector(store, f.receiver);
      const deposit = await depositRequest(3_00n);
      const theirs = await other.deposit({ ...deposit, beneficiary: f.signer.address });
      const ours = await connector().deposit(deposit);
      expect(ours).toMatchObject({ alreadyDone: false, escrowId: connector().escrowIdOf(deposit.tradeId) });
      expect(theirs.escrowId).toBe(other.escrowIdOf(deposit.tradeId));
      expect(theirs.escrowId).not.toBe(ours.escrowId);
      expect(await connector().readEscrow(theirs.escrowId)).toMatchObject({ depositor: f.receiver.address });
      expect(await connector().readEscrow(ours.escrowId)).toMatchObject({ depositor: f.signer.address });
    });

    it('reads the trade, hashlock and notary of an escrow, leaving out those not set', async () => {
      const evm = connector();
      const plain = await depositRequest(1_00n);
      const { hashlock } = secret();
      const conditioned = { ...(await depositRequest(2_00n)), hashlock, notary: f.receiver.address };
      const a = await evm.deposit(plain);
      const b = await evm.deposit(conditioned);
      expect(await evm.readEscrow(a.escrowId)).toEqual({
        escrowId: a.escrowId,
        tradeId: toBytes32Id(plain.tradeId),
        depositor: f.signer.address,
        beneficiary: f.receiver.address,
        controller: f.signer.address,
        asset: f.deployment.token,
        amount: 1_00n,
        released: 0n,
        expiry: plain.expiry,
        state: 'held',
      });
      expect(await evm.readEscrow(b.escrowId)).toMatchObject({
        tradeId: toBytes32Id(conditioned.tradeId),
        hashlock,
        notary: f.receiver.address,
      });
      expect(await evm.readEscrow(evm.escrowIdOf('T-never-deposited'))).toBeUndefined();
    });
  });

  describe('errors', () => {
    it('carries the decoded custom error name, the lock id and the cause', async () => {
      const evm = connector();
      const { lockId } = await evm.lock(await lockRequest(1_00n));
      const err = await caught(evm.refund(lockId));
      expect(err).toMatchObject({ code: 'LOCK_NOT_EXPIRED', context: { lockId, errorName: 'HtlcNotExpired' } });
      expect(err.cause).toBeDefined();
      const bad = await caught(evm.claim(lockId, toHex(randomBytes(32))));
      expect(bad).toMatchObject({ code: 'BAD_PREIMAGE', context: { errorName: 'HtlcPreimageMismatch' } });
    });
  });

  describe('event follower', () => {
    it('delivers every HTLC log of the chain exactly once', async () => {
      const s = openStore(`${tmp.file}-all-logs`, { party: 'BANK' });
      const seen: LedgerEvent[] = [];
      const follower = connector(s).follow('htlc', (e) => void seen.push(e));
      await follower.syncOnce();
      await follower.syncOnce();
      const logs = await f.client.getContractEvents({
        address: f.deployment.htlc,
        abi: hashedTimelockAbi,
        fromBlock: 0n,
      });
      expect(seen.map((e) => `${e.txId}:${e.logIndex}`)).toEqual(logs.map((l) => `${l.transactionHash}:${l.logIndex}`));
      expect(follower.stream).toBe(`htlc:${f.deployment.htlc.toLowerCase()}`);
      s.close();
    });

    it('polls in the background until stopped', async () => {
      const s = openStore(`${tmp.file}-polling`, { party: 'BANK' });
      const seen: LedgerEvent[] = [];
      const follower = connector(s).follow('htlc', (e) => void seen.push(e));
      await follower.syncOnce();
      const errors: unknown[] = [];
      follower.start(10, (e) => errors.push(e));
      const { lockId } = await connector(s).lock(await lockRequest(4n));
      for (let i = 0; i < 200 && !seen.some((e) => e.ref === lockId); i += 1)
        await new Promise((r) => setTimeout(r, 10));
      await follower.stop();
      expect(seen.filter((e) => e.ref === lockId).map((e) => e.kind)).toEqual(['locked']);
      expect(errors).toEqual([]);
      s.close();
    });
  });
});
