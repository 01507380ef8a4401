/**
 * An in-process {@link SettlementMessenger} between the gateways of a test, registered by party:
 * delivery is a direct call of the receiving engine's `onMessage`.
 */
import type { SettlementMessage } from '../../mode';
import type { Actor } from '../../../core/trade';
import type { SettlementMessenger } from '../../messenger';

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
