/**
 * Invariant 1 (conservation), checked on the chain itself: after every step of a random sequence
 * of mint/burn/transfer/lock/claim/refund/deposit/release/return, for the token,
 *   free balances + locked + escrowed = minted - burned
 * and the HTLC and escrow hold exactly what they account as locked and escrowed.
 */
import fc from 'fast-check';
import { keccak256, sha256, toHex, type Address, type Hex } from 'viem';
import { cashTokenAbi, decodeCashRevert, hashedTimelockAbi, settlementEscrowAbi } from '.';
import { fund, preimageOf, setupFixture, type Fixture, type Role } from './__tests__/fixture';

const HOLDERS = ['admin', 'alice', 'bob', 'carol'] as const satisfies readonly Role[];
type Holder = (typeof HOLDERS)[number];
const PREIMAGE = preimageOf(0x77);
const HASHLOCK = sha256(PREIMAGE);
const ZERO32: Hex = `0x${'00'.repeat(32)}`;
const ZERO_ADDRESS: Address = '0x0000000000000000000000000000000000000000';

const holder = fc.constantFrom(...HOLDERS);
const amount = fc.bigInt({ min: 0n, max: 300n });
const ttl = fc.bigInt({ min: 1n, max: 120n });
const index = fc.nat({ max: 7 });

const action = fc.oneof(
  fc.record({ kind: fc.constant('mint' as const), to: holder, amount }),
  fc.record({ kind: fc.constant('burn' as const), amount }),
  fc.record({ kind: fc.constant('transfer' as const), from: holder, to: holder, amount }),
  fc.record({ kind: fc.constant('lock' as const), from: holder, to: holder, amount, ttl }),
  fc.record({ kind: fc.constant('claim' as const), lock: index, good: fc.boolean() }),
  fc.record({ kind: fc.constant('refund' as const), lock: index }),
  fc.record({
    kind: fc.constant('deposit' as const),
    from: holder,
    to: holder,
    controller: holder,
    amount,
    ttl,
    hashlocked: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('release' as const), escrow: index, by: holder, amount, preimage: fc.boolean() }),
  fc.record({ kind: fc.constant('return' as const), escrow: index, by: holder }),
  fc.record({ kind: fc.constant('wait' as const), seconds: fc.bigInt({ min: 1n, max: 90n }) }),
);
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;

let f: Fixture;
beforeAll(async () => {
  f = await setupFixture();
  await fund(f, { admin: 0n, alice: 0n, bob: 0n, carol: 0n }); // approvals only
}, 60_000);
afterAll(async () => {
  await f?.anvil.stop();
});

interface RunState {
  locks: Hex[];
  escrows: Hex[];
  minted: bigint;
  burned: bigint;
}

