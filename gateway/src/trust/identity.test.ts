/**
 * The mTLS matrix against a real HTTPS gateway, with certificates issued by two real
 * fabric-ca-servers (bank A, bank B) through `@dvp/certs`, plus in-memory CAs for what a real CA
 * will not issue (expired, wrong usage, unknown issuer).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { certificateFingerprint, type Directory, type Enrollment } from '@dvp/certs';
import { startHarness, type Harness } from '../../testing/harness';
import { createLocalCa, startBankCa, tempDir, type BankCa, type CertAndKey, type LocalCa } from '../../testing/pki';
import type { TestResponse } from '../../testing/https-client';
import type { Trade } from '../core/trade';

jest.setTimeout(60_000);

const pemOf = (e: Enrollment): CertAndKey => ({
  cert: e.certificate,
  key: e.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
});

/** One deadline for every order: a replay must send the very same body, even across a second boundary. */
const DEADLINE = Math.floor(Date.now() / 1000) + 3600;

const order = (tradeId: string) => ({
  tradeId,
  side: 'sell',
  counterparty: 'BANKB',
  isin: 'US0378331005',
  quantity: '100',
  price: '15000',
  currency: 'USD',
  mode: 'htlc',
  settlementDeadline: DEADLINE,
  partial: 'NPAR',
});

function expectError(res: TestResponse, status: number, code: string): void {
  expect({ status: res.status, code: (res.json as { error?: { code?: string } } | undefined)?.error?.code }).toEqual({
    status,
    code,
  });
  expect((res.json as { error: { message: string } }).error.message.length).toBeGreaterThan(5);
}

