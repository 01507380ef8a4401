/**
 * {@link LedgerDriver} for the securities chaincode, running the real contract through the real
 * fabric-contract-api dispatch over the in-memory stub (no peer on this machine). Actors map to
 * X.509 identities with Fabric CA attributes; time is the transaction timestamp the stub reports.
 *
 * Imported by relative path so a clean clone needs no prior build of the chaincode package.
 */
import { makeFixture, ok, seed, TEST_ISIN } from '../../../chaincode/fabric/src/testing/fixture';
import type { Fixture } from '../../../chaincode/fabric/src/testing/fixture';
import type { TxResult } from '../../../chaincode/fabric/src/testing/harness';
import { chaincodeScenarioError } from './chaincode-codes';
import { totalsOf, type Actor, type DepositParams, type LedgerDriver, type LockParams, type Totals } from './driver';

/** Throws a ScenarioError for a rejected transaction (a plain Error if it has no code). */
function check(result: TxResult): TxResult {
  if (result.status === 200) return result;
  throw chaincodeScenarioError([result.message]) ?? new Error(`chaincode rejected without a code: ${result.message}`);
}

class ChaincodeDriver implements LedgerDriver {
  readonly name = 'securities chaincode (fabric-contract-api, in-memory stub)';
  #fx: Fixture | undefined;
  #lockCounter = 0;

  get #ready(): Fixture {
    if (this.#fx === undefined) throw new Error('reset() first');
    return this.#fx;
  }

  #id(who: Actor): Fixture['ids']['alice'] {
    return this.#ready.ids[who];
  }

  async reset(initial: bigint): Promise<void> {
    this.#fx = await makeFixture();
    await seed(this.#fx, initial);
  }

  async now(): Promise<bigint> {
    return BigInt(this.#ready.ledger.time);
  }

  async setTime(time: bigint): Promise<void> {
    const ledger = this.#ready.ledger;
    if (time < BigInt(ledger.time)) throw new Error(`setTime(${time}) is before now (${ledger.time})`);
    ledger.time = Number(time);
  }

  async freeBalance(who: Actor): Promise<bigint> {
    const { ledger } = this.#ready;
    return BigInt(ok(await ledger.evaluate(this.#id(who), 'BalanceOf', TEST_ISIN, this.#id(who).account)).payload);
  }

  async totals(): Promise<Totals> {
    const { ledger, ids } = this.#ready;
    return totalsOf(ok(await ledger.evaluate(ids.auditor, 'SupplyBreakdown', TEST_ISIN)).payload);
  }

  async lock(sender: Actor, p: LockParams): Promise<string> {
    this.#lockCounter += 1;
    const lockId = `lock-${this.#lockCounter}`;
    const { ledger } = this.#ready;
    check(
      await ledger.submit(
        this.#id(sender),
        'LockHTLC',
        lockId,
        TEST_ISIN,
        p.amount.toString(),
        this.#id(p.receiver).account,
        p.hashlock,
        p.expiry.toString(),
      ),
    );
    return lockId;
  }

  async claim(caller: Actor, lockId: string, preimage: `0x${string}`): Promise<void> {
    check(await this.#ready.ledger.submit(this.#id(caller), 'ClaimHTLC', lockId, preimage));
  }

  async refund(caller: Actor, lockId: string): Promise<void> {
    check(await this.#ready.ledger.submit(this.#id(caller), 'RefundHTLC', lockId));
  }

  async deposit(depositor: Actor, p: DepositParams): Promise<string> {
    const result = check(
      await this.#ready.ledger.submit(
        this.#id(depositor),
        'EscrowDeposit',
        p.tradeId,
        TEST_ISIN,
        p.amount.toString(),
        this.#id(p.beneficiary).account,
        this.#id(p.controller).account,
        p.expiry.toString(),
        p.hashlock ?? '',
        p.notary === undefined ? '' : this.#id(p.notary).account,
      ),
    );
    return (JSON.parse(result.payload) as { escrowId: string }).escrowId;
  }

  async approve(notary: Actor, escrowId: string, amount: bigint): Promise<void> {
    check(await this.#ready.ledger.submit(this.#id(notary), 'EscrowApprove', escrowId, amount.toString()));
  }

  async release(caller: Actor, escrowId: string, amount: bigint, preimage?: `0x${string}`): Promise<void> {
    const { ledger } = this.#ready;
    check(await ledger.submit(this.#id(caller), 'EscrowRelease', escrowId, amount.toString(), preimage ?? ''));
  }

  async returnFunds(caller: Actor, escrowId: string): Promise<void> {
    check(await this.#ready.ledger.submit(this.#id(caller), 'EscrowReturn', escrowId));
  }
}

/** A fresh chaincode driver; each `reset()` starts an empty in-memory ledger. */
export async function createChaincodeDriver(): Promise<LedgerDriver> {
  return new ChaincodeDriver();
}
