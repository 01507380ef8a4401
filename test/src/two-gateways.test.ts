/**
 * The seller's and the buyer's gateways as two real processes on the shared local network,
 * talking to each other over mutual TLS with signed messages: both operators instruct, the
 * gateways match the instructions, and the HTLC settles on the ledgers with real timelocks.
 * Securities are in the securities chaincode on the real Fabric peers when network-up started
 * Fabric, else an ERC-20 token on the anvil standing in for it (securities-leg.ts); cash is on
 * anvil. Every balance is read from the ledgers, and conservation is checked on both.
 *
 * Timelocks: T_L 36 s, T_F 18 s, Δ 9 s; the seller leads. Covered: a trade that settles (exact
 * balances on both legs, audit chains verified), five trades settling concurrently, the leader killed -9 right after
 * its lock is submitted and restarted (settles), the follower killed after the preimage is revealed and before it claims
 * (it claims in time after a restart), the leader frozen after locking so it never claims (both
 * sides refund, failed with a reason), a mismatched instruction (stays received with the fields
 * named), a cancel before matching, and the peer route refusing operators' certificates.
 * Two-sided cancel of a matched trade is covered in gateway/src/messaging/messaging.test.ts: here the HTLC
 * leader starts as soon as the trade matches, leaving no matched-but-unlocked window to test.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address } from 'viem';
import { ledgerProblems } from './checker';
import { lockBankCash, sharedNetwork, BANK_CASH_SETUP_MS } from './network';
import { securitiesLeg, testIsin, type SecuritiesLeg } from './securities-leg';
import { freePort } from '@dvp/certs';
import { beforeHtlcCallIsMined, freezeLeaderBeforeItCanClaim, whenJournaled } from './crash-points';
import {
  addressOf,
  balanceOf,
  BANKS,
  GatewayProcess,
  heldByHtlc,
  issue,
  sleep,
  totalSupply,
  walletPem,
  type Bank,
  type Res,
} from './two-banks';

jest.setTimeout(150_000);

const net = sharedNetwork();
/** This run's own instrument: the checker at the end sees only this run's trades. */
const ISIN = testIsin(`TG${Date.now() % 10_000_000}`);
const QTY = 10n;
const PRICE = 1_500n;
const CASH_TOKEN = net.evm.contracts['CashToken'] as Address;
const SELLER = addressOf(net, 'seller');
const BUYER = addressOf(net, 'buyer');
const trader = { seller: walletPem(net, 'seller', 'trader'), buyer: walletPem(net, 'buyer', 'trader') };
const auditor = { seller: walletPem(net, 'seller', 'auditor'), buyer: walletPem(net, 'buyer', 'auditor') };
const run = `${process.pid}-${Date.now()}`;
/** One deadline for every instruction, so both sides' instructions carry the same one. */
const DEADLINE = Math.floor(Date.now() / 1000) + 1800;

const dir = mkdtempSync(join(tmpdir(), 'dvp-two-gateways-'));
let leg: SecuritiesLeg;
let gw: Record<Bank, GatewayProcess>;

interface Wire {
  readonly status: string;
  readonly reason?: string;
  readonly timeline: readonly { readonly event: string; readonly txId?: string; readonly ledger?: string }[];
}

function instruction(bank: Bank, tradeId: string, overrides: Record<string, unknown> = {}) {
  return {
    tradeId,
    side: bank === 'seller' ? 'sell' : 'buy',
    counterparty: bank === 'seller' ? 'buyer' : 'seller',
    isin: ISIN,
    quantity: QTY.toString(),
    price: PRICE.toString(),
    currency: 'EUR',
    mode: 'htlc',
    settlementDeadline: DEADLINE,
    partial: 'NPAR',
    ...overrides,
  };
}

async function instruct(bank: Bank, tradeId: string, overrides: Record<string, unknown> = {}): Promise<Res> {
  const res = await gw[bank].call(trader[bank], 'POST', '/v1/trades', instruction(bank, tradeId, overrides), {
    'idempotency-key': `${tradeId}-${bank}`,
  });
  expect(res.status).toBe(201);
  return res;
}

async function trade(bank: Bank, tradeId: string): Promise<Wire> {
  const res = await gw[bank].call(trader[bank], 'GET', `/v1/trades/${tradeId}`);
  if (res.status !== 200) throw new Error(`GET ${tradeId} at ${bank}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json as unknown as Wire;
}

/** Polls until `predicate` holds on `bank`'s record of the trade. */
async function until(bank: Bank, tradeId: string, what: string, predicate: (t: Wire) => boolean, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const t = await trade(bank, tradeId).catch(() => undefined);
    if (t && predicate(t)) return t;
    if (Date.now() > deadline) {
      const other = bank === 'seller' ? 'buyer' : 'seller';
      const theirs = await trade(other, tradeId).catch(() => undefined);
      throw new Error(
        `${bank} ${tradeId}: no ${what} within ${ms} ms; last ${JSON.stringify(t)}\n${logTail(bank)}\n` +
          `${other}'s record: ${JSON.stringify(theirs)}\n${logTail(other)}`,
      );
    }
    await sleep(50);
  }
}

