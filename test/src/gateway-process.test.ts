/**
 * The seller bank's gateway as a real process on the shared local network (`make network-up`):
 * its config generated from network.json, its TLS server certificate and every caller's
 * certificate issued by the banks' real Fabric CAs, cash read from the real anvil. It is killed
 * with SIGKILL and restarted on the same database, and an operator onboarded and then revoked
 * through the seller's CA is admitted and refused without a restart. Securities are read from
 * the chaincode on the real peers when Fabric runs; where it does not, no securities ledger is
 * configured and balances say why securities are unavailable.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateFingerprint, connectCa, loadIdentity } from '@dvp/certs';
import { writeCrl } from '../../network/src/ca';
import { updateDirectory } from '../../network/src/directory';
import { sharedNetwork } from './network';
import { securitiesLeg, testIsin, type SecuritiesLeg } from './securities-leg';
import { freePort } from '@dvp/certs';
import { GatewayProcess, sleep, walletPem, type Pem, type Res } from './two-banks';

jest.setTimeout(60_000);

const net = sharedNetwork();
const seller = net.fabricCa.orgs['seller']!;
/** This file's own instrument, so the balances it reads are its own. */
const ISIN = testIsin('GWPROC');

/** Rewrites the seller's certificate fingerprints in the shared signed directory. */
function editSellerFingerprints(edit: (fingerprints: readonly string[]) => string[]): void {
  updateDirectory(net.directory, (d) => {
    const entry = d.parties['seller']!;
    return {
      ...d,
      parties: { ...d.parties, seller: { ...entry, certificateFingerprints: edit(entry.certificateFingerprints) } },
    };
  });
}

