/**
 * The securities leg of the two-gateway tests and `make demo`, on whichever ledger holds it:
 * the securities chaincode on the real Fabric peers when network-up started Fabric (issued by the
 * issuer identity, balances read from the chaincode), else an ERC-20 token on the anvil standing
 * in for Fabric (labelled so). Both give the same four readings, so the tests assert the same
 * exact deltas and conservation either way.
 */
import { readFileSync } from 'node:fs';
import type { SignedDirectory } from '@dvp/certs';
import type { Address } from 'viem';
import { connectPeer, walletIdentity, type FabricConnection } from '../../network/src/fabric-client';
import type { FabricUpState, NetworkState } from '../../network/src/state';
import { isValidIsin } from '../../chaincode/fabric/src/isin';
import { submit } from './fabric-clients';
import { totalsOf } from './scenarios/driver';
import { lockBankCash } from './network';
import {
  addressOf,
  balanceOf,
  evmEscrow,
  heldByEscrow,
  heldByHtlc,
  issue,
  securitiesToken,
  type Bank,
  type EscrowReading,
} from './two-banks';

/**
 * A valid ISIN for a test's own instrument: `XS`, `tag` (letters and digits, up to 9, padded
 * with 0) and the check digit. The same tag gives the same ISIN.
 */
export function testIsin(tag: string): string {
  const body = `XS${tag
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '')
    .slice(0, 9)
    .padEnd(9, '0')}`;
  for (let d = 0; d <= 9; d += 1) if (isValidIsin(`${body}${d}`)) return `${body}${d}`;
  throw new Error(`no check digit for ${body}`);
}

/** Free, HTLC-locked and escrowed units and the supply (issued − redeemed) of one ISIN. */
export interface SupplyFigures {
  readonly free: bigint;
  readonly locked: bigint;
  readonly escrowed: bigint;
  readonly supply: bigint;
}

export type { EscrowReading } from './two-banks';

/** One ISIN on its ledger. */
export interface SecuritiesLeg {
  readonly ledger: 'fabric' | 'evm';
  /** What every output says about where securities are. */
  readonly label: string;
  /** The gateways' `securities` option: ISIN → token for the stand-in; undefined on Fabric. */
  readonly gatewayTokens: Readonly<Record<string, string>> | undefined;
  issue(bank: Bank, amount: bigint): Promise<void>;
  /** The bank's free balance. */
  balance(bank: Bank): Promise<bigint>;
  /** Units held in HTLC locks (all holders). */
  locked(): Promise<bigint>;
  /** The ledger's own figures for conservation (free + locked + escrowed = supply). */
  supply(): Promise<SupplyFigures>;
  /** The escrow `escrowId` (an `escrow_deposited` step's `detail.escrowId`) on this ledger. */
  escrow(escrowId: string): Promise<EscrowReading>;
  close(): void;
}

const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** Each bank's chaincode account, from the signed directory (`fabricAccount`). */
function fabricAccounts(net: NetworkState): Record<Bank, string> {
  const signed = JSON.parse(readFileSync(net.directory.file, 'utf8')) as SignedDirectory;
  const of = (bank: Bank): string => {
    const account = signed.directory.parties[bank]?.fabricAccount;
    if (!account) throw new Error(`the directory has no Fabric account for ${bank}`);
    return account;
  };
  return { seller: of('seller'), buyer: of('buyer') };
}

class FabricLeg implements SecuritiesLeg {
  readonly ledger = 'fabric' as const;
  readonly label: string;
  readonly gatewayTokens = undefined;
  readonly #isin: string;
  readonly #fabric: FabricUpState;
  readonly #issuer: FabricConnection;
  readonly #auditor: FabricConnection;
  readonly #accounts: Record<Bank, string>;

  constructor(net: NetworkState, fabric: FabricUpState, isin: string) {
    this.#isin = isin;
    this.#fabric = fabric;
    const { org, mspId, identity } = fabric.chaincode.issuer;
    const ca = net.fabricCa.orgs[org];
    const peer = fabric.peers[org];
    if (!ca || !peer) throw new Error(`network.json: no CA or peer for the issuer org ${org}`);
    this.#issuer = connectPeer(peer, walletIdentity(mspId, ca.wallet, identity));
    this.#auditor = connectPeer(peer, walletIdentity(mspId, ca.wallet, 'auditor'));
    this.#accounts = fabricAccounts(net);
    this.label = `Fabric chaincode '${fabric.chaincode.name}' on channel '${fabric.channel}' (real peers)`;
  }

  #contract(conn: FabricConnection) {
    return conn.contract(this.#fabric.channel, this.#fabric.chaincode.name);
  }

