import { createLedgerBalanceReader } from './balances';
import { createTradeEngine } from './engine';
import { performAction } from './journal';
import { openStore, type GatewayStore } from '../store';
import { actorOf, FakeLedger, instructionOf, tempDbFile } from '../../testing/engine-fakes';
import { TradeError } from '../core/errors';

const TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const REASON = 'securities are on Fabric, which this gateway cannot reach yet';

describe('the ledger balance reader', () => {
  let tmp: ReturnType<typeof tempDbFile>;
  let store: GatewayStore;
  let ledger: FakeLedger;

  beforeEach(async () => {
    tmp = tempDbFile();
    store = openStore(tmp.file, { party: 'SELLER' });
    ledger = new FakeLedger();
    ledger.balances.set(`${ledger.signer}/${TOKEN}`, 1_000n);
    const engine = createTradeEngine({ store, systemActor: actorOf('SELLER', 'gateway') });
    await engine.submit(actorOf('SELLER'), 'k1', instructionOf({ tradeId: 'T-1', counterparty: 'BUYER' }));
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  const reader = (evmAddressOf: (party: string) => string | undefined = () => ledger.signer) =>
    createLedgerBalanceReader({
      evm: ledger,
      token: TOKEN,
      currency: 'CASH',
      store,
      evmAddressOf,
      securitiesUnavailable: REASON,
    });
  const lock = (amount: bigint, hashlock: string) =>
    performAction(
      store.journal,
      ledger,
      { tradeId: 'T-1', leg: 'cash' },
      { kind: 'lock', request: { receiver: '0xbuyer', asset: TOKEN, amount, hashlock, expiry: 2_000_000_000 } },
    );

  it('reads free cash from the ledger and reports securities as unavailable with the reason', async () => {
    expect(await reader().balances('SELLER')).toEqual({
      securities: [],
      cash: [{ currency: 'CASH', ledger: 'evm', free: 1_000n, locked: 0n }],
      unavailable: [{ leg: 'securities', reason: REASON }],
    });
  });

  it('counts as locked what the ledger still holds in the locks this gateway made, not claimed ones', async () => {
    await lock(300n, 'aa'.repeat(32));
    const claimed = await lock(50n, 'bb'.repeat(32));
    await ledger.claim(claimed.ledgerRef, 'cc'.repeat(32));
    expect((await reader().balances('SELLER')).cash).toEqual([
      { currency: 'CASH', ledger: 'evm', free: 1_000n, locked: 300n },
    ]);
  });

  it('throws LEDGER_UNAVAILABLE, naming both legs, when the EVM ledger does not answer', async () => {
    ledger.balance = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:18545'));
    const err = await reader()
      .balances('SELLER')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TradeError);
    expect(err).toMatchObject({ code: 'LEDGER_UNAVAILABLE', context: { party: 'SELLER' } });
    expect((err as Error).message).toBe(
      `securities: ${REASON}; cash (evm): the EVM ledger did not answer: connect ECONNREFUSED 127.0.0.1:18545`,
    );
  });

  it('throws LEDGER_UNAVAILABLE when the party has no EVM address in the directory', async () => {
    await expect(reader(() => undefined).balances('SELLER')).rejects.toMatchObject({
      code: 'LEDGER_UNAVAILABLE',
      message: expect.stringContaining("party 'SELLER' has no EVM address in the directory"),
    });
  });
});
