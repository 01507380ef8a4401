import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectCa } from './ca-client';
import { isAlive, startCaServer, stopProcess } from './ca-server';
import { startTestCa } from './__tests__/fixtures';
import { freePort } from './net';

jest.setTimeout(30_000);

describe('startCaServer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dvp-certs-srv-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts a healthy, detached server on loopback with TLS and an owner-only config', async () => {
    const ca = await startTestCa('buyer');
    try {
      expect(ca.handle.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(isAlive(ca.handle.pid)).toBe(true);
      const home = join(ca.dir, 'ca');
      expect(statSync(join(home, 'fabric-ca-server-config.yaml')).mode & 0o777).toBe(0o600);
      expect(statSync(join(home, 'tls', 'tls-key.pem')).mode & 0o777).toBe(0o600);
      expect(readFileSync(ca.handle.caCertFile, 'utf8')).toMatch(/BEGIN CERTIFICATE/);
      expect(readFileSync(ca.logFile, 'utf8')).toMatch(/Listening on https:\/\/127\.0\.0\.1:/);
    } finally {
      await ca.stop();
    }
    expect(isAlive(ca.handle.pid)).toBe(false);
  });

  it('restarts on an existing home with the same CA key and registrar', async () => {
    const opts = {
      homeDir: join(dir, 'ca'),
      caName: 'ca-again',
      org: 'again',
      port: await freePort(),
      registrar: { id: 'admin', secret: 'pw-again' },
      logFile: join(dir, 'ca.log'),
    };
    const first = await startCaServer(opts);
    const caCert = readFileSync(first.caCertFile, 'utf8');
    const tlsCert = readFileSync(first.tlsCertFile, 'utf8');
    await stopProcess(first.pid);
    const second = await startCaServer(opts);
    try {
      expect(second.pid).not.toBe(first.pid);
      expect(readFileSync(second.caCertFile, 'utf8')).toBe(caCert);
      expect(readFileSync(second.tlsCertFile, 'utf8')).toBe(tlsCert);
      const client = connectCa({ url: second.url, tlsTrustedCert: tlsCert, caName: 'ca-again' });
      await expect(client.enroll({ enrollmentId: 'admin', secret: 'pw-again' })).resolves.toHaveProperty('certificate');
    } finally {
      await stopProcess(second.pid);
    }
  });

  it('fails fast, with the tail of the log, when the port is taken', async () => {
    const port = await freePort();
    // Holds the port; drops every connection so that close() does not wait for them.
    const blocker: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    const started = Date.now();
    try {
      const err = await startCaServer({
        homeDir: join(dir, 'ca'),
        caName: 'ca-busy',
        org: 'busy',
        port,
        registrar: { id: 'admin', secret: 'pw' },
        logFile: join(dir, 'ca.log'),
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ca_server_start' });
      expect((err as Error).message).toMatch(/address already in use/);
      expect((err as Error).message).toContain(`--- last lines of ${join(dir, 'ca.log')} ---`);
      // Detected from the process exit, not by waiting for the 30 s health timeout.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('rejects options that would produce a broken config', async () => {
    const base = {
      homeDir: join(dir, 'ca'),
      caName: 'ca-x',
      org: 'x',
      port: 7054,
      registrar: { id: 'admin', secret: 'pw' },
      logFile: join(dir, 'ca.log'),
    };
    await expect(startCaServer({ ...base, port: 70_000 })).rejects.toMatchObject({
      code: 'invalid_input',
      message: 'startCaServer: invalid port 70000',
    });
    await expect(startCaServer({ ...base, affiliations: ['ops.desk'] })).rejects.toMatchObject({
      code: 'invalid_input',
      message: "startCaServer: invalid affiliation 'ops.desk' (letters, digits, '-', '_')",
    });
    await expect(startCaServer({ ...base, registrar: { id: 'admin', secret: '' } })).rejects.toMatchObject({
      code: 'invalid_input',
    });
  });

  it('says how to build the binary when it is missing', async () => {
    await expect(
      startCaServer({
        homeDir: join(dir, 'ca'),
        caName: 'ca-x',
        org: 'x',
        port: 1,
        registrar: { id: 'admin', secret: 'pw' },
        logFile: join(dir, 'ca.log'),
        binary: join(dir, 'no-such-binary'),
      }),
    ).rejects.toMatchObject({ code: 'ca_server_start', message: expect.stringMatching(/fabric-bin\.sh ca/) });
  });
});

describe('stopProcess', () => {
  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const child = spawn(
      process.execPath,
      ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('up')"],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    await new Promise((resolve) => child.stdout.once('data', resolve));
    const pid = child.pid ?? 0;
    const started = Date.now();
    expect(await stopProcess(pid, 300)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(isAlive(pid)).toBe(false);
  });

  it('returns false for a process that is not running, and refuses PIDs 0 and 1', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await stopProcess(child.pid ?? 0)).toBe(false);
    await expect(stopProcess(1)).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(stopProcess(0)).rejects.toMatchObject({ code: 'invalid_input' });
  });
});
