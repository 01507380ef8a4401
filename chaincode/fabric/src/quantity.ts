/**
 * Quantities: non-negative integers in the smallest unit, decimal strings on the wire and in
 * state, bigint in code. No floats, no parseInt.
 */
import { fail } from './errors';

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/**
 * Parses a decimal-string quantity. Rejects signs, leading zeros, exponents and blanks with
 * INVALID_ARGUMENT; rejects zero unless `allowZero`.
 */
export function parseQuantity(raw: string, field: string, allowZero = false): bigint {
  if (typeof raw !== 'string' || !DECIMAL.test(raw)) {
    fail('INVALID_ARGUMENT', `${field} must be a decimal integer string`, { field, value: String(raw) });
  }
  const value = BigInt(raw);
  if (value === 0n && !allowZero) fail('INVALID_ARGUMENT', `${field} must be positive`, { field, value: raw });
  return value;
}

/** Requires `quantity` to be a whole multiple of the instrument's minimum settlement unit. */
export function requireSettlementUnit(quantity: bigint, unit: bigint, isin: string): void {
  if (quantity % unit !== 0n) {
    fail('INVALID_ARGUMENT', `quantity must be a multiple of the minimum settlement unit ${unit}`, {
      isin,
      quantity: quantity.toString(),
      minSettlementUnit: unit.toString(),
    });
  }
}
