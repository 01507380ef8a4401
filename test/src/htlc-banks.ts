/**
 * The seller's and the buyer's gateways as processes settling HTLC trades of one instrument, for
 * the crash tests (crash-matrix-htlc, crash-random): the processes (not started), each bank's
 * instruction and trade status, and both banks' holdings on both ledgers.
 */
import { join } from 'node:path';
import type { Address } from 'viem';
import { freePort } from '@dvp/certs';
import type { SettlementConfig } from '../../gateway/src/config/config';
import type { NetworkState } from '../../network/src/state';
import type { SecuritiesLeg } from './securities-leg';
import { addressOf, balanceOf, GatewayProcess, walletPem, type Bank, type Pem } from './two-banks';

/** Final statuses of a bank's trade. */
export const FINAL = ['settled', 'failed', 'cancelled'];

/** Timelocks of the crash tests: T_L 48 s, T_F 24 s, Δ 12 s (restarts take a few seconds). */
export const CRASH_TEST_SETTLEMENT: Partial<SettlementConfig> = {
  leader: 'seller',
  leaderSeconds: 48,
  followerSeconds: 24,
  deltaSeconds: 12,
  pollIntervalMs: 200,
};

/** Options of {@link htlcBanks}. */
export interface HtlcBanksOptions {
  readonly net: NetworkState;
  readonly leg: SecuritiesLeg;
  readonly isin: string;
  readonly quantity: bigint;
  readonly price: bigint;
  /** One sub-folder per bank. */
  readonly dir: string;
  readonly settlement?: Partial<SettlementConfig>;
}

/** Both banks' HTLC gateways and what the tests ask of them. */
export class HtlcBanks {
  readonly gw: Readonly<Record<Bank, GatewayProcess>>;
  readonly trader: Readonly<Record<Bank, Pem>>;
  readonly #o: HtlcBanksOptions;
  readonly #deadline = Math.floor(Date.now() / 1000) + 3600;

  constructor(o: HtlcBanksOptions, gw: Readonly<Record<Bank, GatewayProcess>>) {
    this.#o = o;
    this.gw = gw;
    this.trader = { seller: walletPem(o.net, 'seller', 'trader'), buyer: walletPem(o.net, 'buyer', 'trader') };
  }

  /** The bank's instruction of trade `tradeId` (NPAR, one deadline for every trade). */
  instruction(bank: Bank, tradeId: string): Record<string, unknown> {
    return {
      tradeId,
      side: bank === 'seller' ? 'sell' : 'buy',
      counterparty: bank === 'seller' ? 'buyer' : 'seller',
      isin: this.#o.isin,
      quantity: this.#o.quantity.toString(),
      price: this.#o.price.toString(),
      currency: 'EUR',
      mode: 'htlc',
      settlementDeadline: this.#deadline,
      partial: 'NPAR',
    };
  }

  /** The bank's status of the trade; undefined while its gateway does not answer. */
  async status(bank: Bank, tradeId: string): Promise<string | undefined> {
    return (await this.trade(bank, tradeId))?.['status'] as string | undefined;
  }

  /** The bank's record of the trade (the API's answer); undefined while its gateway does not answer. */
  async trade(bank: Bank, tradeId: string): Promise<Readonly<Record<string, unknown>> | undefined> {
    const res = await this.gw[bank].call(this.trader[bank], 'GET', `/v1/trades/${tradeId}`).catch(() => undefined);
    return res?.status === 200 ? res.json : undefined;
  }

  /** Both banks' free holdings of the instrument and of cash. */
  async holdings(): Promise<{ sec: Record<Bank, bigint>; cash: Record<Bank, bigint> }> {
    const { net, leg } = this.#o;
    const cash = net.evm.contracts['CashToken'] as Address;
    const [ss, sb, cs, cb] = await Promise.all([
      leg.balance('seller'),
      leg.balance('buyer'),
      balanceOf(net, cash, addressOf(net, 'seller')),
      balanceOf(net, cash, addressOf(net, 'buyer')),
    ]);
    return { sec: { seller: ss, buyer: sb }, cash: { seller: cs, buyer: cb } };
  }
}

/** Writes both banks' configs (each told the other's URL) and returns the processes, not started. */
export async function htlcBanks(o: HtlcBanksOptions): Promise<HtlcBanks> {
  const ports = { seller: await freePort(), buyer: await freePort() };
  const make = (bank: Bank, other: Bank): GatewayProcess =>
    new GatewayProcess({
      net: o.net,
      party: bank,
      dir: join(o.dir, bank),
      port: ports[bank],
      peerUrl: `https://127.0.0.1:${ports[other]}`,
      ...(o.leg.gatewayTokens && { securities: o.leg.gatewayTokens }),
      settlement: o.settlement ?? CRASH_TEST_SETTLEMENT,
    });
  return new HtlcBanks(o, { seller: make('seller', 'buyer'), buyer: make('buyer', 'seller') });
}
