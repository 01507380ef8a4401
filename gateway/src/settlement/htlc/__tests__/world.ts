/**
 * Test-only: both ledgers in memory, a shared clock and the two gateways, for the HTLC scenario
 * tests (`htlc.test.ts`, `htlc-adversarial.test.ts`). Never use in product code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LedgerName } from '../../../core/trade';
import type { TradeSide, HtlcConfig } from '../terms';
import { GatewayPair, PARTIES } from './gateways';
import { MemoryChain } from './memory-htlc';

export const T_L = 7200;
export const T_F = 3600;
export const DELTA = 600;
export const SHARES = 1_000n;
export const CASH = 10_000_000n;
export const QTY = 100n; // instructionOf: quantity 100, price 12_345
export const AMOUNT = 100n * 12_345n;
export const ISIN = 'US0378331005';
export const SEC = `sec:${ISIN}`;
export const EUR = 'cash:EUR';

export const addr = (party: string, ledger: LedgerName): string => `${party.toLowerCase()}@${ledger}`;

/** Both ledgers in memory, a shared clock and the two gateways. */
export class World {
  t = 1_700_000_000;
  readonly now = (): number => this.t;
  readonly fabric = new MemoryChain('fabric', this.now);
  readonly evm = new MemoryChain('evm', this.now);
  readonly dir = mkdtempSync(path.join(tmpdir(), 'dvp-htlc-'));
  readonly pair: GatewayPair;

  constructor(leader: TradeSide, options: { readonly awaitAffirmation?: boolean } = {}) {
    this.fabric.mint(addr('SELLER', 'fabric'), SEC, SHARES);
    this.evm.mint(addr('BUYER', 'evm'), EUR, CASH);
    const config: HtlcConfig = {
      leader,
      timelocks: { leaderSeconds: T_L, followerSeconds: T_F, deltaSeconds: DELTA },
      addressOf: addr,
      assets: { securities: (isin) => `sec:${isin}`, cash: (ccy) => `cash:${ccy}` },
    };
    this.pair = new GatewayPair({
      config,
      dir: this.dir,
      now: this.now,
      ...options,
      connectorsOf: (p) => ({
        securities: this.fabric.connector(addr(p, 'fabric')),
        cash: this.evm.connector(addr(p, 'evm')),
      }),
    });
    this.fabric.onEvent((e) => this.pair.route(e));
    this.evm.onEvent((e) => this.pair.route(e));
  }

  broadcasts(): string[] {
    return [...this.fabric.broadcasts, ...this.evm.broadcasts].map((b) => `${b.kind}:${b.signer}`);
  }

  balances(): Record<string, bigint> {
    return {
      sellerShares: this.fabric.balanceOf(addr('SELLER', 'fabric'), SEC),
      buyerShares: this.fabric.balanceOf(addr('BUYER', 'fabric'), SEC),
      buyerCash: this.evm.balanceOf(addr('BUYER', 'evm'), EUR),
      sellerCash: this.evm.balanceOf(addr('SELLER', 'evm'), EUR),
    };
  }

  /** Conservation on both ledgers, and every lock settled. */
  expectConserved(): void {
    expect(this.fabric.supply(SEC)).toBe(SHARES);
    expect(this.evm.supply(EUR)).toBe(CASH);
  }

  async expectAuditOk(): Promise<void> {
    for (const p of PARTIES) expect((await this.pair.gw(p).engine.audit({})).verification.ok).toBe(true);
  }

  async close(): Promise<void> {
    await this.pair.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
