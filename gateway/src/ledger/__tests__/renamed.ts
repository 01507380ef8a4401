/**
 * Test-only: presents a connector under another ledger name, so a second EVM deployment can play
 * the Fabric ledger in tests that need two distinct ledgers on one anvil.
 */
import type { LedgerConnector } from '../connector';
import type { LedgerName } from '../../core/trade';

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
