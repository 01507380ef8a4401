/**
 * The seller bank's gateway as a real process on the shared local network (`make network-up`):
 * its config generated from network.json, its TLS server certificate and every caller's
 * certificate issued by the banks' real Fabric CAs, cash read from the real anvil. It is killed
 * with SIGKILL and restarted on the same database, and an operator onboarded and then revoked
 * through the seller's CA is admitted and refused without a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { certificateFingerprint, connectCa, loadIdentity } from '@dvp/certs';
import { writeGatewayConfig } from '../../gateway/src/config-from-network';
import { writeCrl } from '../../network/src/ca';
import { updateDirectory } from '../../network/src/directory';
import { networkPaths } from '../../network/src/state';
import { sharedNetwork } from './network';

jest.setTimeout(60_000);

const ROOT = resolve(__dirname, '..', '..');
const net = sharedNetwork();
const seller = net.fabricCa.orgs['seller']!;
const buyer = net.fabricCa.orgs['buyer']!;

interface Pem {
  readonly cert: string;
  readonly key: string;
}
interface Res {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

const walletPem = (wallet: string, name: string): Pem => ({
  cert: readFileSync(join(wallet, name, 'cert.pem'), 'utf8'),
  key: readFileSync(join(wallet, name, 'key.pem'), 'utf8'),
});

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the seller bank’s gateway process on the local network', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvp-gateway-'));
  // The gateway's CA is the seller's bank CA: trust exactly that certificate.
  const caCert = readFileSync(seller.caCertFile, 'utf8');
  const trader = walletPem(seller.wallet, 'trader');
  const auditor = walletPem(seller.wallet, 'auditor');
  let port: number;
  let child: ChildProcess | undefined;
  let output = '';

  const call = (who: Pem | undefined, method: 'GET' | 'POST', path: string, body?: unknown, headers = {}) =>
    new Promise<Res>((ok, fail) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        { host: '127.0.0.1', port, path, method, ca: caCert, agent: false, ...(who ?? {}) },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => ok({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
        },
      );
      if (payload !== undefined) req.setHeader('content-type', 'application/json');
      for (const [k, v] of Object.entries(headers)) req.setHeader(k, v as string);
      req.on('error', fail);
      req.end(payload);
    });

  async function start(): Promise<void> {
    output = '';
    const env = {
      ...process.env,
      DVP_GATEWAY_CONFIG: join(dir, 'gateway.json'),
      DVP_GATEWAY_PORT: String(port),
      DVP_GATEWAY_SQLITE_PATH: join(dir, 'gateway.sqlite'),
    };
    // One process (tsx as a loader, not a wrapper), so SIGKILL hits the gateway itself.
    const proc = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], { cwd: ROOT, env });
    child = proc;
    proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(100)) {
      if (proc.exitCode !== null) throw new Error(`gateway exited with ${proc.exitCode}:\n${output}`);
      const health = await call(undefined, 'GET', '/healthz').catch(() => undefined);
      if (health?.status === 200) return;
    }
    throw new Error(`gateway not healthy within 20 s:\n${output}`);
  }

  async function kill9(): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }

  beforeAll(async () => {
    port = await freePort();
    writeGatewayConfig({ networkFile: networkPaths().stateFile, party: 'seller', out: join(dir, 'gateway.json') });
    await start();
  });

  afterAll(async () => {
    await kill9();
    rmSync(dir, { recursive: true, force: true });
  });

  const tradeId = `GW-${process.pid}-${Date.now()}`;
  const instruction = {
    tradeId,
    side: 'sell',
    counterparty: 'buyer',
    isin: 'US0378331005',
    quantity: '100',
    price: '15000',
    currency: 'USD',
    mode: 'htlc',
    settlementDeadline: Math.floor(Date.now() / 1000) + 3600,
    partial: 'NPAR',
  };
  let created: Record<string, unknown>;

  it('answers /healthz over TLS with a server certificate from the bank’s CA', async () => {
    const res = await call(undefined, 'GET', '/healthz');
    expect(res).toMatchObject({ status: 200, json: { status: 'ok', party: 'seller' } });
  });

  it('records a trader’s instruction once per idempotency key: 201, then 200 with the same trade', async () => {
    const key = { 'idempotency-key': `key-${tradeId}` };
    const first = await call(trader, 'POST', '/v1/trades', instruction, key);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ tradeId, owner: 'seller', status: 'received' });
    created = first.json;
    const again = await call(trader, 'POST', '/v1/trades', instruction, key);
    expect(again).toEqual({ status: 200, json: created });
  });

  it('reads the trade back with its timeline', async () => {
    const res = await call(trader, 'GET', `/v1/trades/${tradeId}`);
    expect(res).toEqual({ status: 200, json: created });
    expect(res.json['timeline']).toEqual([expect.objectContaining({ event: 'received', status: 'received' })]);
  });

  it('shows an auditor the trade’s audit entries and a verified hash chain', async () => {
    const res = await call(auditor, 'GET', `/v1/audit?tradeId=${tradeId}`);
    expect(res.status).toBe(200);
    expect(res.json['entries']).toEqual([expect.objectContaining({ event: 'trade.received', tradeId })]);
    expect(res.json['verification']).toMatchObject({ ok: true });
  });

  it('reads cash from the EVM ledger and says why securities are unavailable', async () => {
    const res = await call(trader, 'GET', '/v1/balances');
    expect(res.status).toBe(200);
    expect(res.json['cash']).toEqual([{ currency: 'EUR', free: expect.stringMatching(/^\d+$/), locked: '0' }]);
    expect(res.json['securities']).toEqual([]);
    expect(res.json['unavailable']).toEqual([{ ledger: 'fabric', reason: expect.stringMatching(/Fabric/) }]);
  });

  it('refuses the buyer bank’s trader with the reason', async () => {
    const res = await call(walletPem(buyer.wallet, 'trader'), 'GET', '/v1/trades');
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ error: { code: 'PARTY_NOT_SERVED' } });
  });

  it('keeps the trade, its timeline and a verifiable audit chain after kill -9 and a restart', async () => {
    await kill9();
    await start();
    expect(await call(trader, 'GET', `/v1/trades/${tradeId}`)).toEqual({ status: 200, json: created });
    const audit = await call(auditor, 'GET', '/v1/audit');
    expect(audit.json['verification']).toMatchObject({ ok: true });
    expect(audit.json['entries']).toEqual(
      expect.arrayContaining([expect.objectContaining({ event: 'trade.received', tradeId })]),
    );
  });

  it('exits with code 2 and names the problem when the configuration is bad', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, DVP_GATEWAY_CONFIG: join(dir, 'gateway.json'), DVP_GATEWAY_PORT: 'eighty' },
    });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise((r) => proc.once('exit', r));
    expect(code).toBe(2);
    expect(JSON.parse(stderr.trim())).toMatchObject({
      level: 'error',
      msg: 'invalid gateway configuration',
      problems: [expect.stringMatching(/^DVP_GATEWAY_PORT \(listen\.port\): 'eighty' is not a non-negative integer/)],
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
        const res = await call(operator, 'GET', '/v1/trades');
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
      expect((await call(operator, 'GET', '/v1/trades')).json).toMatchObject({
        error: { code: 'CERT_NOT_IN_DIRECTORY' },
      });
      const fingerprint = certificateFingerprint(enrolled.certificate);
      updateDirectory(net.directory, (d) => {
        const entry = d.parties['seller']!;
        const certificateFingerprints = [...entry.certificateFingerprints, fingerprint];
        return { ...d, parties: { ...d.parties, seller: { ...entry, certificateFingerprints } } };
      });
      const { res } = await until(200, 10_000);
      expect(res.status).toBe(200);
      expect(res.json['trades']).toEqual(expect.arrayContaining([expect.objectContaining({ tradeId })]));
    });

    it('is refused within 10 s of its revocation, without a restart', async () => {
      const pid = child?.pid;
      await client.revoke(registrar, { enrollmentId }, 'keycompromise');
      writeCrl(seller.crlFile, await client.gencrl(registrar));
      const { ms, res } = await until(401, 10_000);
      expect(res).toMatchObject({ status: 401, json: { error: { code: 'CERT_REVOKED' } } });
      expect(ms).toBeLessThan(10_000);
      expect(child?.pid).toBe(pid);
      expect(child?.exitCode).toBeNull();
      // Leave the shared directory as network-up wrote it (the CRL keeps listing the revoked cert).
      const fingerprint = certificateFingerprint(operator.cert);
      updateDirectory(net.directory, (d) => {
        const entry = d.parties['seller']!;
        const certificateFingerprints = entry.certificateFingerprints.filter((f) => f !== fingerprint);
        return { ...d, parties: { ...d.parties, seller: { ...entry, certificateFingerprints } } };
      });
    });
  });

  it('stops cleanly on SIGTERM: closes the listener and the database, exit code 0', async () => {
    const proc = child!;
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/"msg":"stopped"/);
    await expect(call(undefined, 'GET', '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});
