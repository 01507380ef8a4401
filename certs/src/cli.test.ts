import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from './cli';
import { x509 } from './crypto';
import { startTestCa, type TestCa } from './__tests__/fixtures';

jest.setTimeout(30_000);

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('dvp-certs CLI', () => {
  describe('usage', () => {
    it('prints help with --help and exits 0', async () => {
      const r = await cli(['--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Usage: dvp-certs <command>/);
    });

    it('rejects an unknown command and an unknown flag with exit 2 and no stack', async () => {
      for (const args of [['frobnicate'], ['enroll', '--password', 'x']]) {
        const r = await cli(args);
        expect(r.code).toBe(2);
        expect(r.err).toMatch(/^dvp-certs: .*\nRun 'dvp-certs --help' for usage\.$/);
        expect(r.err).not.toMatch(/\n\s+at /);
      }
    });

    it('names the missing flag', async () => {
      const r = await cli([
        'enroll',
        '--wallet',
        join(tmpdir(), 'dvp-certs-no-wallet'),
        '--url',
        'https://127.0.0.1:1',
        '--tls-cert',
        '/nonexistent',
      ]);
      expect(r).toMatchObject({ code: 2, err: expect.stringMatching(/^dvp-certs: missing --id/) });
    });

    it('reports an unreadable TLS certificate as a one-line user error', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dvp-certs-cli-'));
      const secretFile = join(dir, 'secret');
      writeFileSync(secretFile, 's3cret\n');
      const r = await cli([
        'enroll',
        '--wallet',
        join(dir, 'wallet'),
        '--url',
        'https://127.0.0.1:1',
        '--tls-cert',
        '/nonexistent',
        '--id',
        'a',
        '--secret-file',
        secretFile,
      ]);
      rmSync(dir, { recursive: true, force: true });
      expect(r).toEqual({ code: 1, out: '', err: 'dvp-certs: cannot read TLS certificate /nonexistent: ENOENT' });
    });

    it('runs through the bin entry as a separate process', async () => {
      const bin = join(__dirname, '..', 'bin', 'dvp-certs.js');
      const res = await promisify(execFile)(process.execPath, [bin, '--help']);
      expect(res.stdout).toMatch(/^Usage: dvp-certs/);
    });
  });

  describe('against a real fabric-ca-server', () => {
    let ca: TestCa;
    let conn: string[];
    let wallet: string;
    const secrets: string[] = [];

    beforeAll(async () => {
      ca = await startTestCa('seller');
      wallet = join(ca.dir, 'wallet');
      conn = [
        '--url',
        ca.handle.url,
        '--tls-cert',
        ca.handle.tlsCertFile,
        '--ca-name',
        ca.caName,
        '--wallet',
        wallet,
        '--msp-id',
        'SellerBankMSP',
      ];
      secrets.push(ca.registrar.secret);
    });
    afterAll(async () => {
      await ca?.stop();
    });

    /** Every run must keep secrets and keys off the terminal. */
    async function ok(args: string[]): Promise<string> {
      const r = await cli([...args, ...conn]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      for (const s of secrets) expect(r.out).not.toContain(s);
      expect(r.out).not.toMatch(/PRIVATE KEY|BEGIN/);
      return r.out;
    }

    it('onboards the registrar, registers and enrolls an operator, reenrolls, revokes and publishes a CRL', async () => {
      const regSecret = join(ca.dir, 'registrar.secret');
      writeFileSync(regSecret, `${ca.registrar.secret}\n`, { mode: 0o600 });
      expect(await ok(['enroll', '--id', ca.registrar.id, '--secret-file', regSecret])).toMatch(
        /^enrolled registrar into /,
      );

      const opSecret = join(ca.dir, 'op1.secret');
      const reg = await ok([
        'register',
        '--registrar',
        'registrar',
        '--id',
        'seller-op1',
        '--type',
        'client',
        '--role',
        'operator',
        '--party',
        'SELLER',
        '--evm-address',
        '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
        '--affiliation',
        'seller.operations',
        '--secret-file',
        opSecret,
      ]);
      expect(reg).toBe(`registered seller-op1 (type client, role operator); enrollment secret in ${opSecret}`);
      expect(statSync(opSecret).mode & 0o777).toBe(0o600);
      secrets.push(readFileSync(opSecret, 'utf8').trim());

      await ok(['enroll', '--id', 'seller-op1', '--secret-file', opSecret, '--name', 'op1']);
      const identity = JSON.parse(readFileSync(join(wallet, 'op1', 'identity.json'), 'utf8'));
      expect(identity).toMatchObject({
        mspId: 'SellerBankMSP',
        enrollmentId: 'seller-op1',
        role: 'operator',
        party: 'SELLER',
      });
      expect(statSync(join(wallet, 'op1', 'key.pem')).mode & 0o777).toBe(0o600);

      const tlsSecret = join(ca.dir, 'tls.secret');
      await ok([
        'register',
        '--registrar',
        'registrar',
        '--id',
        'seller-tls',
        '--type',
        'client',
        '--secret-file',
        tlsSecret,
      ]);
      secrets.push(readFileSync(tlsSecret, 'utf8').trim());
      const tlsArgs = ['--secret-file', tlsSecret, '--hosts', '127.0.0.1,localhost', '--profile', 'tls'];
      await ok(['enroll', '--id', 'seller-tls', ...tlsArgs]);
      const tlsCert = new x509.X509Certificate(readFileSync(join(wallet, 'seller-tls', 'cert.pem'), 'utf8'));
      expect(tlsCert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON()).toEqual(
        expect.arrayContaining([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
      );

      const re = JSON.parse(await ok(['reenroll', '--name', 'op1', '--json']));
      expect(re.serial).not.toBe(identity.serial);

      expect(await ok(['list', '--registrar', 'registrar'])).toMatch(
        /^seller-op1\tclient\tseller\.operations\toperator\tSELLER$/m,
      );
      expect(await ok(['list', '--local'])).toMatch(/^op1\tseller-op1\toperator\tSELLER\t[0-9a-f]{64}$/m);

      const crlFile = join(ca.dir, 'revoke.crl.pem');
      const rev = await ok([
        'revoke',
        '--registrar',
        'registrar',
        '--name',
        'op1',
        '--reason',
        'keycompromise',
        '--crl-out',
        crlFile,
      ]);
      expect(rev).toBe(`revoked 1 certificate(s) (keycompromise): ${re.serial}; CRL in ${crlFile}`);

      const out = join(ca.dir, 'crl.pem');
      await ok(['gencrl', '--registrar', 'registrar', '--out', out]);
      const crl = new x509.X509Crl(readFileSync(out, 'utf8'));
      expect(
        crl.findRevoked(new x509.X509Certificate(readFileSync(join(wallet, 'op1', 'cert.pem'), 'utf8'))),
      ).not.toBeNull();
    });

    it('explains a CA refusal in one line', async () => {
      const r = await cli(['reenroll', '--name', 'op1', ...conn]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /^dvp-certs: fabric-ca-server refused the credentials: reenroll: HTTP 401: .*\(code \d+\)\. check/,
      );
      expect(r.err.split('\n')).toHaveLength(1);
    });

    it('takes the connection from network.json with --org', async () => {
      const stateDir = join(ca.dir, 'state');
      mkdirSync(stateDir, { recursive: true });
      writeFileSync(
        join(stateDir, 'network.json'),
        JSON.stringify({
          schemaVersion: 1,
          stateDir,
          fabricCa: {
            orgs: {
              seller: {
                url: ca.handle.url,
                tlsCertFile: ca.handle.tlsCertFile,
                caName: ca.caName,
                mspId: 'SellerBankMSP',
              },
            },
          },
        }),
      );
      const regSecret = join(ca.dir, 'registrar.secret');
      const r = await cli(['enroll', '--org', 'seller', '--id', ca.registrar.id, '--secret-file', regSecret], {
        DVP_NETWORK_STATE_DIR: stateDir,
      });
      expect(r).toMatchObject({ code: 0, err: '' });
      expect(existsSync(join(stateDir, 'wallets', 'seller', 'registrar', 'cert.pem'))).toBe(true);
    });
  });
});
