/**
 * Invariant 1 (conservation), checked on the chain itself: after every step of a random sequence
 * of mint/burn/transfer/lock/claim/refund/deposit/release/return, for the token,
 *   free balances + locked + escrowed = minted - burned
 * and the HTLC and escrow hold exactly what they account as locked and escrowed.
 */
import fc from 'fast-check';
import { keccak256, parseEventLogs, sha256, toHex, type Address, type Hex } from 'viem';
import { cashTokenAbi, computeEscrowId, decodeCashRevert, hashedTimelockAbi, settlementEscrowAbi } from '.';
import { fund, preimageOf, setupFixture, type Fixture, type Role } from './__tests__/fixture';

const HOLDERS = ['admin', 'alice', 'bob', 'carol'] as const satisfies readonly Role[];
const PREIMAGE = preimageOf(0x77);
const HASHLOCK = sha256(PREIMAGE);
const ZERO32: Hex = `0x${'00'.repeat(32)}`;
const ZERO_ADDRESS: Address = '0x0000000000000000000000000000000000000000';

/**
 * Fixed by default so CI is reproducible (and the coverage check below deterministic);
 * `FC_SEED=<n>` replays or explores another seed, `FC_SEED=random` lets fast-check pick.
 */
const SEED: { seed?: number } =
  process.env['FC_SEED'] === 'random' ? {} : { seed: Number(process.env['FC_SEED'] ?? 20261124) };

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

const pick = <T>(list: readonly T[], i: number): T | undefined => list[i % Math.max(list.length, 1)];
const htlc = () => ({ abi: hashedTimelockAbi, address: f.deployment.htlc }) as const;
const escrow = () => ({ abi: settlementEscrowAbi, address: f.deployment.escrow }) as const;
const token = () => ({ abi: cashTokenAbi, address: f.deployment.token }) as const;

type Handlers = { readonly [K in Action['kind']]: (a: Extract<Action, { kind: K }>, s: RunState) => Promise<void> };

/** One handler per action; a revert propagates and the step counts as rejected. */
const HANDLERS: Handlers = {
  async mint(a, s) {
    await f.send('admin', { ...token(), functionName: 'mint', args: [f.addr[a.to], a.amount] });
    s.minted += a.amount;
  },
  async burn(a, s) {
    await f.send('admin', { ...token(), functionName: 'burn', args: [a.amount] });
    s.burned += a.amount;
  },
  async transfer(a) {
    await f.send(a.from, { ...token(), functionName: 'transfer', args: [f.addr[a.to], a.amount] });
  },
  async lock(a, s) {
    const expiry = (await f.now()) + a.ttl;
    const args = [f.addr[a.to], f.deployment.token, a.amount, HASHLOCK, expiry] as const;
    const receipt = await f.send(a.from, { ...htlc(), functionName: 'lock', args });
    const [locked] = parseEventLogs({ abi: hashedTimelockAbi, eventName: 'Locked', logs: receipt.logs });
    if (locked !== undefined) s.locks.push(locked.args.lockId);
  },
  async claim(a, s) {
    const id = pick(s.locks, a.lock);
    const preimage = a.good ? PREIMAGE : preimageOf(0x01);
    if (id !== undefined) await f.send('carol', { ...htlc(), functionName: 'claim', args: [id, preimage] });
  },
  async refund(a, s) {
    const id = pick(s.locks, a.lock);
    if (id !== undefined) await f.send('bob', { ...htlc(), functionName: 'refund', args: [id] });
  },
  async deposit(a, s) {
    // A fresh trade per deposit: the contract derives the escrow id from the depositor and the trade.
    const tradeId = keccak256(toHex(`trade-${s.escrows.length}`));
    const expiry = (await f.now()) + a.ttl;
    const hashlock = a.hashlocked ? HASHLOCK : ZERO32;
    const args = [
      tradeId,
      f.deployment.token,
      a.amount,
      f.addr[a.to],
      f.addr[a.controller],
      expiry,
      hashlock,
      ZERO_ADDRESS,
    ] as const;
    await f.send(a.from, { ...escrow(), functionName: 'deposit', args });
    s.escrows.push(computeEscrowId(f.addr[a.from], tradeId));
  },
  async release(a, s) {
    const id = pick(s.escrows, a.escrow);
    if (id === undefined) return;
    if (a.preimage) {
      const args = [id, a.amount, PREIMAGE, '0x'] as const;
      await f.send(a.by, { ...escrow(), functionName: 'releaseWithPreimage', args });
    } else {
      await f.send(a.by, { ...escrow(), functionName: 'release', args: [id, a.amount, '0x'] });
    }
  },
  async return(a, s) {
    const id = pick(s.escrows, a.escrow);
    if (id !== undefined) await f.send(a.by, { ...escrow(), functionName: 'returnFunds', args: [id] });
  },
  async wait(a) {
    await f.anvil.testClient.increaseTime({ seconds: Number(a.seconds) });
    await f.anvil.testClient.mine({ blocks: 1 });
  },
};

function apply(a: Action, s: RunState): Promise<void> {
  return (HANDLERS[a.kind] as (a: Action, s: RunState) => Promise<void>)(a, s);
}

async function checkConservation(s: RunState): Promise<void> {
  const d = f.deployment;
  const balanceOf = (who: Address) => f.client.readContract({ ...token(), functionName: 'balanceOf', args: [who] });
  let free = 0n;
  for (const h of HOLDERS) free += await balanceOf(f.addr[h]);
  const locked = await f.client.readContract({ ...htlc(), functionName: 'totalLocked', args: [d.token] });
  const escrowed = await f.client.readContract({ ...escrow(), functionName: 'totalEscrowed', args: [d.token] });
  const supply = await f.client.readContract({ ...token(), functionName: 'totalSupply' });
  const held = { htlc: await balanceOf(d.htlc), escrow: await balanceOf(d.escrow) };
  expect({ sum: free + locked + escrowed, supply, held }).toEqual({
    sum: s.minted - s.burned,
    supply: s.minted - s.burned,
    held: { htlc: locked, escrow: escrowed },
  });
}

describe('Cash ledger conservation', () => {
  it('keeps free + locked + escrowed = minted - burned after every step of random sequences', async () => {
    let steps = 0;
    let reverted = 0;
    const succeeded = new Set<Action['kind']>();
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 30 }), async (actions) => {
        const snapshot = await f.anvil.testClient.snapshot();
        try {
          const s: RunState = { locks: [], escrows: [], minted: 0n, burned: 0n };
          for (const a of actions) {
            try {
              await apply(a, s);
              succeeded.add(a.kind);
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
      { numRuns: 60, ...SEED },
    );
    console.log(`conservation: ${steps} steps checked, ${reverted} rejected by the contracts`);
    // Not vacuous: every kind of operation succeeded at least once across the runs.
    expect([...succeeded].sort()).toEqual(
      ['burn', 'claim', 'deposit', 'lock', 'mint', 'refund', 'release', 'return', 'transfer', 'wait'].sort(),
    );
  }, 120_000);
});
