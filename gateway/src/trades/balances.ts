/**
 * The {@link BalanceReader} of the gateway process. Cash comes from the EVM ledger: `free` is the
 * token balance of the party's EVM address (from the directory); `locked` is what the ledger still
 * holds in the HTLC locks and escrows this gateway made for the party (their ids come from the
 * action journal, their state and amounts are read from the ledger). Securities on Fabric
 * (`fabric`) are read from the securities chaincode: `free` from the party's holdings, `locked`
 * from the journaled Fabric locks and escrows still held. Securities held as ERC-20 tokens on the
 * EVM network (`securityTokens`, the stand-in) are read like cash, one token per ISIN. With
 * neither, they are reported as unavailable, with the reason: no number is made up.
 */
import type { LedgerConnector } from '../ledger/connector';
import type { GatewayStore } from '../store';
import { TradeError } from '../core/errors';
import type { LedgerName } from '../core/trade';

export interface SecurityBalance {
  readonly isin: string;
  readonly free: bigint;
  readonly locked: bigint;
}

export interface CashBalance {
  readonly currency: string;
  readonly free: bigint;
  readonly locked: bigint;
}

/** A ledger whose balances could not be read, and why (no numbers are made up for it). */
export interface UnavailableLedger {
  readonly ledger: LedgerName;
  readonly reason: string;
}

export interface PartyBalances {
  readonly securities: readonly SecurityBalance[];
  readonly cash: readonly CashBalance[];
  /** Ledgers left out of `securities` / `cash` because they cannot be read. */
  readonly unavailable?: readonly UnavailableLedger[];
}

/** Reads a party's balances on both ledgers. Throws TradeError LEDGER_UNAVAILABLE when it cannot. */
export interface BalanceReader {
  balances(party: string): Promise<PartyBalances>;
}

