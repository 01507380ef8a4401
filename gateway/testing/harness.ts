/**
 * Test-only harness: writes certificates, CRLs, a signed directory and a config file into a temp
 * folder, loads the config through {@link loadConfig} and starts a real HTTPS gateway on a free
 * port with the in-memory trade service. Never use in product code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Directory } from '@dvp/certs';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/core/log';
import type { PartyBalances } from '../src/trades/balances';
import { startGateway, type Gateway, type GatewayDependencies } from '../src/api/server';
import { createFakeTradeService, fakeBalances, type FakeTradeService } from './fake-trade-service';
import { testClient, type TestClient } from './https-client';
import { directoryAuthority, serverCertificate, tempDir, writeAtomic } from './pki';

export interface HarnessAnchor {
  readonly mspId: string;
  readonly certPem: string;
  /** Initial CRL; omitted means no CRL file for this anchor. */
  readonly crlPem?: string;
}

export interface HarnessOptions {
  readonly party: string;
  readonly anchors: readonly HarnessAnchor[];
  readonly directory: Directory;
  readonly crlReloadSeconds?: number;
  readonly requireCrlForEveryAnchor?: boolean;
  readonly balances?: PartyBalances;
  /** The parties of their own the gateway runs (the escrow manager, a notary, an observer). */
  readonly services?: Pick<GatewayDependencies, 'manager' | 'notary' | 'observer'>;
  /** Timeouts and connection limits of the `listen` section (the port is always chosen freely). */
  readonly listen?: Readonly<Record<string, number>>;
}

export interface Harness {
  readonly url: string;
  readonly client: TestClient;
  readonly trades: FakeTradeService;
  readonly gateway: Gateway;
  /** Every log line written, parsed. */
  readonly logs: Record<string, unknown>[];
  readonly dir: string;
  /** Replaces the CRL file of anchor `index` (atomically). */
  writeCrl(index: number, pem: string): void;
  writeDirectory(d: Directory): void;
  close(): Promise<void>;
}

/** Starts a gateway for `opts.party` trusting `opts.anchors`. */
export async function startHarness(opts: Readonly<HarnessOptions>): Promise<Harness> {
  const tmp = tempDir();
  const file = (name: string): string => join(tmp.dir, name);
  const server = await serverCertificate();
  const authority = await directoryAuthority();
  writeFileSync(file('server.pem'), server.cert);
  writeFileSync(file('server.key'), server.key, { mode: 0o600 });
  writeFileSync(file('authority.pem'), authority.publicKeyPem);
  authority.write(file('directory.json'), opts.directory);
  const crlFiles: string[] = [];
  opts.anchors.forEach((a, i) => {
    writeFileSync(file(`anchor-${i}.pem`), a.certPem);
    if (a.crlPem !== undefined) {
      writeFileSync(file(`anchor-${i}.crl`), a.crlPem);
      crlFiles.push(`anchor-${i}.crl`);
    }
  });
  const config = {
    partyId: opts.party,
    listen: { ...opts.listen, port: 0 },
    tls: { certFile: 'server.pem', keyFile: 'server.key' },
    trustAnchors: opts.anchors.map((a, i) => ({ mspId: a.mspId, certFile: `anchor-${i}.pem` })),
    crl: {
      files: crlFiles,
      ...(opts.crlReloadSeconds !== undefined ? { reloadIntervalSeconds: opts.crlReloadSeconds } : {}),
      ...(opts.requireCrlForEveryAnchor !== undefined ? { requireForEveryAnchor: opts.requireCrlForEveryAnchor } : {}),
    },
    directory: { file: 'directory.json', authorityKeyFile: 'authority.pem' },
    sqlitePath: 'gateway.sqlite',
  };
  writeFileSync(file('gateway.json'), JSON.stringify(config, null, 2));
  const logs: Record<string, unknown>[] = [];
  const trades = createFakeTradeService(config.partyId);
  const gateway = await startGateway({
    config: loadConfig({ DVP_GATEWAY_CONFIG: file('gateway.json') }),
    trades,
    balances: fakeBalances(opts.balances),
    ...opts.services,
    logger: createLogger({ level: 'debug', sink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
  });
  return {
    url: gateway.url,
    client: testClient(gateway.url, server.cert),
    trades,
    gateway,
    logs,
    dir: tmp.dir,
    writeCrl: (index, pem) => writeAtomic(file(`anchor-${index}.crl`), pem),
    writeDirectory: (d) => authority.write(file('directory.json'), d),
    close: async () => {
      await gateway.close();
      tmp.remove();
    },
  };
}
