/**
 * Request validation and error mapping over real HTTPS, with a trader certificate from an
 * in-memory CA (identity itself is covered by identity.test.ts against real Fabric CAs).
 */
import 'reflect-metadata';
import { certificateFingerprint } from '@dvp/certs';
import { isIsin, isUint256 } from './routes';
import { startHarness, type Harness } from '../../testing/harness';
import { createLocalCa, type CertAndKey } from '../../testing/pki';
import type { TestRequest, TestResponse } from '../../testing/https-client';
import { TradeError } from '../core/errors';

jest.setTimeout(30_000);

const UINT256_MAX = ((1n << 256n) - 1n).toString();

/** One deadline for every body: a replay must send the very same body, even across a second boundary. */
const DEADLINE = Math.floor(Date.now() / 1000) + 3600;

const valid = (overrides: Record<string, unknown> = {}) => ({
  tradeId: 'T-100',
  side: 'buy',
  counterparty: 'BANKB',
  isin: 'US0378331005',
  quantity: '100',
  price: '15000',
  currency: 'USD',
  mode: 'htlc',
  settlementDeadline: DEADLINE,
  partial: 'PART',
  ...overrides,
});

describe('request validation', () => {
  let gw: Harness;
  let trader: CertAndKey;
  let n = 0;

  beforeAll(async () => {
    const ca = await createLocalCa('Bank A Test CA');
    trader = await ca.issue('trader-a', { attrs: { role: 'trader', party: 'BANKA' } });
    gw = await startHarness({
      party: 'BANKA',
      anchors: [{ mspId: 'BankAMSP', certPem: ca.certPem, crlPem: await ca.crl() }],
      directory: {
        version: 1,
        issuedAt: 1,
        parties: {
          BANKA: {
            mspId: 'BankAMSP',
            certificateFingerprints: [certificateFingerprint(trader.cert)],
            evmAddress: '0x1',
            gatewayUrl: 'https://a',
          },
          BANKB: { mspId: 'BankBMSP', certificateFingerprints: [], evmAddress: '0x2', gatewayUrl: 'https://b' },
          CSD: { mspId: 'AgentsMSP', certificateFingerprints: [], evmAddress: '0x3', gatewayUrl: 'https://m' },
          NOTARY: { mspId: 'AgentsMSP', certificateFingerprints: [], evmAddress: '0x4', gatewayUrl: 'https://n' },
        },
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const call = (req: Omit<TestRequest, 'identity'>): Promise<TestResponse> => gw.client({ ...req, identity: trader });
  const submit = (body: unknown, headers: Record<string, string> = { 'idempotency-key': `key-${++n}` }) =>
    call({ method: 'POST', path: '/v1/trades', body, headers });

  function expect400(res: TestResponse, code: string, reason: RegExp): void {
    const error = (res.json as { error: { code: string; message: string } }).error;
    expect({ status: res.status, code: error.code }).toEqual({ status: 400, code });
    expect(error.message).toMatch(reason);
  }

  it('accepts a valid instruction, including the largest uint256 quantity at price 1', async () => {
    expect((await submit(valid())).status).toBe(201);
    const res = await submit(valid({ tradeId: 'T-MAX', quantity: UINT256_MAX, price: '1' }));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ instruction: { quantity: UINT256_MAX } });
  });

  it('refuses malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await call({
      method: 'POST',
      path: '/v1/trades',
      rawBody: '{"tradeId": "T-1",',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-json' },
    });
    expect400(res, 'MALFORMED_JSON', /not valid JSON/);
  });

  it('refuses a body that is not an object', async () => {
    expect400(await submit([valid()]), 'VALIDATION_FAILED', /body must be object/);
  });

  it('calls valid JSON that is not an object what it is, not invalid JSON', async () => {
    for (const rawBody of ['5', '"T-1"', 'null', 'true']) {
      const headers = { 'content-type': 'application/json', 'idempotency-key': `k-scalar-${rawBody.length}` };
      const res = await call({ method: 'POST', path: '/v1/trades', rawBody, headers });
      expect400(res, 'VALIDATION_FAILED', /JSON but not an object/);
    }
  });

  it('refuses unknown fields, naming them', async () => {
    expect400(await submit(valid({ fee: '1' })), 'VALIDATION_FAILED', /body\.fee is not a known field/);
  });

  it('refuses a missing field, naming it', async () => {
    const { isin: _isin, ...rest } = valid();
    expect400(await submit(rest), 'VALIDATION_FAILED', /body\.isin is required/);
  });

  it.each([
    ['negative', '-5'],
    ['zero', '0'],
    ['fractional', '1.5'],
    ['exponent', '1e3'],
    ['leading zero', '007'],
    ['79 digits', '1'.repeat(79)],
  ])('refuses a %s quantity', async (_name, quantity) => {
    expect400(await submit(valid({ quantity })), 'VALIDATION_FAILED', /body\.quantity must be a positive integer/);
  });

  it('refuses a 78-digit quantity above 2^256 − 1', async () => {
    expect400(
      await submit(valid({ quantity: '9'.repeat(78) })),
      'VALIDATION_FAILED',
      /body\.quantity must be an integer no larger than 2\^256/,
    );
  });

  it('refuses a quantity and price whose cash amount does not fit 256 bits', async () => {
    expect400(
      await submit(valid({ tradeId: 'T-BIG', quantity: UINT256_MAX, price: '2' })),
      'VALIDATION_FAILED',
      /body\.price times body\.quantity exceeds 2\^256 − 1/,
    );
  });

  it('refuses a quantity sent as a JSON number', async () => {
    expect400(await submit(valid({ quantity: 100 })), 'VALIDATION_FAILED', /body\.quantity must be string/);
  });

  it('refuses a zero price', async () => {
    expect400(await submit(valid({ price: '0' })), 'VALIDATION_FAILED', /body\.price must be a positive integer/);
  });

  it('refuses a malformed ISIN and an ISIN with a wrong check digit', async () => {
    expect400(await submit(valid({ isin: 'US037833100' })), 'VALIDATION_FAILED', /body\.isin must match pattern/);
    expect400(await submit(valid({ isin: 'US0378331006' })), 'VALIDATION_FAILED', /body\.isin is not a valid ISIN/);
  });

  it('refuses an unknown counterparty, and the caller’s own party as counterparty', async () => {
    expect400(
      await submit(valid({ counterparty: 'BANKZ' })),
      'UNKNOWN_COUNTERPARTY',
      /'BANKZ' is not in the directory/,
    );
    expect400(await submit(valid({ counterparty: 'BANKA' })), 'VALIDATION_FAILED', /another party/);
  });

  it('refuses a deadline in the past and a mode not accepted yet', async () => {
    expect400(
      await submit(valid({ settlementDeadline: 1000 })),
      'VALIDATION_FAILED',
      /settlementDeadline must be in the future/,
    );
    expect400(
      await submit(valid({ mode: 'escrow_choreographed' })),
      'VALIDATION_FAILED',
      /body\.mode must be equal to one of the allowed values/,
    );
  });

  it('takes an orchestrated trade with its escrow parties, shown on the trade and part of the idempotent replay', async () => {
    const body = valid({ tradeId: 'T-ESC', mode: 'escrow_orchestrated', escrow: { manager: 'CSD', notary: 'NOTARY' } });
    const headers = { 'idempotency-key': 'key-escrow' };
    const first = await submit(body, headers);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ instruction: { mode: 'escrow_orchestrated', escrow: { manager: 'CSD' } } });
    expect((await submit(body, headers)).status).toBe(200);
    const other = await submit({ ...body, escrow: { manager: 'CSD' } }, headers);
    expect(other.status).toBe(409);
  });

  it('refuses escrow parties that are missing, misplaced, unknown, a bank of the trade or named twice', async () => {
    const orchestrated = (escrow: unknown) =>
      submit(valid({ tradeId: 'T-ESC-BAD', mode: 'escrow_orchestrated', ...(escrow !== undefined && { escrow }) }));
    expect400(
      await orchestrated(undefined),
      'VALIDATION_FAILED',
      /body\.escrow is required for mode escrow_orchestrated/,
    );
    expect400(await orchestrated({ notary: 'NOTARY' }), 'VALIDATION_FAILED', /body\.escrow\.manager is required/);
    expect400(
      await orchestrated({ manager: 'CSD', judge: 'X' }),
      'VALIDATION_FAILED',
      /body\.escrow\.judge is not a known field/,
    );
    expect400(
      await orchestrated({ manager: 'NOBODY' }),
      'VALIDATION_FAILED',
      /body\.escrow\.manager names 'NOBODY', who is not in the directory/,
    );
    expect400(
      await orchestrated({ manager: 'BANKB' }),
      'VALIDATION_FAILED',
      /body\.escrow\.manager names 'BANKB', who is already a party/,
    );
    expect400(
      await orchestrated({ manager: 'CSD', notary: 'CSD' }),
      'VALIDATION_FAILED',
      /body\.escrow\.notary names 'CSD', who is already a party/,
    );
    expect400(
      await submit(valid({ tradeId: 'T-HTLC-ESC', escrow: { manager: 'CSD' } })),
      'VALIDATION_FAILED',
      /body\.escrow is only for mode escrow_orchestrated/,
    );
  });

  it('requires the Idempotency-Key header', async () => {
    expect400(await submit(valid(), {}), 'IDEMPOTENCY_KEY_REQUIRED', /Idempotency-Key/);
  });

  it('refuses a malformed Idempotency-Key', async () => {
    expect400(
      await submit(valid(), { 'idempotency-key': 'k'.repeat(129) }),
      'VALIDATION_FAILED',
      /header\.idempotency-key/,
    );
  });

  it('refuses a body on a route that takes none', async () => {
    await submit(valid({ tradeId: 'T-CANCEL' }));
    const res = await call({ method: 'POST', path: '/v1/trades/T-CANCEL/cancel', body: { reason: 'x' } });
    expect400(res, 'VALIDATION_FAILED', /body is not accepted/);
    expect((await call({ method: 'POST', path: '/v1/trades/T-CANCEL/cancel', body: {} })).status).toBe(200);
  });

  it('refuses a body that is not application/json with 415', async () => {
    const res = await call({
      method: 'POST',
      path: '/v1/trades',
      rawBody: 'tradeId=T',
      headers: { 'content-type': 'text/plain', 'idempotency-key': 'k-text' },
    });
    expect(res.status).toBe(415);
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await submit(valid({ tradeId: 'x'.repeat(70_000) }));
    expect(res.status).toBe(413);
  });

  it('refuses unknown, repeated and malformed query parameters', async () => {
    expect400(await call({ path: '/v1/trades?colour=red' }), 'VALIDATION_FAILED', /query\.colour is not a known field/);
    expect400(await call({ path: '/v1/trades?status=done' }), 'VALIDATION_FAILED', /query\.status/);
    expect400(await call({ path: '/v1/trades?status=settled&status=failed' }), 'VALIDATION_FAILED', /query\.status/);
    expect400(
      await call({ path: '/v1/trades?from=yesterday' }),
      'VALIDATION_FAILED',
      /query\.from must match format "date-time"/,
    );
    expect((await call({ path: '/v1/trades?status=received&counterparty=BANKB' })).status).toBe(200);
  });

  it('refuses a malformed trade id in the path', async () => {
    expect400(await call({ path: '/v1/trades/%20bad%20id' }), 'VALIDATION_FAILED', /path\.id must match pattern/);
  });

  it('answers 405 with Allow for a method its path does not take', async () => {
    const cases: [TestRequest, string][] = [
      [{ method: 'DELETE', path: '/v1/trades' }, 'GET, HEAD, POST'],
      [{ method: 'PUT', path: '/v1/trades/T-1' }, 'GET, HEAD'],
      [{ method: 'GET', path: '/v1/trades/T-1/cancel' }, 'POST'],
      [{ method: 'POST', path: '/V1/Trades/T-1/' }, 'GET, HEAD'],
      [{ method: 'DELETE', path: '/healthz' }, 'GET, HEAD'],
    ];
    for (const [req, allow] of cases) {
      const res = await call(req);
      expect([req.path, res.status, res.headers['allow']]).toEqual([req.path, 405, allow]);
      expect(res.json).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED', details: { allow: allow.split(', ') } } });
    }
  });

  it('answers 404 ROUTE_NOT_FOUND for an unknown route', async () => {
    const res = await call({ path: '/v1/nothing' });
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
  });

  it('maps LEDGER_UNAVAILABLE to 503 with the engine’s context, and an unexpected error to a 500 that reveals nothing', async () => {
    gw.trades.failNext(new TradeError('LEDGER_UNAVAILABLE', 'evm rpc down', { ledger: 'evm' }));
    const unavailable = await call({ path: '/v1/trades' });
    expect(unavailable.status).toBe(503);
    expect(unavailable.json).toEqual({
      error: { code: 'LEDGER_UNAVAILABLE', message: 'evm rpc down', details: { ledger: 'evm' } },
    });
    gw.trades.failNext(new Error('db password=hunter2 leaked'));
    const internal = await call({ path: '/v1/trades' });
    expect(internal.status).toBe(500);
    expect(internal.text).not.toMatch(/hunter2/);
    expect(gw.logs.some((l) => l['msg'] === 'request failed' && l['level'] === 'error')).toBe(true);
  });

  it('echoes a well-formed X-Request-Id and makes one up otherwise', async () => {
    expect((await call({ path: '/healthz', headers: { 'x-request-id': 'req-42' } })).headers['x-request-id']).toBe(
      'req-42',
    );
    expect((await call({ path: '/healthz', headers: { 'x-request-id': 'bad id!' } })).headers['x-request-id']).toMatch(
      /^[0-9a-f-]{36}$/,
    );
  });
});

describe('isIsin', () => {
  it.each(['US0378331005', 'DE000BAY0017', 'CH0012221716', 'GB0002634946'])('accepts %s', (isin) => {
    expect(isIsin(isin)).toBe(true);
  });
  it.each(['US0378331006', 'us0378331005', 'US037833100', 'U10378331005', 'DE000BAY0018'])('refuses %s', (isin) => {
    expect(isIsin(isin)).toBe(false);
  });
});

describe('isUint256', () => {
  it('accepts 0 and 2^256 − 1, refuses 2^256 and non-canonical forms', () => {
    expect([isUint256('0'), isUint256(UINT256_MAX)]).toEqual([true, true]);
    expect([
      isUint256((1n << 256n).toString()),
      isUint256('01'),
      isUint256('-1'),
      isUint256('1.0'),
      isUint256(''),
    ]).toEqual([false, false, false, false, false]);
  });
});
