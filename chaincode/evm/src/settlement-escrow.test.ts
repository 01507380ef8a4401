import {
  decodeEventLog,
  encodeAbiParameters,
  encodeFunctionData,
  hashTypedData,
  keccak256,
  sha256,
  stringToHex,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { cashTokenAbi, computeEscrowId, escrowState, releaseApprovalTypedData, settlementEscrowAbi } from '.';
import {
  deployMisbehavingToken,
  expectRevert,
  fund,
  isolateEachTest,
  preimageOf,
  printGasTable,
  setupFixture,
  type Fixture,
  type Role,
} from './__tests__/fixture';
import { reentrantTokenAbi } from './testing';

let f: Fixture;
/** Alice's escrow for {@link TRADE_ID}, the one most tests use. */
let escrowId: Hex;
beforeAll(async () => {
  f = await setupFixture();
  await fund(f, { alice: 1_000_00n });
  escrowId = computeEscrowId(f.addr.alice, TRADE_ID);
}, 60_000);
afterAll(async () => {
  printGasTable('SettlementEscrow');
  await f?.anvil.stop();
});
isolateEachTest(() => f);

const TRADE_ID = keccak256(stringToHex('trade-1'));
const OTHER_TRADE_ID = keccak256(stringToHex('trade-2'));
const PREIMAGE = preimageOf(0x42);
const HASHLOCK = sha256(PREIMAGE);
const ZERO32: Hex = `0x${'00'.repeat(32)}`;
const ZERO_ADDRESS: Address = '0x0000000000000000000000000000000000000000';

interface DepositOptions {
  readonly from?: Role;
  readonly tradeId?: Hex;
  readonly beneficiary?: Role;
  readonly amount?: bigint;
  readonly ttl?: bigint;
  readonly hashlock?: Hex;
  readonly notary?: Address;
  readonly label?: string;
}

async function deposit(o: DepositOptions = {}) {
  const expiry = (await f.now()) + (o.ttl ?? 3600n);
  const receipt = await f.send(
    o.from ?? 'alice',
    {
      address: f.deployment.escrow,
      abi: settlementEscrowAbi,
      functionName: 'deposit',
      args: [
        o.tradeId ?? TRADE_ID,
        f.deployment.token,
        o.amount ?? 300_00n,
        f.addr[o.beneficiary ?? 'bob'],
        f.addr.carol,
        expiry,
        o.hashlock ?? ZERO32,
        o.notary ?? ZERO_ADDRESS,
      ],
    },
    o.label,
  );
  return { expiry, receipt };
}

const escrowEvents = (receipt: TransactionReceipt) =>
  receipt.logs
    .filter((l) => l.address.toLowerCase() === f.deployment.escrow.toLowerCase())
    .map((l) => decodeEventLog({ abi: settlementEscrowAbi, data: l.data, topics: l.topics }));
const balance = (who: Address) =>
  f.client.readContract({ address: f.deployment.token, abi: cashTokenAbi, functionName: 'balanceOf', args: [who] });
const getEscrow = (id: Hex = escrowId) =>
  f.client.readContract({
    address: f.deployment.escrow,
    abi: settlementEscrowAbi,
    functionName: 'getEscrow',
    args: [id],
  });
const release = (who: Role, amount: bigint, sig: Hex = '0x', label?: string) =>
  f.send(
    who,
    { address: f.deployment.escrow, abi: settlementEscrowAbi, functionName: 'release', args: [escrowId, amount, sig] },
    label,
  );
const releaseWithPreimage = (who: Role, amount: bigint, preimage: Hex, sig: Hex = '0x', label?: string) =>
  f.send(
    who,
    {
      address: f.deployment.escrow,
      abi: settlementEscrowAbi,
      functionName: 'releaseWithPreimage',
      args: [escrowId, amount, preimage, sig],
    },
    label,
  );
const returnFunds = (who: Role, label?: string) =>
  f.send(
    who,
    { address: f.deployment.escrow, abi: settlementEscrowAbi, functionName: 'returnFunds', args: [escrowId] },
    label,
  );
const notarySign = (amount: bigint, nonce: bigint) =>
  f.wallets.notary.signTypedData(
    releaseApprovalTypedData(f.deployment.escrow, f.anvil.chain.id, { escrowId, amount, nonce }),
  );

describe('SettlementEscrow', () => {
  describe('deposit', () => {
    it('holds the funds, stores the terms and emits Deposited', async () => {
      const { expiry, receipt } = await deposit({ hashlock: HASHLOCK, label: 'SettlementEscrow.deposit' });
      expect(escrowEvents(receipt)).toEqual([
        {
          eventName: 'Deposited',
          args: {
            escrowId,
            tradeId: TRADE_ID,
            depositor: f.addr.alice,
            token: f.deployment.token,
            amount: 300_00n,
            beneficiary: f.addr.bob,
            controller: f.addr.carol,
            expiry,
            hashlock: HASHLOCK,
            notary: ZERO_ADDRESS,
          },
        },
      ]);
      expect(await getEscrow()).toEqual({
        tradeId: TRADE_ID,
        token: f.deployment.token,
        depositor: f.addr.alice,
        beneficiary: f.addr.bob,
        controller: f.addr.carol,
        notary: ZERO_ADDRESS,
        expiry,
        state: escrowState.Held,
        releaseNonce: 0n,
        amount: 300_00n,
        released: 0n,
        hashlock: HASHLOCK,
      });
      expect(await balance(f.deployment.escrow)).toBe(300_00n);
    });

    it('derives the escrow id from the depositor and the trade, as computeEscrowId does', async () => {
      const onChain = await f.client.readContract({
        address: f.deployment.escrow,
        abi: settlementEscrowAbi,
        functionName: 'computeEscrowId',
        args: [f.addr.alice, TRADE_ID],
      });
      expect(onChain).toBe(
        keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [f.addr.alice, TRADE_ID])),
      );
      expect(computeEscrowId(f.addr.alice, TRADE_ID)).toBe(onChain);
      const { expiry } = await deposit();
      const { result } = await f.client.simulateContract({
        account: f.addr.alice,
        address: f.deployment.escrow,
        abi: settlementEscrowAbi,
        functionName: 'deposit',
        args: [OTHER_TRADE_ID, f.deployment.token, 1n, f.addr.bob, f.addr.carol, expiry, ZERO32, ZERO_ADDRESS],
      });
      expect(result).toBe(computeEscrowId(f.addr.alice, OTHER_TRADE_ID));
      expect((await getEscrow(onChain)).state).toBe(escrowState.Held);
    });

    it('rejects a second deposit by the same depositor for the same trade, whatever its terms', async () => {
      await deposit();
      await expectRevert(deposit(), 'EscrowAlreadyExists', [escrowId]);
      await expectRevert(deposit({ amount: 1n, hashlock: HASHLOCK }), 'EscrowAlreadyExists', [escrowId]);
      expect(await balance(f.deployment.escrow)).toBe(300_00n);
    });

    it('gives each depositor its own escrow for one trade, so nobody can take another’s id first', async () => {
      await fund(f, { bob: 50_00n });
      const first = await deposit({ from: 'bob', beneficiary: 'alice', amount: 50_00n });
      const second = await deposit();
      const bobs = computeEscrowId(f.addr.bob, TRADE_ID);
      expect(escrowEvents(first.receipt)[0]?.args).toMatchObject({ escrowId: bobs, depositor: f.addr.bob });
      expect(escrowEvents(second.receipt)[0]?.args).toMatchObject({ escrowId, depositor: f.addr.alice });
      expect(bobs).not.toBe(escrowId);
      expect(await getEscrow(bobs)).toMatchObject({ depositor: f.addr.bob, beneficiary: f.addr.alice, amount: 50_00n });
      expect(await getEscrow()).toMatchObject({ depositor: f.addr.alice, beneficiary: f.addr.bob, amount: 300_00n });
      await release('carol', 300_00n);
      expect(await balance(f.addr.bob)).toBe(300_00n);
      expect((await getEscrow(bobs)).state).toBe(escrowState.Held);
    });

    it('rejects a fee-on-transfer token by balance delta', async () => {
      const fee = await deployMisbehavingToken(f, 'fee-on-transfer', f.deployment.escrow, 100n);
      const expiry = (await f.now()) + 3600n;
      const call = f.send('alice', {
        address: f.deployment.escrow,
        abi: settlementEscrowAbi,
        functionName: 'deposit',
        args: [TRADE_ID, fee, 100n, f.addr.bob, f.addr.carol, expiry, ZERO32, ZERO_ADDRESS],
      });
      await expectRevert(call, 'EscrowTransferAmountMismatch', [fee, 100n, 99n]);
    });

    it('rejects a zero amount and more than the balance', async () => {
      await expectRevert(deposit({ amount: 0n }), 'EscrowZeroAmount', []);
      await expectRevert(deposit({ amount: 2_000_00n }), 'ERC20InsufficientBalance', [
        f.addr.alice,
        1_000_00n,
        2_000_00n,
      ]);
    });
  });

  describe('release', () => {
    it('pays part to the beneficiary and keeps the rest in escrow', async () => {
      await deposit();
      const receipt = await release('carol', 100_00n, '0x', 'SettlementEscrow.release (partial)');
      expect(escrowEvents(receipt)).toEqual([
        {
          eventName: 'Released',
          args: {
            escrowId,
            beneficiary: f.addr.bob,
            caller: f.addr.carol,
            amount: 100_00n,
            remaining: 200_00n,
            preimage: ZERO32,
          },
        },
      ]);
      expect(await balance(f.addr.bob)).toBe(100_00n);
      expect(await balance(f.deployment.escrow)).toBe(200_00n);
      expect((await getEscrow()).state).toBe(escrowState.Held);
      await release('carol', 200_00n, '0x', 'SettlementEscrow.release (rest)');
      expect((await getEscrow()).state).toBe(escrowState.Released);
      await expectRevert(release('carol', 1n), 'EscrowAlreadySettled', [escrowId, escrowState.Released]);
    });

    it('rejects a stranger, the depositor and the beneficiary', async () => {
      await deposit();
      for (const who of ['alice', 'bob', 'notary'] as const) {
        await expectRevert(release(who, 1n), 'EscrowUnauthorized', [escrowId, f.addr[who]]);
      }
    });

    it('rejects more than what remains', async () => {
      await deposit();
      await release('carol', 250_00n);
      await expectRevert(release('carol', 50_01n), 'EscrowExceedsRemaining', [escrowId, 50_01n, 50_00n]);
    });

    it('rejects a zero amount', async () => {
      await deposit();
      await expectRevert(release('carol', 0n), 'EscrowZeroAmount', []);
    });

    it('rejects a release at expiry', async () => {
      const { expiry } = await deposit();
      await f.setNextTime(expiry);
      await expectRevert(release('carol', 1n), 'EscrowExpired', [escrowId, expiry, expiry]);
    });

    it('lets anyone holding the preimage release and publishes it', async () => {
      await deposit({ hashlock: HASHLOCK });
      const receipt = await releaseWithPreimage('bob', 300_00n, PREIMAGE, '0x', 'SettlementEscrow.releaseWithPreimage');
      expect(escrowEvents(receipt)[0]?.args).toMatchObject({
        amount: 300_00n,
        remaining: 0n,
        preimage: PREIMAGE,
        caller: f.addr.bob,
      });
      expect(await balance(f.addr.bob)).toBe(300_00n);
    });

    it('rejects a wrong preimage, a preimage of the wrong length, and a preimage without hashlock', async () => {
      await deposit({ hashlock: HASHLOCK });
      const wrong = preimageOf(0x41);
      await expectRevert(releaseWithPreimage('bob', 1n, wrong), 'EscrowPreimageMismatch', [
        escrowId,
        HASHLOCK,
        sha256(wrong),
      ]);
      await expectRevert(releaseWithPreimage('bob', 1n, '0x4242'), 'EscrowInvalidPreimageLength', [2n]);
    });

    it('rejects any preimage at expiry with EscrowExpired, checking the time before the digest', async () => {
      const { expiry } = await deposit({ hashlock: HASHLOCK });
      await f.setNextTime(expiry);
      await expectRevert(releaseWithPreimage('bob', 1n, preimageOf(0x41)), 'EscrowExpired', [escrowId, expiry, expiry]);
      await f.setNextTime(expiry + 1n);
      await expectRevert(releaseWithPreimage('bob', 1n, PREIMAGE), 'EscrowExpired', [escrowId, expiry, expiry + 1n]);
    });

    it('rejects a preimage release when the escrow has no hashlock', async () => {
      await deposit();
      await expectRevert(releaseWithPreimage('bob', 1n, PREIMAGE), 'EscrowNoHashlock', [escrowId]);
    });
  });

  describe('notary co-approval', () => {
    it('requires the notary signature over (escrowId, amount, nonce) and never accepts it twice', async () => {
      await deposit({ notary: f.addr.notary });
      await expectRevert(release('carol', 100_00n), 'EscrowInvalidNotarySignature', [escrowId, f.addr.notary, 0n]);
      const first = await notarySign(100_00n, 0n);
      await release('carol', 100_00n, first, 'SettlementEscrow.release (notary)');
      expect((await getEscrow()).releaseNonce).toBe(1n);
      await expectRevert(release('carol', 100_00n, first), 'EscrowInvalidNotarySignature', [
        escrowId,
        f.addr.notary,
        1n,
      ]);
      const wrongAmount = await notarySign(50_00n, 1n);
      await expectRevert(release('carol', 100_00n, wrongAmount), 'EscrowInvalidNotarySignature', [
        escrowId,
        f.addr.notary,
        1n,
      ]);
      await release('carol', 100_00n, await notarySign(100_00n, 1n));
      expect(await balance(f.addr.bob)).toBe(200_00n);
    });

    it('rejects a signature by someone other than the notary', async () => {
      await deposit({ notary: f.addr.notary });
      const forged = await f.wallets.carol.signTypedData(
        releaseApprovalTypedData(f.deployment.escrow, f.anvil.chain.id, { escrowId, amount: 1n, nonce: 0n }),
      );
      await expectRevert(release('carol', 1n, forged), 'EscrowInvalidNotarySignature', [escrowId, f.addr.notary, 0n]);
    });

    it('matches the digest the contract computes', async () => {
      const digest = await f.client.readContract({
        address: f.deployment.escrow,
        abi: settlementEscrowAbi,
        functionName: 'releaseDigest',
        args: [escrowId, 5n, 7n],
      });
      expect(digest).toBe(
        hashTypedData(
          releaseApprovalTypedData(f.deployment.escrow, f.anvil.chain.id, {
            escrowId,
            amount: 5n,
            nonce: 7n,
          }),
        ),
      );
    });
  });

  describe('returnFunds', () => {
    it('lets the controller return the remainder before expiry', async () => {
      await deposit();
      await release('carol', 120_00n);
      const receipt = await returnFunds('carol', 'SettlementEscrow.returnFunds (controller)');
      expect(escrowEvents(receipt)).toEqual([
        {
          eventName: 'Returned',
          args: { escrowId, depositor: f.addr.alice, caller: f.addr.carol, amount: 180_00n },
        },
      ]);
      expect(await balance(f.addr.alice)).toBe(880_00n);
      expect((await getEscrow()).state).toBe(escrowState.Returned);
      await expectRevert(release('carol', 1n), 'EscrowAlreadySettled', [escrowId, escrowState.Returned]);
    });

    it('lets the depositor take the funds back at expiry but not before', async () => {
      const { expiry } = await deposit();
      await f.setNextTime(expiry - 1n);
      await expectRevert(returnFunds('alice'), 'EscrowNotExpired', [escrowId, expiry, expiry - 1n]);
      await f.setNextTime(expiry);
      await returnFunds('alice', 'SettlementEscrow.returnFunds (depositor)');
      expect(await balance(f.addr.alice)).toBe(1_000_00n);
    });

    it('rejects anyone else, even after expiry', async () => {
      const { expiry } = await deposit();
      await f.setNextTime(expiry + 10n);
      await expectRevert(returnFunds('bob'), 'EscrowUnauthorized', [escrowId, f.addr.bob]);
    });

    it('is protected against re-entrancy from the token', async () => {
      const evil = await deployMisbehavingToken(f, 'reentrant', f.deployment.escrow, 100n);
      const expiry = (await f.now()) + 60n;
      await f.send('alice', {
        address: f.deployment.escrow,
        abi: settlementEscrowAbi,
        functionName: 'deposit',
        args: [TRADE_ID, evil, 100n, f.addr.bob, f.addr.alice, expiry, ZERO32, ZERO_ADDRESS],
      });
      // While paying out the release, the token calls back into returnFunds; the guard fires first.
      const payload = encodeFunctionData({ abi: settlementEscrowAbi, functionName: 'returnFunds', args: [escrowId] });
      await f.send('alice', {
        address: evil,
        abi: reentrantTokenAbi,
        functionName: 'arm',
        args: [f.deployment.escrow, payload],
      });
      const call = f.send('alice', {
        address: f.deployment.escrow,
        abi: settlementEscrowAbi,
        functionName: 'release',
        args: [escrowId, 40n, '0x'],
      });
      await expectRevert(call, 'ReentrancyGuardReentrantCall', []);
    });

    it('rejects an unknown escrow', async () => {
      await expectRevert(returnFunds('carol'), 'EscrowNotFound', [escrowId]);
    });
  });
});
