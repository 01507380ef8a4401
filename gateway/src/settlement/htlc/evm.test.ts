/**
 * The HTLC mode on a real anvil. Fabric cannot run on this machine, so the securities leg is a
 * second deployment of the cash contracts (token "SEC", 0 decimals) standing in for the Fabric
 * securities chaincode: the settlement logic only sees `LedgerConnector`, and this connector is
 * presented to the engine under the ledger name `fabric`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cashTokenAbi, deployCashContracts, hashedTimelockAbi, type CashDeployment } from '@dvp/cash-contracts';
import { anvilAccount, startAnvil, type Anvil } from '@dvp/cash-contracts/testing';
import { createPublicClient, createWalletClient, http, type Address, type PublicClient } from 'viem';
import type { HDAccount } from 'viem/accounts';
import type { BeforeSend, LedgerConnector, LockRequest, SendOptions } from '../../ledger/connector';
import type { LedgerName, LegName } from '../../core/trade';
import { createEvmConnector } from '../../ledger/evm/connector';
import { asLedger } from '../../ledger/__tests__/renamed';
import { GatewayPair, PARTIES, type Party } from './__tests__/gateways';
import type { HtlcConfig, HtlcTimelocks } from './terms';

const SHARES = 100_000n;
const CASH = 100_000_000n;
const QTY = 100n;
const AMOUNT = 100n * 12_345n; // instructionOf: quantity 100, price 12_345

/** Each party signs on each ledger with its own account (the directory maps party → address per ledger). */
const ACCOUNTS: Readonly<Record<Party, Readonly<Record<LedgerName, number>>>> = {
  SELLER: { fabric: 1, evm: 3 },
  BUYER: { fabric: 2, evm: 4 },
};
/** Derived once: deriving an HD account (PBKDF2) blocks the event loop for tens of milliseconds. */
const ACCOUNT = Array.from({ length: 5 }, (_, i) => anvilAccount(i));
const accountOf = (party: Party, ledger: LedgerName): HDAccount => ACCOUNT[ACCOUNTS[party][ledger]] as HDAccount;
const addressOf = (party: string, ledger: LedgerName): Address => accountOf(party as Party, ledger).address;

/** A one-shot crash of `party`'s gateway during a `kind` on `ledger` (then the gateway is stopped). */
interface CrashPlan {
  readonly party: Party;
  readonly ledger: LedgerName;
  readonly kind: 'lock' | 'claim';
  readonly point: 'after-prepare' | 'after-broadcast';
}
let crashPlan: CrashPlan | undefined;

