import {
  decodeEventLog,
  encodeFunctionData,
  hashTypedData,
  keccak256,
  sha256,
  stringToHex,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { cashTokenAbi, escrowState, releaseApprovalTypedData, settlementEscrowAbi } from '.';
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
beforeAll(async () => {
  f = await setupFixture();
  await fund(f, { alice: 1_000_00n });
}, 60_000);
afterAll(async () => {
  printGasTable('SettlementEscrow');
  await f?.anvil.stop();
});
isolateEachTest(() => f);

const ESCROW_ID = keccak256(stringToHex('escrow-1'));
const TRADE_ID = keccak256(stringToHex('trade-1'));
const PREIMAGE = preimageOf(0x42);
const HASHLOCK = sha256(PREIMAGE);
const ZERO32: Hex = `0x${'00'.repeat(32)}`;
const ZERO_ADDRESS: Address = '0x0000000000000000000000000000000000000000';

interface DepositOptions {
  readonly amount?: bigint;
  readonly ttl?: bigint;
  readonly hashlock?: Hex;
  readonly notary?: Address;
  readonly label?: string;
}

async function deposit(o: DepositOptions = {}) {
  const expiry = (await f.now()) + (o.ttl ?? 3600n);
  const receipt = await f.send(
    'alice',
    {
      address: f.deployment.escrow,
      abi: settlementEscrowAbi,
      functionName: 'deposit',
      args: [
        ESCROW_ID,
        TRADE_ID,
        f.deployment.token,
        o.amount ?? 300_00n,
        f.addr.bob,
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
const getEscrow = () =>
  f.client.readContract({
    address: f.deployment.escrow,
    abi: settlementEscrowAbi,
    functionName: 'getEscrow',
    args: [ESCROW_ID],
  });
const release = (who: Role, amount: bigint, sig: Hex = '0x', label?: string) =>
  f.send(
    who,
    { address: f.deployment.escrow, abi: settlementEscrowAbi, functionName: 'release', args: [ESCROW_ID, amount, sig] },
    label,
  );
const releaseWithPreimage = (who: Role, amount: bigint, preimage: Hex, sig: Hex = '0x', label?: string) =>
  f.send(
    who,
    {
      address: f.deployment.escrow,
      abi: settlementEscrowAbi,
      functionName: 'releaseWithPreimage',
      args: [ESCROW_ID, amount, preimage, sig],
    },
    label,
  );
const returnFunds = (who: Role, label?: string) =>
  f.send(
    who,
    { address: f.deployment.escrow, abi: settlementEscrowAbi, functionName: 'returnFunds', args: [ESCROW_ID] },
    label,
  );
const notarySign = (amount: bigint, nonce: bigint) =>
  f.wallets.notary.signTypedData(
    releaseApprovalTypedData(f.deployment.escrow, f.anvil.chain.id, { escrowId: ESCROW_ID, amount, nonce }),
  );

describe('SettlementEscrow', () => {
  describe('deposit', () => {
    it('holds the funds, stores the terms and emits Deposited', async () => {
      const { expiry, receipt } = await deposit({ hashlock: HASHLOCK, label: 'SettlementEscrow.deposit' });
      expect(escrowEvents(receipt)).toEqual([
        {
          eventName: 'Deposited',
          args: {
            escrowId: ESCROW_ID,
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

    it('rejects a taken escrow id', async () => {
      await deposit();
      await expectRevert(deposit(), 'EscrowAlreadyExists', [ESCROW_ID]);
    });

    it('rejects a fee-on-transfer token by balance delta', async () => {
      const fee = await deployMisbehavingToken(f, 'fee-on-transfer', f.deployment.escrow, 100n);
      const expiry = (await f.now()) + 3600n;
      const call = f.send('alice', {
        address: f.deployment.escrow,
        abi: settlementEscrowAbi,
        functionName: 'deposit',
        args: [ESCROW_ID, TRADE_ID, fee, 100n, f.addr.bob, f.addr.carol, expiry, ZERO32, ZERO_ADDRESS],
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
            escrowId: ESCROW_ID,
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
      await expectRevert(release('carol', 1n), 'EscrowAlreadySettled', [ESCROW_ID, escrowState.Released]);
    });

    it('rejects a stranger, the depositor and the beneficiary', async () => {
      await deposit();
      for (const who of ['alice', 'bob', 'notary'] as const) {
        await expectRevert(release(who, 1n), 'EscrowUnauthorized', [ESCROW_ID, f.addr[who]]);
      }
    });

    it('rejects more than what remains', async () => {
      await deposit();
      await release('carol', 250_00n);
      await expectRevert(release('carol', 50_01n), 'EscrowExceedsRemaining', [ESCROW_ID, 50_01n, 50_00n]);
    });

    it('rejects a zero amount', async () => {
      await deposit();
      await expectRevert(release('carol', 0n), 'EscrowZeroAmount', []);
    });

    it('rejects a release at expiry', async () => {
      const { expiry } = await deposit();
      await f.setNextTime(expiry);
      await expectRevert(release('carol', 1n), 'EscrowExpired', [ESCROW_ID, expiry, expiry]);
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
        ESCROW_ID,
        HASHLOCK,
        sha256(wrong),
      ]);
      await expectRevert(releaseWithPreimage('bob', 1n, '0x4242'), 'EscrowInvalidPreimageLength', [2n]);
    });

    it('rejects any preimage at expiry with EscrowExpired, checking the time before the digest', async () => {
      const { expiry } = await deposit({ hashlock: HASHLOCK });
      await f.setNextTime(expiry);
      await expectRevert(releaseWithPreimage('bob', 1n, preimageOf(0x41)), 'EscrowExpired', [
        ESCROW_ID,
        expiry,
        expiry,
      ]);
      await f.setNextTime(expiry + 1n);
      await expectRevert(releaseWithPreimage('bob', 1n, PREIMAGE), 'EscrowExpired', [ESCROW_ID, expiry, expiry + 1n]);
    });

    it('rejects a preimage release when the escrow has no hashlock', async () => {
      await deposit();
      await expectRevert(releaseWithPreimage('bob', 1n, PREIMAGE), 'EscrowNoHashlock', [ESCROW_ID]);
    });
  });

  describe('notary co-approval', () => {
    it('requires the notary signature over (escrowId, amount, nonce) and never accepts it twice', async () => {
      await deposit({ notary: f.addr.notary });
      await expectRevert(release('carol', 100_00n), 'EscrowInvalidNotarySignature', [ESCROW_ID, f.addr.notary, 0n]);
      const first = await notarySign(100_00n, 0n);
      await release('carol', 100_00n, first, 'SettlementEscrow.release (notary)');
      expect((await getEscrow()).releaseNonce).toBe(1n);
      await expectRevert(release('carol', 100_00n, first), 'EscrowInvalidNotarySignature', [
        ESCROW_ID,
        f.addr.notary,
        1n,
      ]);
      const wrongAmount = await notarySign(50_00n, 1n);
      await expectRevert(release('carol', 100_00n, wrongAmount), 'EscrowInvalidNotarySignature', [
        ESCROW_ID,
        f.addr.notary,
        1n,
      ]);
      await release('carol', 100_00n, await notarySign(100_00n, 1n));
      expect(await balance(f.addr.bob)).toBe(200_00n);
    });

    it('rejects a signature by someone other than the notary', async () => {
      await deposit({ notary: f.addr.notary });
      const forged = await f.wallets.carol.signTypedData(
        releaseApprovalTypedData(f.deployment.escrow, f.anvil.chain.id, { escrowId: ESCROW_ID, amount: 1n, nonce: 0n }),
      );
      await expectRevert(release('carol', 1n, forged), 'EscrowInvalidNotarySignature', [ESCROW_ID, f.addr.notary, 0n]);
    });

    it('matches the digest the contract computes', async () => {
      const digest = await f.client.readContract({
        address: f.deployment.escrow,
        abi: settlementEscrowAbi,
        functionName: 'releaseDigest',
        args: [ESCROW_ID, 5n, 7n],
      });
      expect(digest).toBe(
        hashTypedData(
          releaseApprovalTypedData(f.deployment.escrow, f.anvil.chain.id, {
            escrowId: ESCROW_ID,
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
          args: { escrowId: ESCROW_ID, depositor: f.addr.alice, caller: f.addr.carol, amount: 180_00n },
        },
      ]);
      expect(await balance(f.addr.alice)).toBe(880_00n);
      expect((await getEscrow()).state).toBe(escrowState.Returned);
      await expectRevert(release('carol', 1n), 'EscrowAlreadySettled', [ESCROW_ID, escrowState.Returned]);
    });

    it('lets the depositor take the funds back at expiry but not before', async () => {
      const { expiry } = await deposit();
      await f.setNextTime(expiry - 1n);
      await expectRevert(returnFunds('alice'), 'EscrowNotExpired', [ESCROW_ID, expiry, expiry - 1n]);
      await f.setNextTime(expiry);
      await returnFunds('alice', 'SettlementEscrow.returnFunds (depositor)');
      expect(await balance(f.addr.alice)).toBe(1_000_00n);
    });

    it('rejects anyone else, even after expiry', async () => {
      const { expiry } = await deposit();
      await f.setNextTime(expiry + 10n);
      await expectRevert(returnFunds('bob'), 'EscrowUnauthorized', [ESCROW_ID, f.addr.bob]);
    });

    it('is protected against re-entrancy from the token', async () => {
      const evil = await deployMisbehavingToken(f, 'reentrant', f.deployment.escrow, 100n);
      const expiry = (await f.now()) + 60n;
      await f.send('alice', {
        address: f.deployment.escrow,
        abi: settlementEscrowAbi,
        functionName: 'deposit',
        args: [ESCROW_ID, TRADE_ID, evil, 100n, f.addr.bob, f.addr.alice, expiry, ZERO32, ZERO_ADDRESS],
      });
      // While paying out the release, the token calls back into returnFunds; the guard fires first.
      const payload = encodeFunctionData({ abi: settlementEscrowAbi, functionName: 'returnFunds', args: [ESCROW_ID] });
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
        args: [ESCROW_ID, 40n, '0x'],
      });
      await expectRevert(call, 'ReentrancyGuardReentrantCall', []);
    });

    it('rejects an unknown escrow', async () => {
      await expectRevert(returnFunds('carol'), 'EscrowNotFound', [ESCROW_ID]);
    });
  });
});