describe('gateway identity (mutual TLS)', () => {
  const tmp = tempDir('dvp-gateway-cas-');
  let caA: BankCa;
  let caB: BankCa;
  let local: LocalCa;
  let rogue: LocalCa;
  let gw: Harness;
  const id: Record<string, CertAndKey> = {};

  beforeAll(async () => {
    [caA, caB] = await Promise.all([startBankCa(tmp.dir, 'banka'), startBankCa(tmp.dir, 'bankb')]);
    [local, rogue] = await Promise.all([createLocalCa('Local Test CA'), createLocalCa('Rogue CA')]);
    const enroll = async (ca: BankCa, name: string, role: Parameters<BankCa['enroll']>[1], party: string) => {
      id[name] = pemOf(await ca.enroll(name, role, party));
    };
    await Promise.all([
      enroll(caA, 'trader-a', 'trader', 'BANKA'),
      enroll(caA, 'operator-a', 'operator', 'BANKA'),
      enroll(caA, 'auditor-a', 'auditor', 'BANKA'),
      enroll(caA, 'approver-a', 'approver', 'BANKA'),
      enroll(caA, 'revoked-a', 'operator', 'BANKA'),
      enroll(caA, 'unlisted-a', 'operator', 'BANKA'),
      enroll(caB, 'operator-b', 'operator', 'BANKB'),
      enroll(caB, 'forged-listed-under-a', 'operator', 'BANKA'),
      enroll(caB, 'forged-listed-under-b', 'operator', 'BANKA'),
      enroll(caB, 'forged-unlisted', 'operator', 'BANKA'),
    ]);
    id['expired'] = await local.issue('expired-a', {
      attrs: { role: 'operator', party: 'BANKA' },
      notBefore: new Date(Date.now() - 2 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    id['not-yet-valid'] = await local.issue('future-a', {
      attrs: { role: 'operator', party: 'BANKA' },
      notBefore: new Date(Date.now() + 86_400_000),
      notAfter: new Date(Date.now() + 2 * 86_400_000),
    });
    id['server-only'] = await local.issue('server-only', {
      attrs: { role: 'operator', party: 'BANKA' },
      extendedKeyUsage: [x509.ExtendedKeyUsage.serverAuth],
    });
    id['no-digital-signature'] = await local.issue('no-ds', {
      attrs: { role: 'operator', party: 'BANKA' },
      keyUsage: x509.KeyUsageFlags.keyEncipherment,
    });
    id['rogue'] = await rogue.issue('operator-a', { attrs: { role: 'operator', party: 'BANKA' } });
    const fp = (...names: string[]) => names.map((n) => certificateFingerprint((id[n] as CertAndKey).cert));
    const directory: Directory = {
      version: 1,
      issuedAt: Math.floor(Date.now() / 1000),
      parties: {
        BANKA: {
          mspId: 'BankAMSP',
          certificateFingerprints: fp(
            'trader-a',
            'operator-a',
            'auditor-a',
            'approver-a',
            'revoked-a',
            'forged-listed-under-a',
          ),
          evmAddress: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
          gatewayUrl: 'https://127.0.0.1:1',
        },
        BANKB: {
          mspId: 'BankBMSP',
          certificateFingerprints: fp('operator-b', 'forged-listed-under-b'),
          evmAddress: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
          gatewayUrl: 'https://127.0.0.1:2',
        },
      },
    };
    gw = await startHarness({
      party: 'BANKA',
      anchors: [
        { mspId: 'BankAMSP', certPem: caA.caCertPem, crlPem: await caA.gencrl() },
        { mspId: 'BankBMSP', certPem: caB.caCertPem, crlPem: await caB.gencrl() },
        { mspId: 'LocalMSP', certPem: local.certPem, crlPem: await local.crl() },
      ],
      directory,
    });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([caA?.stop(), caB?.stop()]);
    tmp.remove();
  });

  const get = (path: string, who?: string) => gw.client({ path, ...(who ? { identity: id[who] as CertAndKey } : {}) });
  const post = (path: string, who: string, body: unknown, key = `k-${Math.random()}`) =>
    gw.client({ method: 'POST', path, identity: id[who] as CertAndKey, body, headers: { 'idempotency-key': key } });

  describe('authentication', () => {
    it('answers /healthz over TLS without a client certificate', async () => {
      const res = await get('/healthz');
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ status: 'ok', party: 'BANKA' });
    });

    it('refuses a request without a client certificate with 401', async () => {
      expectError(await get('/v1/trades'), 401, 'CLIENT_CERT_REQUIRED');
    });

    it('accepts an operator enrolled at its bank’s CA and listed in the directory', async () => {
      const res = await get('/v1/trades', 'operator-a');
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ trades: [] });
    });

    it('refuses an expired certificate with 401', async () => {
      expectError(await get('/v1/trades', 'expired'), 401, 'CERT_EXPIRED');
    });

    it('refuses a certificate that is not valid yet with 401', async () => {
      expectError(await get('/v1/trades', 'not-yet-valid'), 401, 'CERT_NOT_YET_VALID');
    });

    it('refuses a certificate from an unknown CA with 401, even with the subject and attributes of a real operator', async () => {
      expectError(await get('/v1/trades', 'rogue'), 401, 'CERT_UNTRUSTED');
    });

    it('refuses a certificate whose extended key usage excludes clientAuth', async () => {
      expectError(await get('/v1/trades', 'server-only'), 401, 'CERT_USAGE');
    });

    it('refuses a certificate without the digitalSignature key usage', async () => {
      expectError(await get('/v1/trades', 'no-digital-signature'), 401, 'CERT_USAGE');
    });

    it('refuses a certificate of a trusted CA that is not in the directory', async () => {
      expectError(await get('/v1/trades', 'unlisted-a'), 401, 'CERT_NOT_IN_DIRECTORY');
    });
  });

  describe('party binding', () => {
    it('refuses bank B’s operator at bank A’s gateway (403)', async () => {
      expectError(await get('/v1/trades', 'operator-b'), 403, 'PARTY_NOT_SERVED');
    });

    it('refuses a bank-B-CA certificate with a forged party=BANKA even when listed under BANKA (MSP mismatch)', async () => {
      expectError(await post('/v1/trades', 'forged-listed-under-a', order('T-FORGED-1')), 403, 'PARTY_MISMATCH');
    });

    it('refuses a forged party attribute when the directory lists the certificate under its real party', async () => {
      expectError(await post('/v1/trades', 'forged-listed-under-b', order('T-FORGED-2')), 403, 'PARTY_MISMATCH');
    });

    it('refuses a forged party attribute on a certificate the directory does not list', async () => {
      expectError(await post('/v1/trades', 'forged-unlisted', order('T-FORGED-3')), 401, 'CERT_NOT_IN_DIRECTORY');
      expect(gw.trades.calls.filter((c) => c.method === 'submit')).toEqual([]);
    });

    it('does not let bank A’s operator read bank B’s trades (404), nor list them', async () => {
      const theirs: Trade = {
        tradeId: 'T-B-1',
        owner: 'BANKB',
        instruction: {
          ...order('T-B-1'),
          side: 'buy',
          counterparty: 'BANKA',
          quantity: 1n,
          price: 1n,
        } as Trade['instruction'],
        status: 'received',
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        timeline: [],
      };
      gw.trades.seed(theirs);
      expectError(await get('/v1/trades/T-B-1', 'operator-a'), 404, 'TRADE_NOT_FOUND');
      const list = await get('/v1/trades', 'operator-a');
      expect((list.json as { trades: Trade[] }).trades.map((t) => t.tradeId)).not.toContain('T-B-1');
    });
  });

  describe('roles', () => {
    it('lets a trader instruct a trade (201), replays the same key (200), and refuses the key with another body (409)', async () => {
      const created = await post('/v1/trades', 'trader-a', order('T-1'), 'key-1');
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({
        tradeId: 'T-1',
        owner: 'BANKA',
        instruction: { quantity: '100', price: '15000' },
      });
      expect((await post('/v1/trades', 'trader-a', order('T-1'), 'key-1')).status).toBe(200);
      expectError(
        await post('/v1/trades', 'trader-a', { ...order('T-1'), quantity: '101' }, 'key-1'),
        409,
        'IDEMPOTENCY_CONFLICT',
      );
    });

    it('lets an operator read and cancel a trade, and refuses a second cancel (409)', async () => {
      expect((await post('/v1/trades', 'operator-a', order('T-2'))).status).toBe(201);
      expect((await get('/v1/trades/T-2', 'operator-a')).json).toMatchObject({ tradeId: 'T-2', status: 'received' });
      const cancel = () =>
        gw.client({ method: 'POST', path: '/v1/trades/T-2/cancel', identity: id['operator-a'] as CertAndKey });
      expect((await cancel()).json).toMatchObject({ status: 'cancelled' });
      expectError(await cancel(), 409, 'INVALID_TRANSITION');
    });

    it('lets an auditor read the audit log but not instruct a trade', async () => {
      const audit = await get('/v1/audit', 'auditor-a');
      expect(audit.status).toBe(200);
      expect(audit.json).toMatchObject({ verification: { ok: true } });
      expectError(await post('/v1/trades', 'auditor-a', order('T-AUD')), 403, 'ROLE_FORBIDDEN');
    });

    it('does not let a trader read the audit log', async () => {
      expectError(await get('/v1/audit', 'trader-a'), 403, 'ROLE_FORBIDDEN');
    });

    it('refuses a role no route grants (approver) with 403 naming the roles needed', async () => {
      const res = await get('/v1/trades', 'approver-a');
      expectError(res, 403, 'ROLE_FORBIDDEN');
      expect((res.json as { error: { message: string } }).error.message).toMatch(/trader, operator, auditor.*approver/);
    });

    it('serves balances and metrics to an operator', async () => {
      expect((await get('/v1/balances', 'operator-a')).json).toEqual({ party: 'BANKA', securities: [], cash: [] });
      const metrics = await get('/metrics', 'operator-a');
      expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
      expect(metrics.text).toMatch(/dvp_http_requests_total\{route="\/v1\/trades",method="GET",status="200"\} \d+/);
    });
  });

  describe('revocation', () => {
    it('refuses a revoked operator within 10 s of the new CRL file, without a restart', async () => {
      expect((await get('/v1/trades', 'revoked-a')).status).toBe(200);
      gw.writeCrl(0, await caA.revoke('revoked-a'));
      const started = Date.now();
      let res = await get('/v1/trades', 'revoked-a');
      while (res.status === 200 && Date.now() - started < 10_000) {
        await new Promise((r) => setTimeout(r, 250));
        res = await get('/v1/trades', 'revoked-a');
      }
      expectError(res, 401, 'CERT_REVOKED');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await get('/v1/trades', 'operator-a')).status).toBe(200);
    });
  });

  describe('logs', () => {
    it('writes one JSON line per request with request id, party, route, status and duration, and no certificate', () => {
      const line = gw.logs.find((l) => l['msg'] === 'request' && l['status'] === 201);
      expect(line).toMatchObject({ level: 'info', party: 'BANKA', route: '/v1/trades', method: 'POST' });
      expect(typeof line?.['requestId']).toBe('string');
      expect(typeof line?.['durationMs']).toBe('number');
      expect(JSON.stringify(gw.logs)).not.toMatch(/BEGIN (CERTIFICATE|PRIVATE KEY)/);
    });
  });
});
