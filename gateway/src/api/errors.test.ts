import { ERROR_HTTP, RequestError, toHttpError } from './errors';
import { IdentityError } from '../trust/errors';
import { TradeError } from '../core/errors';
import { LedgerError } from '../ledger/errors';
import { RecordError } from '../settlement/observer/record';

describe('error mapping', () => {
  it('maps engine errors to their status and keeps their context as details', () => {
    expect(toHttpError(new TradeError('IDEMPOTENCY_CONFLICT', 'key reused', { tradeId: 'T-1' }))).toEqual({
      status: 409,
      body: { error: { code: 'IDEMPOTENCY_CONFLICT', message: 'key reused', details: { tradeId: 'T-1' } } },
      unexpected: false,
    });
    expect(toHttpError(new TradeError('TRADE_NOT_FOUND', 'no')).status).toBe(404);
    expect(toHttpError(new TradeError('LEDGER_UNAVAILABLE', 'down'))).toMatchObject({ status: 503, unexpected: true });
  });

  it('answers a ledger failure as LEDGER_UNAVAILABLE (503) or LEDGER_REJECTED (502), naming the ledger and its code', () => {
    expect(toHttpError(new LedgerError('UNAVAILABLE', 'fabric', 'no peer'))).toMatchObject({
      status: 503,
      body: { error: { code: 'LEDGER_UNAVAILABLE', details: { ledger: 'fabric', ledgerCode: 'UNAVAILABLE' } } },
      unexpected: true,
    });
    expect(toHttpError(new LedgerError('NOT_APPROVED', 'evm', 'no approval', { escrowId: '0x01' }))).toEqual({
      status: 502,
      body: {
        error: {
          code: 'LEDGER_REJECTED',
          message: 'no approval',
          details: { escrowId: '0x01', ledger: 'evm', ledgerCode: 'NOT_APPROVED' },
        },
      },
      unexpected: true,
    });
  });

  it('maps identity errors to 401 or 403', () => {
    expect(toHttpError(new IdentityError('CERT_REVOKED', 'revoked')).status).toBe(401);
    expect(toHttpError(new IdentityError('ROLE_FORBIDDEN', 'no')).status).toBe(403);
  });

  it('maps a record outside the observer’s vocabulary to 400, naming the field', () => {
    const err = new RecordError('RECORD_INVALID', "record field 'step' must be one of ...", { field: 'step' });
    expect(toHttpError(err)).toEqual({
      status: 400,
      body: { error: { code: 'RECORD_INVALID', message: err.message, details: { field: 'step' } } },
      unexpected: false,
    });
  });

  it('maps a route of a role this gateway does not run to 404 ROLE_NOT_SERVED', () => {
    const err = new RequestError('ROLE_NOT_SERVED', 'this gateway is not a notary', { role: 'notary' });
    expect(toHttpError(err)).toMatchObject({ status: 404, body: { error: { code: 'ROLE_NOT_SERVED' } } });
  });

  it('maps body-parser failures to 400/413 and anything else to a 500 that says nothing', () => {
    expect(
      toHttpError(Object.assign(new SyntaxError('Unexpected token'), { type: 'entity.parse.failed', status: 400 })),
    ).toMatchObject({
      status: 400,
      body: { error: { code: 'MALFORMED_JSON' } },
    });
    expect(toHttpError(Object.assign(new Error('big'), { type: 'entity.too.large', status: 413 })).status).toBe(413);
    expect(toHttpError(new Error('secret detail'))).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL', message: 'internal error' } },
      unexpected: true,
    });
  });

  it('maps every code to a 4xx or 5xx status with a title', () => {
    for (const [code, { status, title }] of Object.entries(ERROR_HTTP)) {
      expect([code, status >= 400 && status < 600, title.length > 0]).toEqual([code, true, true]);
    }
  });
});
