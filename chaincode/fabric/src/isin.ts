/** ISIN (ISO 6166) validation: 2-letter country prefix, 9 alphanumerics, Luhn check digit. */
import { fail } from './errors';

const FORMAT = /^[A-Z]{2}[A-Z0-9]{9}[0-9]$/;

/** True when `isin` has the ISO 6166 shape and a correct check digit. */
export function isValidIsin(isin: string): boolean {
  if (!FORMAT.test(isin)) return false;
  // Letters expand to two digits (A=10 ... Z=35), then Luhn over the digit string.
  const digits = [...isin].map((c) => (c >= 'A' ? (c.charCodeAt(0) - 55).toString() : c)).join('');
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Returns `isin` when valid, otherwise throws INVALID_ARGUMENT. */
export function requireIsin(isin: string): string {
  if (!isValidIsin(isin)) fail('INVALID_ARGUMENT', 'isin is not a valid ISIN (format or check digit)', { isin });
  return isin;
}
