import { decodeEventLog, encodeFunctionData, sha256, type Hex, type TransactionReceipt } from 'viem';
import { cashTokenAbi, hashedTimelockAbi, lockState } from '.';
import { reentrantTokenAbi } from './testing';
import {
  deployMisbehavingToken,
  expectRevert,
  fund,
  isolateEachTest,
  preimageOf,
  printGasTable,
  setupFixture,
  type Fixture,
} from './__tests__/fixture';

let f: Fixture;
beforeAll(async () => {
  f = await setupFixture();
  await fund(f, { alice: 1_000_00n });
}, 60_000);
afterAll(async () => {
  printGasTable('HashedTimelock');
  await f?.anvil.stop();
});
isolateEachTest(() => f);

const PREIMAGE = preimageOf(0x42);
const HASHLOCK = sha256(PREIMAGE);

function lockedEvent(receipt: TransactionReceipt) {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== f.deployment.htlc.toLowerCase()) continue;
    const ev = decodeEventLog({ abi: hashedTimelockAbi, data: log.data, topics: log.topics });
    if (ev.eventName === 'Locked') return ev.args;
  }
  throw new Error('no Locked event');
}

function htlcEvents(receipt: TransactionReceipt) {
  return receipt.logs
    .filter((l) => l.address.toLowerCase() === f.deployment.htlc.toLowerCase())
    .map((l) => decodeEventLog({ abi: hashedTimelockAbi, data: l.data, topics: l.topics }));
}

async function lock(amount = 250_00n, ttl = 3600n, hashlock: Hex = HASHLOCK) {
  const expiry = (await f.now()) + ttl;
  const receipt = await f.send(
    'alice',
    {
      address: f.deployment.htlc,
      abi: hashedTimelockAbi,
      functionName: 'lock',
      args: [f.addr.bob, f.deployment.token, amount, hashlock, expiry],
    },
    'HashedTimelock.lock',
  );
  return { lockId: lockedEvent(receipt).lockId, expiry, receipt };
}

const balance = (who: `0x${string}`) =>
  f.client.readContract({ address: f.deployment.token, abi: cashTokenAbi, functionName: 'balanceOf', args: [who] });
const claim = (lockId: Hex, preimage: Hex = PREIMAGE, label?: string) =>
  f.send(
    'carol',
    { address: f.deployment.htlc, abi: hashedTimelockAbi, functionName: 'claim', args: [lockId, preimage] },
    label,
  );
const refund = (lockId: Hex, label?: string) =>
  f.send(
    'carol',
    { address: f.deployment.htlc, abi: hashedTimelockAbi, functionName: 'refund', args: [lockId] },
    label,
  );

