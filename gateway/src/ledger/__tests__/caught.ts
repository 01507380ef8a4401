/** Test helpers for ledger failures, shared by the connector tests (in-process and on real ledgers). */
import type { PreparedTx } from '../connector';
import { LedgerError } from '../errors';

/** The {@link LedgerError} `promise` rejects with (the test fails when it resolves or throws another). */
export async function caught(promise: Promise<unknown>): Promise<LedgerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LedgerError);
  return err as LedgerError;
}

/** Runs `action`, keeping what `beforeSend` gets and then crashing before the submit. */
export async function crashBeforeSubmit(
  action: (beforeSend: (p: PreparedTx) => void) => Promise<unknown>,
): Promise<PreparedTx> {
  let prepared: PreparedTx | undefined;
  const crash = await caught(
    action((p) => {
      prepared = p;
      throw new LedgerError('UNAVAILABLE', 'fabric', 'simulated crash before submit');
    }),
  );
  expect(crash.message).toContain('simulated crash before submit');
  if (prepared === undefined) throw new Error('beforeSend was not called');
  return prepared;
}
