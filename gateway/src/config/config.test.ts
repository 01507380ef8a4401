import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config';
import { tempDir } from '../../testing/pki';

describe('loadConfig', () => {
  const tmp = tempDir('dvp-gateway-config-');
  const file = (name: string) => join(tmp.dir, name);
  const base = {
    partyId: 'BANKA',
    listen: { port: 8443 },
    tls: { certFile: 'tls/server.pem', keyFile: 'tls/server.key' },
    trustAnchors: [{ mspId: 'BankAMSP', certFile: 'ca-a.pem' }],
    crl: { files: ['ca-a.crl'] },
    directory: { file: 'directory.json', authorityKeyFile: 'authority.pem' },
    sqlitePath: 'gateway.sqlite',
  };

  beforeAll(() => {
    mkdirSync(file('tls'));
    for (const f of [
      'tls/server.pem',
      'tls/server.key',
      'ca-a.pem',
      'ca-a.crl',
      'directory.json',
      'authority.pem',
      'evm.key',
    ]) {
      writeFileSync(file(f), 'x');
    }
  });
  afterAll(() => tmp.remove());

  function write(config: unknown): Record<string, string> {
    writeFileSync(file('gateway.json'), JSON.stringify(config));
    return { DVP_GATEWAY_CONFIG: file('gateway.json') };
  }

  function problems(fn: () => unknown): readonly string[] {
    try {
      fn();
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    throw new Error('expected a ConfigError');
  }

  it('applies defaults and resolves paths against the config file’s folder', () => {
    const config = loadConfig(write(base));
    expect(config).toMatchObject({
      partyId: 'BANKA',
      listen: { host: '127.0.0.1', port: 8443 },
      tls: { certFile: file('tls/server.pem') },
      crl: { files: [file('ca-a.crl')], reloadIntervalSeconds: 5, requireForEveryAnchor: true },
      directory: { reloadIntervalSeconds: 5 },
      sqlitePath: file('gateway.sqlite'),
      log: { level: 'info' },
    });
    expect(config.evm).toBeUndefined();
  });

  it('lets environment variables override fields', () => {
    const config = loadConfig({
      ...write(base),
      DVP_GATEWAY_PORT: '9443',
      DVP_GATEWAY_HOST: '0.0.0.0',
      DVP_GATEWAY_LOG_LEVEL: 'debug',
      DVP_GATEWAY_EVM_RPC_URL: 'http://127.0.0.1:18545',
      DVP_GATEWAY_EVM_KEY_FILE: 'evm.key',
      DVP_GATEWAY_REQUEST_TIMEOUT_SECONDS: '12',
      DVP_GATEWAY_MAX_CONNECTIONS_PER_CLIENT: '16',
    });
    expect(config.listen).toEqual({
      host: '0.0.0.0',
      port: 9443,
      handshakeTimeoutSeconds: 10,
      headersTimeoutSeconds: 10,
      requestTimeoutSeconds: 12,
      keepAliveTimeoutSeconds: 5,
      maxConnections: 1024,
      maxConnectionsPerClient: 16,
    });
    expect(config.log.level).toBe('debug');
    expect(config.evm).toEqual({ rpcUrl: 'http://127.0.0.1:18545', keyFile: file('evm.key') });
  });

  it('requires DVP_GATEWAY_CONFIG', () => {
    expect(problems(() => loadConfig({}))).toEqual([expect.stringMatching(/^DVP_GATEWAY_CONFIG: is required/)]);
  });

  it('names every wrong field', () => {
    const { partyId: _p, ...noParty } = base;
    const found = problems(() =>
      loadConfig(write({ ...noParty, listen: { port: 70000 }, crl: { files: [], colour: 1 }, log: { level: 'loud' } })),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'partyId: is required',
        'listen.port: must be <= 65535',
        'crl.colour: is not a known field',
        expect.stringMatching(/^log\.level: must be equal to one of the allowed values/),
      ]),
    );
  });

  it('names the environment variable when its value is not an integer', () => {
    expect(problems(() => loadConfig({ ...write(base), DVP_GATEWAY_PORT: '84x3' }))).toEqual([
      "DVP_GATEWAY_PORT (listen.port): '84x3' is not a non-negative integer",
    ]);
  });

  it('names a configured file that does not exist', () => {
    const found = problems(() =>
      loadConfig(write({ ...base, trustAnchors: [{ mspId: 'BankAMSP', certFile: 'missing.pem' }] })),
    );
    expect(found).toEqual([`trustAnchors.0.certFile: file '${file('missing.pem')}' does not exist`]);
  });

  it('reads the messaging, settlement and securities sections with their defaults', () => {
    const config = loadConfig(
      write({
        ...base,
        peers: { certFile: 'tls/server.pem', keyFile: 'tls/server.key' },
        settlement: { leader: 'seller', leaderSeconds: 30, followerSeconds: 15, deltaSeconds: 8 },
        securities: { ledger: 'evm', instruments: { US0378331005: `0x${'ab'.repeat(20)}` } },
      }),
    );
    expect(config.peers).toEqual({
      certFile: file('tls/server.pem'),
      keyFile: file('tls/server.key'),
      urls: {},
      requestTimeoutSeconds: 10,
      retryIntervalSeconds: 2,
    });
    expect(config.settlement).toEqual({
      leader: 'seller',
      leaderSeconds: 30,
      followerSeconds: 15,
      deltaSeconds: 8,
      pollIntervalMs: 1000,
    });
    expect(config.securities).toEqual({ ledger: 'evm', instruments: { US0378331005: `0x${'ab'.repeat(20)}` } });
    expect(config.securities?.ledger === 'evm' && config.securities.instruments).toEqual({
      US0378331005: `0x${'ab'.repeat(20)}`,
    });
  });

  it('reads securities on Fabric with the bank peer, channel and chaincode, paths resolved', () => {
    const fabric = {
      mspId: 'BankAMSP',
      certFile: 'tls/server.pem',
      keyFile: 'tls/server.key',
      peer: { endpoint: '127.0.0.1:17151', tlsCaCertFile: 'ca-a.pem', hostOverride: 'peer0.a.local' },
      channel: 'settlement',
      chaincode: 'securities',
    };
    const config = loadConfig(write({ ...base, fabric, securities: { ledger: 'fabric' } }));
    expect(config.securities).toEqual({ ledger: 'fabric' });
    expect(config.fabric).toEqual({
      ...fabric,
      certFile: file('tls/server.pem'),
      keyFile: file('tls/server.key'),
      peer: { ...fabric.peer, tlsCaCertFile: file('ca-a.pem') },
    });
  });

  it('refuses securities on Fabric without the peer, channel and chaincode, naming each', () => {
    const fabric = { mspId: 'BankAMSP', certFile: 'tls/server.pem', keyFile: 'tls/server.key' };
    expect(problems(() => loadConfig(write({ ...base, fabric, securities: { ledger: 'fabric' } })))).toEqual([
      'fabric.peer: is required when securities.ledger is "fabric"',
      'fabric.channel: is required when securities.ledger is "fabric"',
      'fabric.chaincode: is required when securities.ledger is "fabric"',
    ]);
    const badPeer = { ...fabric, peer: { endpoint: 'no-port', tlsCaCertFile: 'ca-a.pem' } };
    expect(problems(() => loadConfig(write({ ...base, fabric: badPeer })))).toEqual([
      expect.stringMatching(/^fabric\.peer\.endpoint: must match pattern/),
    ]);
  });

  it('refuses T_L < T_F + Δ, a bad ISIN key, a non-https peer URL and a missing peer key file', () => {
    const found = problems(() =>
      loadConfig(
        write({
          ...base,
          peers: { certFile: 'tls/server.pem', keyFile: 'tls/server.key', urls: { BANKB: 'http://b:1' } },
          settlement: { leader: 'seller', leaderSeconds: 20, followerSeconds: 15, deltaSeconds: 8 },
          securities: { ledger: 'evm', instruments: { NOTANISIN: `0x${'ab'.repeat(20)}` } },
        }),
      ),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^peers\.urls\.BANKB: must match pattern/),
        expect.stringMatching(/^securities\.instruments/),
      ]),
    );
    const timelocks = problems(() =>
      loadConfig(
        write({ ...base, settlement: { leader: 'buyer', leaderSeconds: 20, followerSeconds: 15, deltaSeconds: 8 } }),
      ),
    );
    expect(timelocks).toEqual([
      'settlement.leaderSeconds: T_L (20) must be at least followerSeconds (15) + deltaSeconds (8)',
    ]);
    const missing = problems(() =>
      loadConfig(write({ ...base, peers: { certFile: 'tls/server.pem', keyFile: 'nope.key' } })),
    );
    expect(missing).toEqual([`peers.keyFile: file '${file('nope.key')}' does not exist`]);
  });

  it('refuses a config file that is not a JSON object', () => {
    writeFileSync(file('bad.json'), '[1,2');
    expect(problems(() => loadConfig({ DVP_GATEWAY_CONFIG: file('bad.json') }))[0]).toMatch(/is not a JSON object/);
  });
});