describe('HashedTimelock', () => {
  describe('lock', () => {
    it('pulls the funds, stores the terms and emits Locked with the derived id', async () => {
      const { lockId, expiry, receipt } = await lock();
      const expectedId = await f.client.readContract({
        address: f.deployment.htlc,
        abi: hashedTimelockAbi,
        functionName: 'computeLockId',
        args: [f.addr.alice, f.addr.bob, f.deployment.token, 250_00n, HASHLOCK, expiry],
      });
      expect(lockId).toBe(expectedId);
      expect(lockedEvent(receipt)).toEqual({
        lockId,
        hashlock: HASHLOCK,
        receiver: f.addr.bob,
        sender: f.addr.alice,
        token: f.deployment.token,
        amount: 250_00n,
        expiry,
      });
      const stored = await f.client.readContract({
        address: f.deployment.htlc,
        abi: hashedTimelockAbi,
        functionName: 'getLock',
        args: [lockId],
      });
      expect(stored).toEqual({
        sender: f.addr.alice,
        receiver: f.addr.bob,
        token: f.deployment.token,
        expiry,
        state: lockState.Locked,
        amount: 250_00n,
        hashlock: HASHLOCK,
      });
      expect(await balance(f.deployment.htlc)).toBe(250_00n);
      expect(await balance(f.addr.alice)).toBe(750_00n);
    });

    it('treats the same terms sent again as a retry: rejected with the existing id, nothing pulled twice', async () => {
      const first = await lock(10n, 3600n);
      const before = await balance(f.addr.alice);
      const retry = f.send('alice', {
        address: f.deployment.htlc,
        abi: hashedTimelockAbi,
        functionName: 'lock',
        args: [f.addr.bob, f.deployment.token, 10n, HASHLOCK, first.expiry],
      });
      await expectRevert(retry, 'HtlcLockExists', [first.lockId]);
      expect(await balance(f.addr.alice)).toBe(before);
    });

    it('rejects a zero amount', async () => {
      await expectRevert(lock(0n), 'HtlcZeroAmount', []);
    });

    it('rejects a zero hashlock', async () => {
      await expectRevert(lock(1n, 3600n, `0x${'00'.repeat(32)}`), 'HtlcInvalidHashlock', []);
    });

    it('rejects an expiry that is not in the future', async () => {
      const t = (await f.now()) + 10n;
      await f.setNextTime(t);
      const call = f.send('alice', {
        address: f.deployment.htlc,
        abi: hashedTimelockAbi,
        functionName: 'lock',
        args: [f.addr.bob, f.deployment.token, 1n, HASHLOCK, t],
      });
      await expectRevert(call, 'HtlcInvalidExpiry', [t, t]);
    });

    it('rejects more than the free balance with the token error', async () => {
      await expectRevert(lock(1_000_01n), 'ERC20InsufficientBalance', [f.addr.alice, 1_000_00n, 1_000_01n]);
    });

    it('rejects a fee-on-transfer token by balance delta', async () => {
      const fee = await deployMisbehavingToken(f, 'fee-on-transfer', f.deployment.htlc, 100n);
      const expiry = (await f.now()) + 3600n;
      const call = f.send('alice', {
        address: f.deployment.htlc,
        abi: hashedTimelockAbi,
        functionName: 'lock',
        args: [f.addr.bob, fee, 100n, HASHLOCK, expiry],
      });
      await expectRevert(call, 'HtlcTransferAmountMismatch', [fee, 100n, 99n]);
    });
  });

  describe('claim', () => {
    it('pays the receiver (whoever calls) and publishes the preimage in Claimed', async () => {
      const { lockId } = await lock();
      const receipt = await claim(lockId, PREIMAGE, 'HashedTimelock.claim');
      expect(htlcEvents(receipt)).toEqual([
        {
          eventName: 'Claimed',
          args: { lockId, hashlock: HASHLOCK, receiver: f.addr.bob, preimage: PREIMAGE, amount: 250_00n },
        },
      ]);
      expect(await balance(f.addr.bob)).toBe(250_00n);
      expect(await balance(f.addr.carol)).toBe(0n);
      expect(await balance(f.deployment.htlc)).toBe(0n);
    });

    it('accepts a claim one second before expiry', async () => {
      const { lockId, expiry } = await lock();
      await f.setNextTime(expiry - 1n);
      await claim(lockId);
      expect(await balance(f.addr.bob)).toBe(250_00n);
    });

    it('rejects a claim at expiry', async () => {
      const { lockId, expiry } = await lock();
      await f.setNextTime(expiry);
      await expectRevert(claim(lockId), 'HtlcExpired', [lockId, expiry, expiry]);
    });

    it('rejects a wrong 32-byte preimage with both digests', async () => {
      const { lockId } = await lock();
      const wrong = preimageOf(0x43);
      await expectRevert(claim(lockId, wrong), 'HtlcPreimageMismatch', [lockId, HASHLOCK, sha256(wrong)]);
    });

    it.each([0, 31, 33, 64])('rejects a preimage of %i bytes with its own error', async (length) => {
      const { lockId } = await lock();
      const preimage: Hex = `0x${'42'.repeat(length)}`;
      await expectRevert(claim(lockId, preimage), 'HtlcInvalidPreimageLength', [BigInt(length)]);
    });

    it('rejects a second claim', async () => {
      const { lockId } = await lock();
      await claim(lockId);
      await expectRevert(claim(lockId), 'HtlcAlreadySettled', [lockId, lockState.Claimed]);
    });

    it('rejects an unknown lock id', async () => {
      const unknown: Hex = `0x${'ab'.repeat(32)}`;
      await expectRevert(claim(unknown), 'HtlcLockNotFound', [unknown]);
    });
  });

  describe('refund', () => {
    it('returns the funds to the sender at expiry and emits Refunded', async () => {
      const { lockId, expiry } = await lock();
      await f.setNextTime(expiry);
      const receipt = await refund(lockId, 'HashedTimelock.refund');
      expect(htlcEvents(receipt)).toEqual([
        { eventName: 'Refunded', args: { lockId, sender: f.addr.alice, amount: 250_00n } },
      ]);
      expect(await balance(f.addr.alice)).toBe(1_000_00n);
    });

    it('rejects a refund one second before expiry', async () => {
      const { lockId, expiry } = await lock();
      await f.setNextTime(expiry - 1n);
      await expectRevert(refund(lockId), 'HtlcNotExpired', [lockId, expiry, expiry - 1n]);
    });

    it('rejects a refund after a claim, and a claim after a refund', async () => {
      const claimed = await lock();
      await claim(claimed.lockId);
      const refunded = await lock(240_00n); // other terms: the same terms again would be a retry
      await f.setNextTime(refunded.expiry);
      await refund(refunded.lockId);
      await f.setNextTime(claimed.expiry + 1n);
      await expectRevert(refund(claimed.lockId), 'HtlcAlreadySettled', [claimed.lockId, lockState.Claimed]);
      await expectRevert(claim(refunded.lockId), 'HtlcAlreadySettled', [refunded.lockId, lockState.Refunded]);
    });

    it('is protected against re-entrancy from the token', async () => {
      const evil = await deployMisbehavingToken(f, 'reentrant', f.deployment.htlc, 100n);
      const expiry = (await f.now()) + 60n;
      const receipt = await f.send('alice', {
        address: f.deployment.htlc,
        abi: hashedTimelockAbi,
        functionName: 'lock',
        args: [f.addr.bob, evil, 100n, HASHLOCK, expiry],
      });
      const { lockId } = lockedEvent(receipt);
      // On the refund transfer out of the HTLC, the token calls refund again.
      const payload = encodeFunctionData({ abi: hashedTimelockAbi, functionName: 'refund', args: [lockId] });
      await f.send('alice', {
        address: evil,
        abi: reentrantTokenAbi,
        functionName: 'arm',
        args: [f.deployment.htlc, payload],
      });
      await f.setNextTime(expiry);
      await expectRevert(refund(lockId), 'ReentrancyGuardReentrantCall', []);
    });
  });
});
