/**
 * Named points of the settlement protocol at which a test can make a gateway process die with no
 * cleanup, as kill -9 would: before and after each journaled ledger action is sent, and before
 * and after each gateway message is sent or recorded. The journal, the outbox, the inbox and the
 * notary call a {@link CrashPoint} at each of them; production runs with {@link noCrashPoint},
 * and the process installs a real one only for tests (config/crash-points.ts).
 *
 * A point's name says where it is, never which trade:
 * - `<leg>.<kind>:journaled` — the action's signed transaction is journaled, not broadcast yet;
 *   `:confirmed` — the ledger confirmed it, the journal does not know yet; `:recorded` — the
 *   journal recorded the outcome, the mode has not acted on it yet. A notary's ledger approval
 *   (not journaled: it is redone after a crash) has `<leg>.approve:confirmed` only.
 * - `send.<type>:queued` — the message is signed and in the outbox, not sent yet;
 *   `send.<type>:delivered` — the receiver accepted it, the outbox does not know yet.
 * - `receive.<type>:received` — verified, not handled yet; `:handled` — handled, not recorded as
 *   received yet; `:recorded` — recorded, the sender not answered yet.
 *
 * Each settlement mode lists its steps ({@link ModeSteps}); {@link crashPointsOf} makes its list of
 * points from them, and the crash matrix test checks that a trade passes exactly those points, so
 * a new step cannot be left out of the matrix.
 */
import type { ActionKind } from './journal';
import type { LegName } from './trade';

/** Called at each named point; a test's implementation may kill the process there. */
export type CrashPoint = (point: string, tradeId: string) => void;

/** What production runs with. */
export const noCrashPoint: CrashPoint = () => undefined;

export const ACTION_PHASES = ['journaled', 'confirmed', 'recorded'] as const;
export const SEND_PHASES = ['queued', 'delivered'] as const;
export const RECEIVE_PHASES = ['received', 'handled', 'recorded'] as const;

export type ActionPhase = (typeof ACTION_PHASES)[number];

export const actionPoint = (leg: LegName, kind: ActionKind | 'approve', phase: ActionPhase): string =>
  `${leg}.${kind}:${phase}`;

export const sendPoint = (type: string, phase: (typeof SEND_PHASES)[number]): string => `send.${type}:${phase}`;

export const receivePoint = (type: string, phase: (typeof RECEIVE_PHASES)[number]): string =>
  `receive.${type}:${phase}`;

/** One ledger step of a mode: a journaled action, or a notary's approval. */
export interface LedgerStep {
  readonly leg: LegName;
  readonly kind: ActionKind | 'approve';
  /** Only when the trade fails (refunds, returns): not passed by a trade that settles. */
  readonly onFailure?: boolean;
}

/** A gateway message type a mode sends (the key of {@link ModeSteps.messages}). */
export interface MessageStep {
  /** Only when the trade fails or is cancelled. */
  readonly onFailure?: boolean;
}

/**
 * The steps of a settlement mode: its ledger steps, and the gateway messages it sends by type (a
 * mode declares them `satisfies Record<ItsMessageType, MessageStep>`, so a new type must be added).
 */
export interface ModeSteps {
  readonly ledger: readonly LedgerStep[];
  readonly messages: Readonly<Record<string, MessageStep>>;
}

/** Every crash point of `steps`; `settling`: only those a trade that settles passes. */
export function crashPointsOf(steps: ModeSteps, settling = false): string[] {
  const passed = (s: { readonly onFailure?: boolean }): boolean => !(settling && s.onFailure === true);
  const ledger = steps.ledger
    .filter(passed)
    .flatMap((s) =>
      s.kind === 'approve'
        ? [actionPoint(s.leg, s.kind, 'confirmed')]
        : ACTION_PHASES.map((phase) => actionPoint(s.leg, s.kind, phase)),
    );
  const types = Object.entries(steps.messages).filter(([, step]) => passed(step));
  const messages = types.flatMap(([type]) => [
    ...SEND_PHASES.map((phase) => sendPoint(type, phase)),
    ...RECEIVE_PHASES.map((phase) => receivePoint(type, phase)),
  ]);
  return [...ledger, ...messages];
}
