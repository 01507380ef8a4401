/**
 * The {@link BalanceReader} of the gateway process. Cash comes from the EVM ledger: `free` is the
 * token balance of the party's EVM address (from the directory); `locked` is what the ledger still
 * holds in the HTLC locks and escrows this gateway made for the party (their ids come from the
 * action journal, their state and amounts are read from the ledger). Securities held as ERC-20
 * tokens on the EVM network (`securityTokens`) are read the same way, one token per ISIN;
 * otherwise they are reported as unavailable, with the reason: no number is made up.
 */
import type { LedgerConnector } from './ledger/connector';
import type { BalanceReader, CashBalance, PartyBalances, SecurityBalance, UnavailableLedger } from './routes';
import type { GatewayStore } from './store';
import { TradeError } from './trade-service';

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
      // Only locks made on the EVM network (cash, or securities held there) can be read here.
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

/** Creates the reader. Throws `LEDGER_UNAVAILABLE` only when no ledger could be read at all. */
export function createLedgerBalanceReader(options: Readonly<LedgerBalanceOptions>): BalanceReader {
  return {
    async balances(party: string): Promise<PartyBalances> {
      const tokens = Object.entries(options.securityTokens ?? {});
      const unavailable: UnavailableLedger[] = tokens.length
        ? []
        : [{ ledger: 'fabric', reason: options.securitiesUnavailable }];
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
      if (cash.length === 0) {
        throw new TradeError('LEDGER_UNAVAILABLE', unavailable.map((u) => `${u.ledger}: ${u.reason}`).join('; '), {
          party,
        });
      }
      return { securities, cash, unavailable };
    },
  };
}
