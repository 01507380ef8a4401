/**
 * Gateway-to-gateway settlement messages (lock notice, preimage relay). The signed, mutually
 * authenticated transport between gateways is not built yet; {@link SettlementMessenger} is the
 * seam, and {@link createMessageHub} an in-process implementation for tests and single-process
 * demos. A message is a hint only: whatever it claims about a ledger is checked on that ledger.
 */
import type { SettlementMessage } from './mode';
import type { Actor } from '../core/trade';

/** Message types of the HTLC mode. */
export type HtlcMessageType = 'lock_notice' | 'preimage';

/** A settlement message as sent; the transport adds the sender and the recipient. */
export interface OutgoingMessage {
  readonly tradeId: string;
  readonly type: HtlcMessageType;
  readonly body: Readonly<Record<string, string>>;
}

/** Sends settlement messages to another party's gateway. Resolves once delivered. */
export interface SettlementMessenger {
  send(toParty: string, message: OutgoingMessage): Promise<void>;
}

/** What receives messages for a party: a gateway's engine (`TradeEngine.onMessage`). */
export interface MessageReceiver {
  onMessage(message: SettlementMessage): Promise<void>;
}

/** In-process delivery between gateways registered by party. */
export interface MessageHub {
  /** Sets (or replaces, after a restart) the receiver of `party`'s messages. */
  register(party: string, receiver: MessageReceiver): void;
  /** The messenger of a gateway acting as `from`. */
  messengerFor(from: Actor): SettlementMessenger;
  /** Every message delivered so far, in order. */
  readonly delivered: readonly (SettlementMessage & { readonly to: string })[];
}

/** Creates a hub. Sending to an unregistered party throws (the sender retries later). */
export function createMessageHub(): MessageHub {
  const receivers = new Map<string, MessageReceiver>();
  const delivered: (SettlementMessage & { to: string })[] = [];
  return {
    register: (party, receiver) => void receivers.set(party, receiver),
    messengerFor: (from) => ({
      async send(toParty, message) {
        const receiver = receivers.get(toParty);
        if (!receiver) throw new Error(`no gateway registered for ${toParty}`);
        const full: SettlementMessage = { ...message, from };
        await receiver.onMessage(full);
        delivered.push({ ...full, to: toParty });
      },
    }),
    delivered,
  };
}