/** Options of {@link createLedgerBalanceReader}. */
export interface LedgerBalanceOptions {
  readonly evm: LedgerConnector;
  /** Address of the cash token. */
  readonly token: string;
  /** Currency code reported for the token (its symbol). */
  readonly currency: string;
  /** Enumerates the locks and escrows this gateway made (through the journal). */
  readonly store: GatewayStore;
  /** The party's EVM address (the directory's `evmAddress`), if it has one. */
  readonly evmAddressOf: (party: string) => string | undefined;
  /** Why securities cannot be read (Fabric connector missing or Fabric down). */
  readonly securitiesUnavailable: string;
  /** ISIN → ERC-20 token on the EVM network, when securities are held there. */
  readonly securityTokens?: Readonly<Record<string, string>>;
  /** Securities on Fabric: the connector, the party's chaincode account, and its free holdings. */
  readonly fabric?: {
    readonly connector: LedgerConnector;
    readonly accountOf: (party: string) => string | undefined;
    readonly holdings: (account: string) => Promise<readonly { readonly isin: string; readonly free: bigint }[]>;
  };
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Amount of `token` the ledger still holds for `holder` in the journaled locks and escrows of `party`. */
async function lockedOf(
  o: Readonly<LedgerBalanceOptions>,
  party: string,
  holder: string,
  token: string,
): Promise<bigint> {
  let locked = 0n;
  for (const trade of o.store.trades.list(party, {})) {
    for (const action of o.store.journal.forTrade(party, trade.tradeId)) {
      if (action.state !== 'done' || action.ledgerRef === undefined) continue;
      // Only locks made on the EVM network (cash, or securities held there as the stand-in).
      if (action.ledger !== 'evm' && o.securityTokens === undefined) continue;
      if (action.kind === 'lock') {
        const lock = await o.evm.readLock(action.ledgerRef);
        if (lock?.state === 'locked' && same(lock.sender, holder) && same(lock.asset, token)) locked += lock.amount;
      } else if (action.kind === 'deposit') {
        const escrow = await o.evm.readEscrow(action.ledgerRef);
        if (escrow?.state === 'held' && same(escrow.depositor, holder) && same(escrow.asset, token)) {
          locked += escrow.amount - escrow.released;
        }
      }
    }
  }
  return locked;
}

/** What the journaled Fabric locks and escrows of `party` still hold for `account`, per ISIN. */
async function fabricLocked(
  o: Readonly<LedgerBalanceOptions>,
  fabric: LedgerConnector,
  party: string,
  account: string,
) {
  const locked = new Map<string, bigint>();
  const add = (isin: string, amount: bigint) => locked.set(isin, (locked.get(isin) ?? 0n) + amount);
  for (const trade of o.store.trades.list(party, {})) {
    for (const action of o.store.journal.forTrade(party, trade.tradeId)) {
      if (action.state !== 'done' || action.ledgerRef === undefined || action.ledger !== 'fabric') continue;
      if (action.kind === 'lock') {
        const lock = await fabric.readLock(action.ledgerRef);
        if (lock?.state === 'locked' && lock.sender === account) add(lock.asset, lock.amount);
      } else if (action.kind === 'deposit') {
        const e = await fabric.readEscrow(action.ledgerRef);
        if (e?.state === 'held' && e.depositor === account) add(e.asset, e.amount - e.released);
      }
    }
  }
  return locked;
}

/** The party's securities on Fabric; an unreachable peer is reported in `unavailable`. */
async function fabricSecurities(
  o: Readonly<LedgerBalanceOptions>,
  fabric: NonNullable<LedgerBalanceOptions['fabric']>,
  party: string,
  unavailable: UnavailableLedger[],
): Promise<SecurityBalance[]> {
  const account = fabric.accountOf(party);
  if (account === undefined) {
    unavailable.push({ ledger: 'fabric', reason: `party '${party}' has no Fabric account in the directory` });
    return [];
  }
  try {
    const free = new Map((await fabric.holdings(account)).map((h) => [h.isin, h.free]));
    const locked = await fabricLocked(o, fabric.connector, party, account);
    const isins = [...new Set([...free.keys(), ...locked.keys()])].sort();
    return isins.map((isin) => ({ isin, free: free.get(isin) ?? 0n, locked: locked.get(isin) ?? 0n }));
  } catch (err) {
    unavailable.push({ ledger: 'fabric', reason: `the Fabric peer did not answer: ${(err as Error).message}` });
    return [];
  }
}

/** Creates the reader. Throws `LEDGER_UNAVAILABLE` only when no ledger could be read at all. */
export function createLedgerBalanceReader(options: Readonly<LedgerBalanceOptions>): BalanceReader {
  return {
    async balances(party: string): Promise<PartyBalances> {
      const tokens = Object.entries(options.securityTokens ?? {});
      const unavailable: UnavailableLedger[] =
        tokens.length || options.fabric ? [] : [{ ledger: 'fabric', reason: options.securitiesUnavailable }];
      const cash: CashBalance[] = [];
      const securities: SecurityBalance[] = [];
      const holder = options.evmAddressOf(party);
      if (holder === undefined) {
        unavailable.push({ ledger: 'evm', reason: `party '${party}' has no EVM address in the directory` });
      } else {
        try {
          const free = await options.evm.balance(holder, options.token);
          cash.push({
            currency: options.currency,
            free,
            locked: await lockedOf(options, party, holder, options.token),
          });
          for (const [isin, token] of tokens) {
            const held = await options.evm.balance(holder, token);
            securities.push({ isin, free: held, locked: await lockedOf(options, party, holder, token) });
          }
        } catch (err) {
          unavailable.push({ ledger: 'evm', reason: `the EVM ledger did not answer: ${(err as Error).message}` });
        }
      }
      if (options.fabric) securities.push(...(await fabricSecurities(options, options.fabric, party, unavailable)));
      if (cash.length === 0) {
        throw new TradeError('LEDGER_UNAVAILABLE', unavailable.map((u) => `${u.ledger}: ${u.reason}`).join('; '), {
          party,
        });
      }
      return { securities, cash, unavailable };
    },
  };
}