async function apply(a: Action, s: RunState): Promise<void> {
  const { token, htlc, escrow } = f.deployment;
  const at = <T>(list: T[], i: number): T | undefined => (list.length === 0 ? undefined : list[i % list.length]);
  switch (a.kind) {
    case 'mint':
      await f.send('admin', {
        address: token,
        abi: cashTokenAbi,
        functionName: 'mint',
        args: [f.addr[a.to], a.amount],
      });
      s.minted += a.amount;
      return;
    case 'burn':
      await f.send('admin', { address: token, abi: cashTokenAbi, functionName: 'burn', args: [a.amount] });
      s.burned += a.amount;
      return;
    case 'transfer':
      await f.send(a.from, {
        address: token,
        abi: cashTokenAbi,
        functionName: 'transfer',
        args: [f.addr[a.to], a.amount],
      });
      return;
    case 'lock': {
      const expiry = (await f.now()) + a.ttl;
      const nonce = await f.client.readContract({
        address: htlc,
        abi: hashedTimelockAbi,
        functionName: 'lockNonce',
        args: [f.addr[a.from]],
      });
      await f.send(a.from, {
        address: htlc,
        abi: hashedTimelockAbi,
        functionName: 'lock',
        args: [f.addr[a.to], token, a.amount, HASHLOCK, expiry],
      });
      const id = await f.client.readContract({
        address: htlc,
        abi: hashedTimelockAbi,
        functionName: 'computeLockId',
        args: [f.addr[a.from], nonce, f.addr[a.to], token, a.amount, HASHLOCK, expiry],
      });
      s.locks.push(id);
      return;
    }
    case 'claim': {
      const id = at(s.locks, a.lock);
      if (id === undefined) return;
      const preimage = a.good ? PREIMAGE : preimageOf(0x01);
      await f.send('carol', { address: htlc, abi: hashedTimelockAbi, functionName: 'claim', args: [id, preimage] });
      return;
    }
    case 'refund': {
      const id = at(s.locks, a.lock);
      if (id !== undefined)
        await f.send('bob', { address: htlc, abi: hashedTimelockAbi, functionName: 'refund', args: [id] });
      return;
    }
    case 'deposit': {
      const id = keccak256(toHex(`escrow-${s.escrows.length}-${Date.now()}`));
      const expiry = (await f.now()) + a.ttl;
      const args = [
        id,
        ZERO32,
        token,
        a.amount,
        f.addr[a.to],
        f.addr[a.controller],
        expiry,
        a.hashlocked ? HASHLOCK : ZERO32,
        ZERO_ADDRESS,
      ] as const;
      await f.send(a.from, { address: escrow, abi: settlementEscrowAbi, functionName: 'deposit', args });
      s.escrows.push(id);
      return;
    }
    case 'release': {
      const id = at(s.escrows, a.escrow);
      if (id === undefined) return;
      if (a.preimage) {
        await f.send(a.by, {
          address: escrow,
          abi: settlementEscrowAbi,
          functionName: 'releaseWithPreimage',
          args: [id, a.amount, PREIMAGE, '0x'],
        });
      } else {
        await f.send(a.by, {
          address: escrow,
          abi: settlementEscrowAbi,
          functionName: 'release',
          args: [id, a.amount, '0x'],
        });
      }
      return;
    }
    case 'return': {
      const id = at(s.escrows, a.escrow);
      if (id !== undefined)
        await f.send(a.by, { address: escrow, abi: settlementEscrowAbi, functionName: 'returnFunds', args: [id] });
      return;
    }
    case 'wait':
      await f.anvil.testClient.increaseTime({ seconds: Number(a.seconds) });
      await f.anvil.testClient.mine({ blocks: 1 });
      return;
  }
}

async function checkConservation(s: RunState): Promise<void> {
  const { token, htlc, escrow } = f.deployment;
  const balanceOf = (who: Address) =>
    f.client.readContract({ address: token, abi: cashTokenAbi, functionName: 'balanceOf', args: [who] });
  let free = 0n;
  for (const h of HOLDERS satisfies readonly Holder[]) free += await balanceOf(f.addr[h]);
  const locked = await f.client.readContract({
    address: htlc,
    abi: hashedTimelockAbi,
    functionName: 'totalLocked',
    args: [token],
  });
  const escrowed = await f.client.readContract({
    address: escrow,
    abi: settlementEscrowAbi,
    functionName: 'totalEscrowed',
    args: [token],
  });
  const supply = await f.client.readContract({ address: token, abi: cashTokenAbi, functionName: 'totalSupply' });
  expect({
    sum: free + locked + escrowed,
    supply,
    htlcHolds: await balanceOf(htlc),
    escrowHolds: await balanceOf(escrow),
  }).toEqual({
    sum: s.minted - s.burned,
    supply: s.minted - s.burned,
    htlcHolds: locked,
    escrowHolds: escrowed,
  });
}

describe('Cash ledger conservation', () => {
  it('keeps free + locked + escrowed = minted - burned after every step of random sequences', async () => {
    let steps = 0;
    let reverted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 30 }), async (actions) => {
        const snapshot = await f.anvil.testClient.snapshot();
        try {
          const s: RunState = { locks: [], escrows: [], minted: 0n, burned: 0n };
          for (const a of actions) {
            try {
              await apply(a, s);
            } catch (err) {
              // A rejected step must be a known contract error; it then changes nothing.
              if (decodeCashRevert(err) === undefined) throw err;
              reverted += 1;
            }
            steps += 1;
            await checkConservation(s);
          }
        } finally {
          await f.anvil.testClient.revert({ id: snapshot });
        }
      }),
      { numRuns: 60 },
    );
    console.log(`conservation: ${steps} steps checked, ${reverted} rejected by the contracts`);
  }, 120_000);
});
