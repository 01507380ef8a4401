/**
 * Settlement-instruction matching on the sese.023 matching fields: each side's gateway sends its
 * own view of the trade (financial instrument, quantity, deal price and settlement amount,
 * currency, delivering and receiving parties, settlement date, plus this platform's mode and
 * partial-settlement indicator), and each side compares the counterparty's view with its own
 * operator's instruction. Both compare the same two sets, so both reach the same verdict.
 */
import type { TradeInstruction } from '../core/trade';
import type { ModeSteps } from '../core/crash-points';

/**
 * The steps of matching, before any settlement mode (core/crash-points.ts): each side sends its
 * proposal and its affirmation; a cancel only when a trade is cancelled.
 */
export const MATCHING_STEPS: ModeSteps = {
  ledger: [],
  messages: { proposal: {}, affirmation: {}, cancel: { onFailure: true } },
};

/** The compared fields, in the order mismatches are reported. */
export const MATCHING_FIELDS = [
  'isin',
  'quantity',
  'price',
  'amount',
  'currency',
  'buyer',
  'seller',
  'settlementDeadline',
  'mode',
  'partial',
] as const;
export type MatchingField = (typeof MATCHING_FIELDS)[number];

/**
 * One side's view of a trade, as strings (the body of a `proposal` message): the matching fields
 * plus any settlement terms both gateways must share (e.g. `htlcLeader`, who holds the secret).
 */
export type MatchingTerms = Readonly<Record<MatchingField, string>> & Readonly<Record<string, string>>;

/** A field on which the two views differ. */
export interface Mismatch {
  readonly field: string;
  readonly ours: string;
  /** `(missing)` when the counterparty's proposal lacks the field. */
  readonly theirs: string;
}

/** The matching terms of `owner`'s instruction, with `extra` settlement terms. */
export function matchingTerms(
  owner: string,
  i: TradeInstruction,
  extra: Readonly<Record<string, string>> = {},
): MatchingTerms {
  const buyer = i.side === 'buy' ? owner : i.counterparty;
  const seller = i.side === 'sell' ? owner : i.counterparty;
  return {
    isin: i.isin,
    quantity: i.quantity.toString(),
    price: i.price.toString(),
    amount: (i.quantity * i.price).toString(),
    currency: i.currency,
    buyer,
    seller,
    settlementDeadline: String(i.settlementDeadline),
    mode: i.mode,
    partial: i.partial,
    ...extra,
  };
}

/**
 * Every field on which `theirs` differs from `ours`, and any field only one side has (empty: the
 * instructions match).
 */
export function mismatches(ours: MatchingTerms, theirs: Readonly<Record<string, string>>): readonly Mismatch[] {
  const fields = [...new Set([...MATCHING_FIELDS, ...Object.keys(ours), ...Object.keys(theirs)])];
  return fields
    .filter((f) => theirs[f] !== ours[f])
    .map((field) => ({ field, ours: ours[field] ?? '(missing)', theirs: theirs[field] ?? '(missing)' }));
}