  /** Creates the instrument unless it exists (one per ISIN and network). */
  async ensureInstrument(): Promise<void> {
    const c = this.#contract(this.#issuer);
    const exists = await c.evaluateTransaction('Instrument', this.#isin).then(
      () => true,
      () => false,
    );
    if (!exists) await submit(c, 'CreateInstrument', this.#isin, `Security ${this.#isin}`, '1');
  }

  async issue(bank: Bank, amount: bigint): Promise<void> {
    await submit(this.#contract(this.#issuer), 'Issue', this.#isin, this.#accounts[bank], amount.toString());
  }

  async balance(bank: Bank): Promise<bigint> {
    return BigInt(
      utf8(await this.#contract(this.#issuer).evaluateTransaction('BalanceOf', this.#isin, this.#accounts[bank])),
    );
  }

  async locked(): Promise<bigint> {
    return (await this.supply()).locked;
  }

  async supply(): Promise<SupplyFigures> {
    return totalsOf(utf8(await this.#contract(this.#auditor).evaluateTransaction('SupplyBreakdown', this.#isin)));
  }

  async escrow(escrowId: string): Promise<EscrowReading> {
    const raw = utf8(await this.#contract(this.#auditor).evaluateTransaction('GetEscrow', escrowId));
    const e = JSON.parse(raw) as { status: string; remaining: string };
    const state = ({ OPEN: 'held', RELEASED: 'released', RETURNED: 'returned' } as const)[e.status as 'OPEN'];
    if (state === undefined) throw new Error(`escrow ${escrowId}: unknown status ${e.status}`);
    return { state, remaining: BigInt(e.remaining) };
  }

  close(): void {
    this.#issuer.close();
    this.#auditor.close();
  }
}

class EvmStandInLeg implements SecuritiesLeg {
  readonly ledger = 'evm' as const;
  readonly label = 'ERC-20 stand-in on anvil (no Fabric peer on this machine)';
  readonly #net: NetworkState;
  readonly #token: Address;
  readonly gatewayTokens: Readonly<Record<string, string>>;

  constructor(net: NetworkState, isin: string, token: Address) {
    this.#net = net;
    this.#token = token;
    this.gatewayTokens = { [isin]: token };
  }

  issue(bank: Bank, amount: bigint): Promise<void> {
    return issue(this.#net, this.#token, addressOf(this.#net, bank), amount);
  }

  balance(bank: Bank): Promise<bigint> {
    return balanceOf(this.#net, this.#token, addressOf(this.#net, bank));
  }

  locked(): Promise<bigint> {
    return heldByHtlc(this.#net, this.#token);
  }

  async supply(): Promise<SupplyFigures> {
    // Only the two banks and the HTLC and escrow contracts ever hold the stand-in token.
    const [seller, buyer, locked, escrowed] = await Promise.all([
      this.balance('seller'),
      this.balance('buyer'),
      this.locked(),
      heldByEscrow(this.#net, this.#token),
    ]);
    return { free: seller + buyer, locked, escrowed, supply: seller + buyer + locked + escrowed };
  }

  escrow(escrowId: string): Promise<EscrowReading> {
    return evmEscrow(this.#net, escrowId);
  }

  close(): void {}
}

/** The securities leg of `isin` on the shared network: Fabric when it runs, else the stand-in. */
export async function securitiesLeg(net: NetworkState, isin: string): Promise<SecuritiesLeg> {
  if (net.fabric.status === 'up') {
    const leg = new FabricLeg(net, net.fabric, isin);
    await leg.ensureInstrument();
    return leg;
  }
  return new EvmStandInLeg(net, isin, await securitiesToken(net, isin));
}

/** A test's own instrument with the banks funded, and the banks' cash held (see {@link lockBankCash}). */
export interface FundedInstrument {
  readonly isin: string;
  readonly leg: SecuritiesLeg;
  /** Closes the leg and gives the banks' cash back. */
  release(): void;
}

/**
 * Takes the banks' cash, makes the instrument `testIsin(tag)` and issues `securities` of it to
 * the seller and `cash` to the buyer.
 */
export async function fundedInstrument(
  net: NetworkState,
  tag: string,
  amounts: { readonly securities: bigint; readonly cash: bigint },
): Promise<FundedInstrument> {
  const unlock = await lockBankCash(net);
  try {
    const isin = testIsin(tag);
    const leg = await securitiesLeg(net, isin);
    await leg.issue('seller', amounts.securities);
    await issue(net, net.evm.contracts['CashToken'] as Address, addressOf(net, 'buyer'), amounts.cash);
    return {
      isin,
      leg,
      release: () => {
        leg.close();
        unlock();
      },
    };
  } catch (err) {
    unlock();
    throw err;
  }
}