/** The gateway's log without request lines (the polling above writes many). */
const logTail = (bank: Bank): string =>
  gw[bank].output
    .split('\n')
    .filter((l) => !l.includes('"msg":"request"'))
    .slice(-40)
    .join('\n');

const final = (t: Wire) => ['settled', 'failed', 'cancelled'].includes(t.status);
const has = (event: string) => (t: Wire) => t.timeline.some((s) => s.event === event);

async function balances() {
  return {
    sec: {
      seller: await leg.balance('seller'),
      buyer: await leg.balance('buyer'),
      htlc: await leg.locked(),
    },
    cash: {
      seller: await balanceOf(net, CASH_TOKEN, SELLER),
      buyer: await balanceOf(net, CASH_TOKEN, BUYER),
      htlc: await heldByHtlc(net, CASH_TOKEN),
    },
  };
}

type Balances = Awaited<ReturnType<typeof balances>>;

/**
 * The cash token's conservation figures: every holder the local network has (its accounts, the
 * HTLC and escrow contracts) against `totalSupply` (minted − burned).
 */
async function cashSupply(): Promise<{ free: bigint; locked: bigint; supply: bigint }> {
  const sum = async (holders: readonly string[]) =>
    (await Promise.all(holders.map((h) => balanceOf(net, CASH_TOKEN, h as Address)))).reduce((a, b) => a + b, 0n);
  const contracts = ['HashedTimelock', 'SettlementEscrow'].map((c) => net.evm.contracts[c] as string);
  return {
    free: await sum(net.evm.accounts),
    locked: await sum(contracts),
    supply: await totalSupply(net, CASH_TOKEN),
  };
}

/** free + locked + escrowed = issued − redeemed on each ledger (cash: the token's supply). */
async function expectConserved(): Promise<void> {
  const s = await leg.supply();
  expect(s.free + s.locked + s.escrowed).toBe(s.supply);
  const cash = await cashSupply();
  expect(cash.free + cash.locked).toBe(cash.supply);
}

/** Exact movements since `before`: this file is the only user of the ISIN and of the banks' cash. */
async function expectMoved(before: Balances, settled: boolean): Promise<void> {
  await expectConserved();
  const after = await balances();
  const q = settled ? QTY : 0n;
  const c = settled ? QTY * PRICE : 0n;
  expect({
    sec: {
      seller: after.sec.seller - before.sec.seller,
      buyer: after.sec.buyer - before.sec.buyer,
      htlc: after.sec.htlc - before.sec.htlc,
    },
    cash: {
      seller: after.cash.seller - before.cash.seller,
      buyer: after.cash.buyer - before.cash.buyer,
      htlc: after.cash.htlc - before.cash.htlc,
    },
  }).toEqual({ sec: { seller: -q, buyer: q, htlc: 0n }, cash: { seller: c, buyer: -c, htlc: 0n } });
}

let unlockCash: (() => void) | undefined;

beforeAll(async () => {
  unlockCash = await lockBankCash(net);
  leg = await securitiesLeg(net, ISIN);
  await leg.issue('seller', 1_000n);
  await issue(net, CASH_TOKEN, BUYER, 1_000_000n);
  const ports = { seller: await freePort(), buyer: await freePort() };
  const settlement = {
    leader: 'seller' as const,
    leaderSeconds: 36,
    followerSeconds: 18,
    deltaSeconds: 9,
    pollIntervalMs: 200,
  };
  const make = (bank: Bank, other: Bank) =>
    new GatewayProcess({
      net,
      party: bank,
      dir: join(dir, bank),
      port: ports[bank],
      peerUrl: `https://127.0.0.1:${ports[other]}`,
      ...(leg.gatewayTokens && { securities: leg.gatewayTokens }),
      settlement,
    });
  gw = { seller: make('seller', 'buyer'), buyer: make('buyer', 'seller') };
  await Promise.all([gw.seller.start(), gw.buyer.start()]);
}, BANK_CASH_SETUP_MS); // it may wait for another file holding the banks' cash

afterAll(async () => {
  await Promise.all([gw?.seller.kill9(), gw?.buyer.kill9()]);
  leg?.close();
  rmSync(dir, { recursive: true, force: true });
  unlockCash?.();
});