/** Dies like a killed process: after the journal has the signed transaction, or after it is mined. */
function crashing(c: LedgerConnector, plan: CrashPlan, kill: () => void): LedgerConnector {
  let armed = true;
  const die = (): never => {
    armed = false;
    kill();
    throw new Error(`simulated crash ${plan.point} of ${plan.kind}`);
  };
  const wrap = async <T>(options: SendOptions | undefined, send: (o: SendOptions) => Promise<T>): Promise<T> => {
    if (!armed) return send(options ?? {});
    const beforeSend: BeforeSend = (p) => {
      options?.beforeSend?.(p);
      if (plan.point === 'after-prepare') die();
    };
    const out = await send({ beforeSend });
    return plan.point === 'after-broadcast' ? die() : out;
  };
  return new Proxy(c, {
    get(target, prop) {
      if (prop === plan.kind && plan.kind === 'lock') {
        return (r: LockRequest, o?: SendOptions) => wrap(o, (opts) => target.lock(r, opts));
      }
      if (prop === plan.kind && plan.kind === 'claim') {
        return (id: string, pre: string, o?: SendOptions) => wrap(o, (opts) => target.claim(id, pre, opts));
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

let anvil: Anvil;
let client: PublicClient;
/** The securities stand-in (for Fabric) and the cash token. */
let sec: CashDeployment;
let cash: CashDeployment;
/** The gateways' clock follows the chain's: seconds the chain was moved ahead of the wall clock. */
let skew = 0;
const now = (): number => Math.floor(Date.now() / 1000) + skew;

/** Test-only time travel: the next block is at `t`, and the gateways' clock jumps with it. */
async function jumpTo(t: number): Promise<void> {
  skew = Math.max(skew, t - Math.floor(Date.now() / 1000));
  await anvil.testClient.setNextBlockTimestamp({ timestamp: BigInt(t) });
  await anvil.testClient.mine({ blocks: 1 });
}

beforeAll(async () => {
  anvil = await startAnvil();
  const transport = http(anvil.rpcUrl);
  client = createPublicClient({ chain: anvil.chain, transport, pollingInterval: 20 });
  const admin = createWalletClient({
    account: ACCOUNT[0] as HDAccount,
    chain: anvil.chain,
    transport,
    pollingInterval: 20,
  });
  sec = await deployCashContracts(admin, { name: 'Securities stand-in (Fabric)', symbol: 'SEC', decimals: 0 });
  cash = await deployCashContracts(admin);
  const mint = async (token: Address, to: Address, amount: bigint): Promise<void> => {
    const hash = await admin.writeContract({
      address: token,
      abi: cashTokenAbi,
      functionName: 'mint',
      args: [to, amount],
    });
    await client.waitForTransactionReceipt({ hash });
  };
  await mint(sec.token, addressOf('SELLER', 'fabric'), SHARES);
  await mint(cash.token, addressOf('BUYER', 'evm'), CASH);
}, 60_000);
afterAll(async () => {
  await anvil?.stop();
});

function connectorOf(party: Party, ledger: LedgerName): LedgerConnector {
  const d = ledger === 'fabric' ? sec : cash;
  const c = createEvmConnector({
    rpcUrl: anvil.rpcUrl,
    chain: anvil.chain,
    account: accountOf(party, ledger),
    contracts: { htlc: d.htlc, escrow: d.escrow },
    pollingIntervalMs: 20,
  });
  return ledger === 'fabric' ? asLedger('fabric', c) : c;
}

function pairWith(timelocks: HtlcTimelocks): { pair: GatewayPair; dir: string } {
  const config: HtlcConfig = {
    leader: 'seller',
    timelocks,
    addressOf,
    assets: { securities: () => sec.token, cash: () => cash.token },
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'dvp-htlc-evm-'));
  const started: { pair?: GatewayPair } = {};
  const connectorsOf = (p: Party): Record<LegName, LedgerConnector> => {
    const plan = crashPlan?.party === p ? crashPlan : undefined;
    crashPlan = undefined;
    const kill = (): void => void started.pair?.gw(p).mode.close();
    const of = (l: LedgerName): LedgerConnector =>
      plan?.ledger === l ? crashing(connectorOf(p, l), plan, kill) : connectorOf(p, l);
    return { securities: of('fabric'), cash: of('evm') };
  };
  const pair = new GatewayPair({ config, dir, now, connectorsOf, pollIntervalMs: 50 });
  started.pair = pair;
  return { pair, dir };
}

async function balanceOf(token: Address, holder: Address): Promise<bigint> {
  return client.readContract({ address: token, abi: cashTokenAbi, functionName: 'balanceOf', args: [holder] });
}

type Snapshot = Readonly<
  Record<'sellerSec' | 'buyerSec' | 'htlcSec' | 'buyerCash' | 'sellerCash' | 'htlcCash', bigint>
>;

/** Balances of the four accounts and the HTLC contracts, on both tokens. */
async function snapshot(): Promise<Snapshot> {
  return {
    sellerSec: await balanceOf(sec.token, addressOf('SELLER', 'fabric')),
    buyerSec: await balanceOf(sec.token, addressOf('BUYER', 'fabric')),
    htlcSec: await balanceOf(sec.token, sec.htlc),
    buyerCash: await balanceOf(cash.token, addressOf('BUYER', 'evm')),
    sellerCash: await balanceOf(cash.token, addressOf('SELLER', 'evm')),
    htlcCash: await balanceOf(cash.token, cash.htlc),
  };
}

/** Conservation: on each token, the holders plus the HTLC hold exactly the total supply. */
async function expectConserved(s: Snapshot): Promise<void> {
  const supply = (token: Address): Promise<bigint> =>
    client.readContract({ address: token, abi: cashTokenAbi, functionName: 'totalSupply' });
  expect(s.sellerSec + s.buyerSec + s.htlcSec).toBe(await supply(sec.token));
  expect(s.buyerCash + s.sellerCash + s.htlcCash).toBe(await supply(cash.token));
}

const ZERO: Snapshot = { sellerSec: 0n, buyerSec: 0n, htlcSec: 0n, buyerCash: 0n, sellerCash: 0n, htlcCash: 0n };
const sum = (a: Snapshot, d: Snapshot): Snapshot => ({
  sellerSec: a.sellerSec + d.sellerSec,
  buyerSec: a.buyerSec + d.buyerSec,
  htlcSec: a.htlcSec + d.htlcSec,
  buyerCash: a.buyerCash + d.buyerCash,
  sellerCash: a.sellerCash + d.sellerCash,
  htlcCash: a.htlcCash + d.htlcCash,
});

describe('HTLC settlement on anvil (securities leg: EVM stand-in for Fabric)', () => {
  let pair: GatewayPair;
  let dir: string;
  afterEach(async () => {
    await pair?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('settles one trade: exact balances on both tokens, audit chains verify', async () => {
    ({ pair, dir } = pairWith({ leaderSeconds: 7200, followerSeconds: 3600, deltaSeconds: 600 }));
    const before = await snapshot();
    await pair.trade('EVM-1');
    const final = await pair.final('EVM-1', 30_000);
    expect([final.BUYER.status, final.SELLER.status]).toEqual(['settled', 'settled']);
    const after = await snapshot();
    expect(after).toEqual(
      sum(before, {
        sellerSec: -QTY,
        buyerSec: QTY,
        htlcSec: 0n,
        buyerCash: -AMOUNT,
        sellerCash: AMOUNT,
        htlcCash: 0n,
      }),
    );
    await expectConserved(after);
    for (const p of PARTIES) {
      const { verification, entries } = await pair.gw(p).engine.audit({});
      expect(verification).toEqual({ ok: true, checked: entries.length });
      expect(pair.gw(p).errors).toEqual([]);
    }
    const locked = final.SELLER.timeline.find((s) => s.event === 'htlc_locked');
    expect(locked).toMatchObject({ ledger: 'fabric', txId: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
  }, 60_000);

  it('settles 5 trades concurrently', async () => {
    ({ pair, dir } = pairWith({ leaderSeconds: 7200, followerSeconds: 3600, deltaSeconds: 600 }));
    const before = await snapshot();
    const ids = ['EVM-C1', 'EVM-C2', 'EVM-C3', 'EVM-C4', 'EVM-C5'];
    await Promise.all(ids.map((id) => pair.trade(id)));
    const finals = await Promise.all(ids.map((id) => pair.final(id, 45_000)));
    for (const f of finals) expect([f.BUYER.status, f.SELLER.status]).toEqual(['settled', 'settled']);
    const after = await snapshot();
    const n = BigInt(ids.length);
    expect(after).toEqual(
      sum(before, {
        sellerSec: -n * QTY,
        buyerSec: n * QTY,
        htlcSec: 0n,
        buyerCash: -n * AMOUNT,
        sellerCash: n * AMOUNT,
        htlcCash: 0n,
      }),
    );
    await expectConserved(after);
  }, 90_000);

  it('lets the leader find the follower lock in the cash ledger events when every lock notice is lost', async () => {
    ({ pair, dir } = pairWith({ leaderSeconds: 7200, followerSeconds: 3600, deltaSeconds: 600 }));
    const seller = pair.gw('SELLER');
    pair.hub.register('SELLER', {
      onMessage: async (m) => (m.type === 'lock_notice' ? undefined : seller.engine.onMessage(m)),
    });
    const cashEvents = createEvmConnector({
      rpcUrl: anvil.rpcUrl,
      chain: anvil.chain,
      account: accountOf('SELLER', 'evm'),
      contracts: { htlc: cash.htlc, escrow: cash.escrow },
      followers: seller.store.followers,
      pollingIntervalMs: 20,
    }).follow('htlc', (e) => seller.engine.onLedgerEvent(e));
    cashEvents.start(50, (err) => seller.errors.push(err));
    try {
      await pair.trade('EVM-E');
      const final = await pair.final('EVM-E', 30_000);
      expect([final.BUYER.status, final.SELLER.status]).toEqual(['settled', 'settled']);
      const notice = final.SELLER.timeline.find((s) => s.event === 'htlc_counterparty_lock');
      expect(notice).toMatchObject({ ledger: 'evm', detail: expect.objectContaining({ source: 'ledger' }) });
    } finally {
      await cashEvents.stop();
    }
  }, 60_000);

  /** Lock and claim events of one hashlock on one HTLC. */
  async function htlcEvents(htlc: Address, hashlock: string): Promise<string[]> {
    const logs = await client.getContractEvents({ address: htlc, abi: hashedTimelockAbi, fromBlock: 0n });
    return logs
      .filter((l) => 'hashlock' in l.args && String(l.args.hashlock).toLowerCase() === hashlock.toLowerCase())
      .map((l) => l.eventName);
  }

  it.each<[string, CrashPlan]>([
    [
      'the leader, its lock signed and journaled but not sent',
      { party: 'SELLER', ledger: 'fabric', kind: 'lock', point: 'after-prepare' },
    ],
    [
      'the leader, its lock mined but the outcome not journaled',
      { party: 'SELLER', ledger: 'fabric', kind: 'lock', point: 'after-broadcast' },
    ],
    [
      'the follower, after the reveal, its claim mined but not journaled',
      { party: 'BUYER', ledger: 'fabric', kind: 'claim', point: 'after-broadcast' },
    ],
  ])(
    'restarts %s, and settles with one lock and one claim per leg',
    async (_name, plan) => {
      crashPlan = plan;
      ({ pair, dir } = pairWith({ leaderSeconds: 7200, followerSeconds: 3600, deltaSeconds: 600 }));
      const before = await snapshot();
      const tradeId = `EVM-R-${plan.party}-${plan.kind}-${plan.point}`;
      await pair.trade(tradeId);
      const stuck = (): boolean => pair.gw(plan.party).store.journal.unfinished().length === 1;
      await pair.until(stuck, 'the interrupted action', 20_000);
      await pair.restart(plan.party);
      const final = await pair.final(tradeId, 30_000);
      expect([final.BUYER.status, final.SELLER.status]).toEqual(['settled', 'settled']);
      const hashlock = final.SELLER.timeline.find((s) => s.event === 'htlc_started')?.detail?.['hashlock'] ?? '';
      expect(await htlcEvents(sec.htlc, hashlock)).toEqual(['Locked', 'Claimed']);
      expect(await htlcEvents(cash.htlc, hashlock)).toEqual(['Locked', 'Claimed']);
      expect(await snapshot()).toEqual(
        sum(before, { ...ZERO, sellerSec: -QTY, buyerSec: QTY, buyerCash: -AMOUNT, sellerCash: AMOUNT }),
      );
    },
    60_000,
  );

  it('refunds both legs after the timelocks when the leader never claims', async () => {
    ({ pair, dir } = pairWith({ leaderSeconds: 600, followerSeconds: 300, deltaSeconds: 60 }));
    const seller = pair.gw('SELLER').engine;
    // The leader never hears of the follower's lock, so it never claims.
    pair.hub.register('SELLER', {
      onMessage: async (m) => (m.type === 'lock_notice' ? undefined : seller.onMessage(m)),
    });
    const before = await snapshot();
    await pair.trade('EVM-T');
    const lockedAt = async (p: Party): Promise<number | undefined> => {
      const step = (await pair.gw(p).engine.get('EVM-T')).timeline.find((s) => s.event === 'htlc_locked');
      return step ? Number(step.detail?.['expiry']) : undefined;
    };
    await pair.until(async () => (await lockedAt('BUYER')) !== undefined, 'both locks', 20_000);
    const [tF, tL] = [(await lockedAt('BUYER')) ?? 0, (await lockedAt('SELLER')) ?? 0];
    expect(tL - tF).toBeGreaterThanOrEqual(60);
    expect(await snapshot()).toEqual(
      sum(before, { ...ZERO, sellerSec: -QTY, htlcSec: QTY, buyerCash: -AMOUNT, htlcCash: AMOUNT }),
    );

    await jumpTo(tF);
    await pair.until(async () => (await pair.gw('BUYER').engine.get('EVM-T')).status === 'failed', 'T_F');
    expect(await snapshot()).toEqual(sum(before, { ...ZERO, sellerSec: -QTY, htlcSec: QTY }));
    await expectConserved(await snapshot());

    await jumpTo(tL);
    const final = await pair.final('EVM-T', 30_000);
    expect(final.BUYER).toMatchObject({ status: 'failed', reason: 'timeout' });
    expect(final.SELLER).toMatchObject({ status: 'failed', reason: 'timeout' });
    const after = await snapshot();
    expect(after).toEqual(before);
    await expectConserved(after);
    for (const p of PARTIES) {
      expect(final[p].timeline.find((s) => s.event === 'htlc_refunded')?.txId).toMatch(/^0x[0-9a-f]{64}$/);
      expect((await pair.gw(p).engine.audit({})).verification.ok).toBe(true);
    }
  }, 60_000);
});
