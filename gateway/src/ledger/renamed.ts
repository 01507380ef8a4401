/**
 * Presents a connector under another ledger name. Used where securities are ERC-20 tokens on the
 * EVM network (`securities.ledger: "evm"` in the gateway config): the settlement modes put the
 * securities leg on the ledger they call `fabric`, and this connector serves it from the EVM.
 */
import type { LedgerConnector } from './connector';
import type { LedgerName } from '../core/trade';

/** `connector` with `ledger` reported as `name`; every operation is the original's. */
export function asLedger(name: LedgerName, connector: LedgerConnector): LedgerConnector {
  return new Proxy(connector, {
    get(target, prop) {
      if (prop === 'ledger') return name;
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