it('settles a matched trade: exact balances on both ledgers, audit chains verified on both sides', async () => {
  const id = `OK-${run}`;
  const before = await balances();
  await instruct('seller', id);
  await instruct('buyer', id);
  const [s, b] = await Promise.all([until('seller', id, 'final', final), until('buyer', id, 'final', final)]);
  expect([s.status, b.status]).toEqual(['settled', 'settled']);
  await expectMoved(before, true);
  for (const [bank, t] of [
    ['seller', s],
    ['buyer', b],
  ] as const) {
    expect(t.timeline.map((x) => x.event)).toEqual(
      expect.arrayContaining([
        'received',
        'matched',
        'counterparty_affirmed',
        'htlc_locked',
        'htlc_claimed',
        'htlc_settled',
      ]),
    );
    // The seller's lock holds securities (Fabric tx ids are bare hex), the buyer's cash (EVM, 0x).
    const lock = bank === 'seller' && leg.ledger === 'fabric' ? /^[0-9a-f]{64}$/ : /^0x[0-9a-f]{64}$/;
    expect(t.timeline.find((x) => x.event === 'htlc_locked')).toMatchObject({
      ledger: bank === 'seller' ? 'fabric' : 'evm',
      txId: expect.stringMatching(lock),
      block: expect.any(String),
    });
    const audit = await gw[bank].call(auditor[bank], 'GET', `/v1/audit?tradeId=${id}`);
    expect(audit.json['verification']).toMatchObject({ ok: true });
  }
});

it('settles five trades instructed at the same time (concurrent locks and claims from one account per bank)', async () => {
  const ids = Array.from({ length: 5 }, (_, i) => `MANY-${i}-${run}`);
  const before = await balances();
  await Promise.all(ids.flatMap((id) => [instruct('seller', id), instruct('buyer', id)]));
  const ends = await Promise.all(
    ids.flatMap((id) => [until('seller', id, 'final', final), until('buyer', id, 'final', final)]),
  );
  expect(ends.map((t) => t.status)).toEqual(Array(10).fill('settled'));
  const after = await balances();
  expect(after.sec.buyer - before.sec.buyer).toBe(5n * QTY);
  expect(after.cash.seller - before.cash.seller).toBe(5n * QTY * PRICE);
  expect([after.sec.htlc - before.sec.htlc, after.cash.htlc - before.cash.htlc]).toEqual([0n, 0n]);
});

it('refuses an instruction that does not match: both stay received, the differing fields named', async () => {
  const id = `MISMATCH-${run}`;
  await instruct('seller', id);
  await instruct('buyer', id, { quantity: '11' });
  const s = await until('seller', id, 'match_failed', has('match_failed'), 20_000);
  expect(s.status).toBe('received');
  const step = s.timeline.find((x) => x.event === 'match_failed') as unknown as { detail: Record<string, string> };
  expect(Object.keys(step.detail).sort()).toEqual(['amount', 'quantity']);
  expect((await trade('buyer', id)).status).toBe('received');
});

it('cancels an unmatched instruction alone; the counterparty’s proposal is withdrawn, so nothing matches', async () => {
  const id = `CANCEL-${run}`;
  await instruct('buyer', id);
  const res = await gw.buyer.call(trader.buyer, 'POST', `/v1/trades/${id}/cancel`);
  expect(res.status).toBe(200);
  expect((res.json as unknown as Wire).status).toBe('cancelled');
  await sleep(1000); // the buyer's proposal and its cancel reach the seller's gateway
  await instruct('seller', id);
  await sleep(1500);
  expect((await trade('seller', id)).status).toBe('received');
});

it('settles after the leader is killed -9 right after its lock is submitted (journaled, not confirmed), and restarted', async () => {
  const id = `LEADERCRASH-${run}`;
  const before = await balances();
  // Fabric: killed once the signed lock is journaled (sent at once, committed ~0.1 s later);
  // stand-in: killed while the lock waits in anvil's pool.
  const killed =
    leg.ledger === 'fabric'
      ? whenJournaled(join(dir, 'seller', 'gateway.sqlite'), id, 'lock', 'prepared', () => gw.seller.kill9())
      : beforeHtlcCallIsMined(net, SELLER, () => gw.seller.kill9());
  await instruct('seller', id);
  await instruct('buyer', id);
  await killed; // the lock was sent by the killed process
  const logBefore = gw.seller.output.length;
  await gw.seller.start();
  // The restarted gateway settled the journaled lock (prepared before the kill) from the ledger.
  const resumedLine = gw.seller.output
    .slice(logBefore)
    .split('\n')
    .find((l) => l.includes('"msg":"engine resumed"'));
  expect(resumedLine).toMatch(/"actionsDone":1\b/);
  const [s, b] = await Promise.all([until('seller', id, 'final', final), until('buyer', id, 'final', final)]);
  expect([s.status, b.status]).toEqual(['settled', 'settled']);
  expect(s.timeline.filter((x) => x.event === 'htlc_locked')).toHaveLength(1);
  await expectMoved(before, true);
});