describe('the seller bank’s gateway process on the local network', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvp-gateway-'));
  const trader = walletPem(net, 'seller', 'trader');
  const auditor = walletPem(net, 'seller', 'auditor');
  let gw: GatewayProcess;
  let leg: SecuritiesLeg;

  beforeAll(async () => {
    leg = await securitiesLeg(net, ISIN);
    if (leg.ledger === 'fabric') await leg.issue('seller', 7n);
    // The gateway's CA is the seller's bank CA: trust exactly that certificate.
    gw = new GatewayProcess({ net, party: 'seller', dir, port: await freePort(), trust: ['seller'] });
    await gw.start();
  });

  afterAll(async () => {
    await gw?.kill9();
    leg?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tradeId = `GW-${process.pid}-${Date.now()}`;
  const instruction = {
    tradeId,
    side: 'sell',
    counterparty: 'buyer',
    isin: ISIN,
    quantity: '100',
    price: '15000',
    currency: 'EUR', // the local cash token's currency (LOCAL_CURRENCY)
    mode: 'htlc',
    settlementDeadline: Math.floor(Date.now() / 1000) + 3600,
    partial: 'NPAR',
  };
  let created: Record<string, unknown>;

  it('answers /healthz over TLS with a server certificate from the bank’s CA', async () => {
    const res = await gw.call(undefined, 'GET', '/healthz');
    expect(res).toMatchObject({ status: 200, json: { status: 'ok', party: 'seller' } });
  });

  it('records a trader’s instruction once per idempotency key: 201, then 200 with the same trade', async () => {
    const key = { 'idempotency-key': `key-${tradeId}` };
    const first = await gw.call(trader, 'POST', '/v1/trades', instruction, key);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ tradeId, owner: 'seller', status: 'received' });
    created = first.json;
    const again = await gw.call(trader, 'POST', '/v1/trades', instruction, key);
    expect(again).toEqual({ status: 200, json: created });
  });

  it('the same POST /v1/trades sent 10 times concurrently with one Idempotency-Key creates one trade', async () => {
    const id = `${tradeId}-C`;
    const key = { 'idempotency-key': `key-${id}` };
    const body = { ...instruction, tradeId: id };
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => gw.call(trader, 'POST', '/v1/trades', body, key)),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const one = replies.find((r) => r.status === 201)!;
    expect(one.json).toMatchObject({ tradeId: id, owner: 'seller', status: 'received' });
    for (const reply of replies) expect(reply.json).toEqual(one.json);
    const list = await gw.call(trader, 'GET', '/v1/trades?counterparty=buyer');
    expect(list.status).toBe(200);
    const listed = (list.json['trades'] as { tradeId: string }[]).filter((t) => t.tradeId === id);
    expect(listed).toEqual([expect.objectContaining({ tradeId: id })]);
  });

  it('reads the trade back with its timeline', async () => {
    const res = await gw.call(trader, 'GET', `/v1/trades/${tradeId}`);
    expect(res).toEqual({ status: 200, json: created });
    expect(res.json['timeline']).toEqual([expect.objectContaining({ event: 'received', status: 'received' })]);
  });

  it('shows an auditor the trade’s audit entries and a verified hash chain', async () => {
    const res = await gw.call(auditor, 'GET', `/v1/audit?tradeId=${tradeId}`);
    expect(res.status).toBe(200);
    expect(res.json['entries']).toEqual([expect.objectContaining({ event: 'trade.received', tradeId })]);
    expect(res.json['verification']).toMatchObject({ ok: true });
  });

  it('reads cash from the EVM ledger, and securities from the chaincode or why they are unavailable', async () => {
    const res = await gw.call(trader, 'GET', '/v1/balances');
    expect(res.status).toBe(200);
    expect(res.json['cash']).toEqual([
      { currency: 'EUR', ledger: 'evm', free: expect.stringMatching(/^\d+$/), locked: '0' },
    ]);
    if (leg.ledger === 'fabric') {
      // The ISIN is this file's own: what the chaincode holds for the seller is what the gateway reports.
      const free = String(await leg.balance('seller'));
      expect(res.json['securities']).toEqual(
        expect.arrayContaining([{ isin: ISIN, ledger: 'fabric', free, locked: '0' }]),
      );
      expect(res.json['unavailable'] ?? []).toEqual([]);
    } else {
      expect(res.json['securities']).toEqual([]);
      expect(res.json['unavailable']).toEqual([{ leg: 'securities', reason: expect.stringMatching(/securities/) }]);
    }
  });

  it('refuses the buyer bank’s trader with the reason', async () => {
    const res = await gw.call(walletPem(net, 'buyer', 'trader'), 'GET', '/v1/trades');
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ error: { code: 'PARTY_NOT_SERVED' } });
  });

  it('keeps the trade, its timeline and a verifiable audit chain after kill -9 and a restart', async () => {
    await gw.kill9();
    await gw.start();
    expect(await gw.call(trader, 'GET', `/v1/trades/${tradeId}`)).toEqual({ status: 200, json: created });
    const audit = await gw.call(auditor, 'GET', '/v1/audit');
    expect(audit.json['verification']).toMatchObject({ ok: true });
    expect(audit.json['entries']).toEqual(
      expect.arrayContaining([expect.objectContaining({ event: 'trade.received', tradeId })]),
    );
  });

  it('exits with code 2 and names the problem when the configuration is bad', async () => {
    const bad = new GatewayProcess({ net, party: 'seller', dir: join(dir, 'bad-config'), port: 0 });
    bad.launch({ DVP_GATEWAY_CONFIG: gw.configFile, DVP_GATEWAY_PORT: 'eighty' });
    expect(await bad.exited()).toBe(2);
    expect(JSON.parse(bad.stderr.trim())).toMatchObject({
      level: 'error',
      msg: 'invalid gateway configuration',
      problems: [expect.stringMatching(/^DVP_GATEWAY_PORT \(listen\.port\): 'eighty' is not a non-negative integer/)],
    });
  });

  it('refuses to start with a test crash point when it is not under test (NODE_ENV)', async () => {
    const armed = new GatewayProcess({ net, party: 'seller', dir: join(dir, 'armed'), port: 0 });
    armed.launch({
      DVP_GATEWAY_CONFIG: gw.configFile,
      NODE_ENV: 'production',
      DVP_TEST_CRASH_AT: 'cash.lock:journaled',
    });
    expect(await armed.exited()).toBe(2);
    expect(JSON.parse(armed.stderr.trim())).toMatchObject({
      msg: 'invalid gateway configuration',
      problems: ['DVP_TEST_CRASH_AT and DVP_TEST_CRASH_TRACE are for tests only (NODE_ENV=test)'],
    });
  });

  describe('an operator onboarded through the seller’s CA', () => {
    const client = connectCa({
      url: seller.url,
      tlsTrustedCert: readFileSync(seller.tlsCertFile, 'utf8'),
      caName: seller.caName,
    });
    const registrar = loadIdentity(seller.wallet, 'registrar');
    const enrollmentId = `op-${process.pid}-${Date.now()}`;
    let operator: Pem;

    /** Polls `GET /v1/trades` as the operator until `status`; returns how long it took. */
    async function until(status: number, withinMs: number): Promise<{ ms: number; res: Res }> {
      const t0 = Date.now();
      for (;;) {
        const res = await gw.call(operator, 'GET', '/v1/trades');
        if (res.status === status || Date.now() - t0 > withinMs) return { ms: Date.now() - t0, res };
        await sleep(200);
      }
    }

    it('is accepted once its fingerprint is in the re-signed directory', async () => {
      const { secret } = await client.register(registrar, {
        enrollmentId,
        type: 'client',
        role: 'operator',
        party: 'seller',
      });
      const enrolled = await client.enroll({ enrollmentId, secret });
      operator = {
        cert: enrolled.certificate,
        key: enrolled.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      };
      expect((await gw.call(operator, 'GET', '/v1/trades')).json).toMatchObject({
        error: { code: 'CERT_NOT_IN_DIRECTORY' },
      });
      const fingerprint = certificateFingerprint(enrolled.certificate);
      editSellerFingerprints((fps) => [...fps, fingerprint]);
      const { res } = await until(200, 10_000);
      expect(res.status).toBe(200);
      expect(res.json['trades']).toEqual(expect.arrayContaining([expect.objectContaining({ tradeId })]));
    });

    it('is refused within 10 s of its revocation, without a restart', async () => {
      const pid = gw.pid;
      await client.revoke(registrar, { enrollmentId }, 'keycompromise');
      writeCrl(seller.crlFile, await client.gencrl(registrar));
      const { ms, res } = await until(401, 10_000);
      expect(res).toMatchObject({ status: 401, json: { error: { code: 'CERT_REVOKED' } } });
      expect(ms).toBeLessThan(10_000);
      expect(gw.pid).toBe(pid);
      expect(gw.exitCode).toBeNull();
      // Leave the shared directory as network-up wrote it (the CRL keeps listing the revoked cert).
      const fingerprint = certificateFingerprint(operator.cert);
      editSellerFingerprints((fps) => fps.filter((f) => f !== fingerprint));
    });
  });

  it('stops cleanly on SIGTERM: closes the listener and the database, exit code 0', async () => {
    expect(await gw.stop()).toBe(0);
    expect(gw.output).toMatch(/"msg":"stopped"/);
    await expect(gw.call(undefined, 'GET', '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});
