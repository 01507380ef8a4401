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
import type { LedgerName, LegName } from '../core/trade';
import type { JournalAction } from '../core/journal';

/** Securities of one ISIN, on the ledger that holds them. */
export interface SecurityBalance {
  readonly isin: string;
  readonly ledger: LedgerName;
  readonly free: bigint;
  readonly locked: bigint;
}

/** Cash of one currency, on the ledger that holds it. */
export interface CashBalance {
  readonly currency: string;
  readonly ledger: LedgerName;
  readonly free: bigint;
  readonly locked: bigint;
}

/**
 * A leg whose balances could not be read, the ledger that should hold it (undefined when none is
 * configured), and why: no numbers are made up for it.
 */
export interface UnavailableLedger {
  readonly leg: LegName;
  readonly ledger?: LedgerName;
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

/** What a journaled lock or escrow still holds: its asset, holder and amount; none once settled. */
async function stillHeld(
  connector: LedgerConnector,
  action: JournalAction & { readonly ledgerRef: string },
): Promise<{ readonly asset: string; readonly holder: string; readonly amount: bigint } | undefined> {
  if (action.kind === 'lock') {
    const lock = await connector.readLock(action.ledgerRef);
    return lock?.state === 'locked' ? { asset: lock.asset, holder: lock.sender, amount: lock.amount } : undefined;
  }
  if (action.kind === 'deposit') {
    const e = await connector.readEscrow(action.ledgerRef);
    return e?.state === 'held' ? { asset: e.asset, holder: e.depositor, amount: e.amount - e.released } : undefined;
  }
  return undefined;
}

/** The done actions of the store's party that made a ledger object, on a ledger `onLedger` accepts. */
function doneActions(
  o: Readonly<LedgerBalanceOptions>,
  onLedger: (action: JournalAction) => boolean,
): (JournalAction & { readonly ledgerRef: string })[] {
  return o.store.trades
    .list({})
    .flatMap((trade) => o.store.journal.forTrade(trade.tradeId))
    .filter((a): a is JournalAction & { readonly ledgerRef: string } => a.state === 'done' && a.ledgerRef !== undefined)
    .filter(onLedger);
}

/** Amount of `token` the ledger still holds for `holder` in the journaled locks and escrows. */
async function lockedOf(o: Readonly<LedgerBalanceOptions>, holder: string, token: string): Promise<bigint> {
  // Only what was made on the EVM network (cash, or securities held there as the stand-in).
  const onEvm = (a: JournalAction): boolean => a.ledger === 'evm' || o.securityTokens !== undefined;
  let locked = 0n;
  for (const action of doneActions(o, onEvm)) {
    const held = await stillHeld(o.evm, action);
    if (held && same(held.holder, holder) && same(held.asset, token)) locked += held.amount;
  }
  return locked;
}

/** What the journaled Fabric locks and escrows still hold for `account`, per ISIN. */
async function fabricLocked(
  o: Readonly<LedgerBalanceOptions>,
  fabric: LedgerConnector,
  account: string,
): Promise<Map<string, bigint>> {
  const locked = new Map<string, bigint>();
  for (const action of doneActions(o, (a) => a.ledger === 'fabric')) {
    const held = await stillHeld(fabric, action);
    if (held?.holder === account) locked.set(held.asset, (locked.get(held.asset) ?? 0n) + held.amount);
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
    unavailable.push({
      leg: 'securities',
      ledger: 'fabric',
      reason: `party '${party}' has no Fabric account in the directory`,
    });
    return [];
  }
  try {
    const free = new Map((await fabric.holdings(account)).map((h) => [h.isin, h.free]));
    const locked = await fabricLocked(o, fabric.connector, account);
    const isins = [...new Set([...free.keys(), ...locked.keys()])].sort();
    return isins.map((isin) => ({
      isin,
      ledger: 'fabric' as const,
      free: free.get(isin) ?? 0n,
      locked: locked.get(isin) ?? 0n,
    }));
  } catch (err) {
    unavailable.push({
      leg: 'securities',
      ledger: 'fabric',
      reason: `the Fabric peer did not answer: ${(err as Error).message}`,
    });
    return [];
  }
}

/** Creates the reader. Throws `LEDGER_UNAVAILABLE` only when no ledger could be read at all. */
export function createLedgerBalanceReader(options: Readonly<LedgerBalanceOptions>): BalanceReader {
  return {
    async balances(party: string): Promise<PartyBalances> {
      const tokens = Object.entries(options.securityTokens ?? {});
      const unavailable: UnavailableLedger[] =
        tokens.length || options.fabric ? [] : [{ leg: 'securities', reason: options.securitiesUnavailable }];
      const cash: CashBalance[] = [];
      const securities: SecurityBalance[] = [];
      const holder = options.evmAddressOf(party);
      if (holder === undefined) {
        unavailable.push({
          leg: 'cash',
          ledger: 'evm',
          reason: `party '${party}' has no EVM address in the directory`,
        });
      } else {
        try {
          const free = await options.evm.balance(holder, options.token);
          cash.push({
            currency: options.currency,
            ledger: 'evm',
            free,
            locked: await lockedOf(options, holder, options.token),
          });
          for (const [isin, token] of tokens) {
            const held = await options.evm.balance(holder, token);
            securities.push({ isin, ledger: 'evm', free: held, locked: await lockedOf(options, holder, token) });
          }
        } catch (err) {
          unavailable.push({
            leg: 'cash',
            ledger: 'evm',
            reason: `the EVM ledger did not answer: ${(err as Error).message}`,
          });
        }
      }
      if (options.fabric) securities.push(...(await fabricSecurities(options, options.fabric, party, unavailable)));
      if (cash.length === 0) {
        throw new TradeError(
          'LEDGER_UNAVAILABLE',
          unavailable.map((u) => `${u.leg}${u.ledger ? ` (${u.ledger})` : ''}: ${u.reason}`).join('; '),
          {
            party,
          },
        );
      }
      return { securities, cash, unavailable };
    },
  };
}