it('the follower, killed after the preimage is revealed and before it claims, claims in time after a restart', async () => {
  const id = `FOLLOWERCRASH-${run}`;
  const before = await balances();
  await instruct('seller', id);
  await instruct('buyer', id);
  await until('buyer', id, 'its lock', has('htlc_locked'), 20_000);
  gw.buyer.pause();
  await until('seller', id, 'the claim of the cash', has('htlc_claimed'), 20_000);
  await gw.buyer.kill9();
  await gw.buyer.start();
  const b = await until('buyer', id, 'final', final);
  expect(b.status).toBe('settled');
  expect((await until('seller', id, 'final', final)).status).toBe('settled');
  await expectMoved(before, true);
});

it('refunds both legs when the leader never claims (frozen after locking): failed with a reason', async () => {
  const id = `TIMEOUT-${run}`;
  const before = await balances();
  const frozen = freezeLeaderBeforeItCanClaim(net, gw.seller, BUYER);
  await instruct('seller', id);
  await instruct('buyer', id);
  try {
    await frozen;
    const b = await until('buyer', id, 'final', final, 60_000);
    expect([b.status, b.reason]).toEqual(['failed', 'timeout']);
    expect(b.timeline.map((x) => x.event)).toEqual(expect.arrayContaining(['htlc_locked', 'htlc_refunded']));
  } finally {
    gw.seller.resume();
  }
  const s = await until('seller', id, 'final', final, 60_000);
  expect([s.status, s.reason]).toEqual(['failed', 'timeout']);
  expect(s.timeline.map((x) => x.event)).toEqual(expect.arrayContaining(['htlc_locked', 'htlc_refunded']));
  expect(s.timeline.some((x) => x.event === 'htlc_claimed')).toBe(false);
  await expectMoved(before, false);
});

it('refuses an operator certificate on the gateway-to-gateway route', async () => {
  const res = await gw.seller.call(trader.buyer, 'POST', '/v1/peer/messages', {});
  expect(res.status).toBe(403);
  expect(res.json).toMatchObject({ error: { code: 'ROLE_FORBIDDEN' } });
  const own = await gw.seller.call(trader.seller, 'POST', '/v1/peer/messages', {});
  expect(own.status).toBe(403);
  expect(own.json).toMatchObject({ error: { code: 'PARTY_NOT_SERVED' } });
});

it('refuses an instruction in another currency, or for an ISIN without an instrument here: 400 with the reason', async () => {
  const post = (overrides: Record<string, unknown>, key: string) =>
    gw.seller.call(trader.seller, 'POST', '/v1/trades', instruction('seller', `BAD-${key}-${run}`, overrides), {
      'idempotency-key': `bad-${key}-${run}`,
    });
  expect(await post({ currency: 'USD' }, 'ccy')).toMatchObject({
    status: 400,
    json: { error: { code: 'UNSUPPORTED_INSTRUCTION', message: expect.stringMatching(/USD.*EUR/) } },
  });
  expect(await post({ isin: 'US5949181045' }, 'isin')).toMatchObject({
    status: 400,
    json: { error: { code: 'UNSUPPORTED_INSTRUCTION', message: expect.stringMatching(/US5949181045/) } },
  });
});

it('reports trades by status and settlement latency on /metrics', async () => {
  const ca = BANKS.map((b) => readFileSync((net.fabricCa.orgs[b] as { caCertFile: string }).caCertFile, 'utf8'));
  const res = await new Promise<string>((ok, fail) => {
    const req = request(new URL('/metrics', gw.buyer.url), { ca, agent: false, ...auditor.buyer }, (r) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => ok(text));
    });
    req.on('error', fail);
    req.end();
  });
  expect(res).toMatch(/^dvp_trades\{status="settled"\} [1-9]\d*$/m);
  expect(res).toMatch(/^dvp_trades\{status="failed"\} [1-9]\d*$/m);
  expect(res).toMatch(/^dvp_settlement_latency_seconds_count\{mode="htlc"\} [1-9]\d*$/m);
});

it('leaves both ledgers consistent, as the independent checker reads them: every trade of the ISIN at its end, atomically', async () => {
  expect(await ledgerProblems(net, { isins: [ISIN], cashToken: CASH_TOKEN })).toEqual([]);
});
