import { BaseError, ContractFunctionRevertedError, encodeErrorResult } from 'viem';
import { CASH_ERROR_CODES, cashErrorAbi, decodeCashRevert, hashedTimelockAbi } from '.';

/** A viem error as `writeContract` throws it for a revert with `data`. */
function revertError(data: `0x${string}`): BaseError {
  const reverted = new ContractFunctionRevertedError({ abi: hashedTimelockAbi, data, functionName: 'claim' });
  return new BaseError('execution reverted', { cause: reverted });
}

describe('decodeCashRevert', () => {
  it('decodes a custom error of any of the three contracts with its arguments and shared code', () => {
    const data = encodeErrorResult({
      abi: cashErrorAbi,
      errorName: 'EscrowExceedsRemaining',
      args: [`0x${'11'.repeat(32)}`, 5n, 4n],
    });
    expect(decodeCashRevert(revertError(data))).toEqual({
      name: 'EscrowExceedsRemaining',
      args: [`0x${'11'.repeat(32)}`, 5n, 4n],
      code: 'EXCEEDS_ESCROW',
    });
  });

  it('maps a missing or invalid notary signature to NOT_APPROVED, not NOT_AUTHORIZED', () => {
    const args = [`0x${'22'.repeat(32)}`, `0x${'33'.repeat(20)}`, 1n] as const;
    const data = encodeErrorResult({ abi: cashErrorAbi, errorName: 'EscrowInvalidNotarySignature', args });
    expect(decodeCashRevert(revertError(data))).toMatchObject({
      name: 'EscrowInvalidNotarySignature',
      code: 'NOT_APPROVED',
    });
  });

  it('returns undefined for errors that are not contract reverts', () => {
    expect(decodeCashRevert(new Error('socket hang up'))).toBeUndefined();
    expect(decodeCashRevert(revertError('0x'))).toBeUndefined();
    expect(decodeCashRevert(revertError('0xdeadbeef'))).toBeUndefined();
  });

  it('maps every error in the ABIs', () => {
    const names = new Set(cashErrorAbi.flatMap((item) => (item.type === 'error' ? [item.name] : [])));
    expect([...names].sort()).toEqual(Object.keys(CASH_ERROR_CODES).sort());
  });
});
