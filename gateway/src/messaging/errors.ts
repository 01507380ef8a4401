/** Refusals of a message from another gateway (messaging/): its address, signature and chain. */
import { DvpError, type ErrorContext } from '../core/errors';

/** Why a message from another gateway was refused (gateway-to-gateway route). */
export type MessagingErrorCode =
  | 'MESSAGE_MISADDRESSED'
  | 'MESSAGE_SIGNATURE_INVALID'
  | 'MESSAGE_SENDER_MISMATCH'
  | 'MESSAGE_REPLAYED'
  | 'MESSAGE_OUT_OF_ORDER';

/** A refused gateway message; `context` names the envelope fields that were wrong. */
export class MessagingError extends DvpError<MessagingErrorCode> {
  constructor(code: MessagingErrorCode, message: string, context?: ErrorContext, options?: ErrorOptions) {
    super(code, message, context, options);
  }
}
