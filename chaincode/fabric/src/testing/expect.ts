/** Assertions on transaction results: exact error code and context, or success. */
import { expect } from '@jest/globals';

import { parseChaincodeError } from '../errors';
import type { ErrorCode } from '../errors';
import type { TxResult } from './harness';

/** Requires a rejection with exactly `code` and, if given, context fields equal to `data`. */
export function expectRejected(result: TxResult, code: ErrorCode, data?: Readonly<Record<string, unknown>>): void {
  expect(result.status).toBe(500);
  const parsed = parseChaincodeError(result.message);
  expect(parsed?.code).toBe(code);
  if (data !== undefined) expect(parsed?.data).toMatchObject({ ...data, code });
  expect(result.event).toBeUndefined();
}

/** Requires success and returns the payload parsed as JSON (or the raw string if not JSON). */
export function expectOk(result: TxResult): unknown {
  expect({ status: result.status, message: result.message }).toEqual({ status: 200, message: '' });
  try {
    return JSON.parse(result.payload);
  } catch {
    return result.payload;
  }
}
