/**
 * The vocabulary of the ledger-action journal (trades/journal.ts drives it, store/journal.ts keeps
 * it): what an action does, the states it goes through, and one recorded action.
 */
import type { LedgerName, LegName } from './trade';

/** What a journaled action does on its ledger. */
export type ActionKind = 'lock' | 'claim' | 'refund' | 'deposit' | 'release' | 'return';

/**
 * `intent`: recorded, nothing signed or sent. `prepared`: signed, ids known, possibly broadcast.
 * `done` / `failed`: outcome known (final).
 */
export type ActionState = 'intent' | 'prepared' | 'done' | 'failed';

/** One journal row. Params and result are string maps (amounts as decimal strings). */
export interface JournalAction {
  readonly id: number;
  readonly tradeId: string;
  /** The trade's leg the action moves, and the ledger it was sent to. */
  readonly leg: LegName;
  readonly ledger: LedgerName;
  readonly kind: ActionKind;
  readonly params: Readonly<Record<string, string>>;
  readonly state: ActionState;
  readonly ledgerRef?: string;
  readonly txId?: string;
  readonly payload?: string;
  readonly result?: Readonly<Record<string, string>>;
  readonly error?: string;
  /** How many times it was prepared (1 normally; more after a resume had to send again). */
  readonly attempts: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}
