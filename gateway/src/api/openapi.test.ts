/**
 * The OpenAPI document: well-formed 3.1, every reference resolves, every schema compiles as JSON
 * Schema 2020-12, and the routes the app serves are exactly the documented operations.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, expressPath } from './app';
import { directoryView } from '../trust/directory';
import { silentLogger } from '../core/log';
import { createGatewayMetrics } from '../core/metrics';
import { OPERATIONS, openApiDocument, type OperationSpec } from './openapi';
import { createValidators } from './routes';
import { createFakeTradeService, fakeBalances } from '../../testing/fake-trade-service';

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        parameters: { name: string; in: string; required: boolean }[];
        responses: Record<string, { description: string }>;
      }
    >
  >;
  components: { schemas: Record<string, unknown> };
};

const doc = openApiDocument('BANKA') as unknown as Doc;
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, out));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

function resolvePointer(pointer: string): unknown {
  return pointer
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>(
      (node, part) => (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')],
      doc,
    );
}

function testApp() {
  const directory = directoryView(() => ({ version: 1, issuedAt: 1, parties: {} }));
  return createApp({
    identity: {
      verify: () => Promise.reject(new Error('not used')),
      verifyPeer: () => Promise.reject(new Error('not used')),
    },
    logger: silentLogger,
    deps: {
      servedParty: 'BANKA',
      trades: createFakeTradeService('BANKA'),
      balances: fakeBalances(),
      directory,
      metrics: createGatewayMetrics(),
      openapi: doc,
      health: () => ({ directoryIssuedAt: 1, crls: [] }),
      now: () => new Date(),
    },
  });
}

describe('OpenAPI document', () => {
  it('is an OpenAPI 3.1 document that survives a JSON round trip', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toContain('BANKA');
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('has only valid path items: paths start with /, known methods, unique operationIds, described responses', () => {
    const ids: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path).toMatch(/^\//);
      for (const [method, op] of Object.entries(item)) {
        expect(HTTP_METHODS).toContain(method);
        ids.push(op.operationId);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        for (const [status, r] of Object.entries(op.responses)) {
          expect(status).toMatch(/^[1-5]\d\d$/);
          expect(r.description.length).toBeGreaterThan(0);
        }
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('declares every path template variable as a required path parameter, and nothing else in the path', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      const vars = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(item)) {
        const inPath = op.parameters.filter((p) => p.in === 'path');
        expect(inPath.map((p) => p.name).sort()).toEqual([...vars].sort());
        expect(inPath.every((p) => p.required)).toBe(true);
      }
    }
  });

  it('resolves every $ref', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(10);
    for (const ref of all) expect([ref, resolvePointer(ref) !== undefined]).toEqual([ref, true]);
  });

  it('compiles every schema as JSON Schema 2020-12 (strict ajv)', () => {
    expect(() => createValidators()).not.toThrow();
  });

  it('documents exactly the routes the app serves', () => {
    const stack = (
      testApp() as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }
    ).router.stack;
    const served = stack
      .filter((l) => l.route)
      .flatMap((l) => Object.keys(l.route?.methods ?? {}).map((m) => `${m} ${l.route?.path}`))
      .sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${expressPath(path)}`))
      .sort();
    expect(served).toEqual(documented);
  });

  it('lists the roles of every protected operation', () => {
    for (const op of Object.values(OPERATIONS) as OperationSpec[]) {
      expect(op.roles === 'public' || op.roles.length > 0).toBe(true);
    }
    expect(OPERATIONS.getAudit.roles).toEqual(['auditor']);
    expect(OPERATIONS.submitTrade.roles).toEqual(['trader', 'operator']);
  });

  it('documents the body parser’s answers: 413 on every route, 415 on every route that takes a body', () => {
    for (const [id, op] of Object.entries(OPERATIONS) as [string, OperationSpec][]) {
      const statuses = Object.keys(doc.paths[op.path]?.[op.method]?.responses ?? {});
      expect([id, statuses.includes('413'), statuses.includes('415')]).toEqual([id, true, op.body !== undefined]);
    }
  });

  it('documents every error answer of the escrow parties’ routes, and their roles', () => {
    const answers: Record<string, string[]> = {
      listManagedTrades: ['200', '400', '401', '403', '404', '413'],
      getManagedTrade: ['200', '400', '401', '403', '404', '413'],
      cancelManagedTrade: ['200', '400', '401', '403', '404', '409', '413'],
      listApprovals: ['200', '400', '401', '403', '404', '413'],
      getApproval: ['200', '400', '401', '403', '404', '413'],
      approveSettlement: ['200', '400', '401', '403', '404', '409', '502', '503', '413'],
      refuseSettlement: ['200', '400', '401', '403', '404', '409', '413', '415'],
      getObservations: ['200', '400', '401', '403', '404', '413'],
    };
    for (const [id, statuses] of Object.entries(answers)) {
      const op = OPERATIONS[id as keyof typeof OPERATIONS];
      expect([id, Object.keys(op.responses).sort()]).toEqual([id, [...statuses].sort()]);
      const writes = op.method === 'post';
      expect([id, op.roles]).toEqual([id, writes ? ['operator'] : expect.arrayContaining(['operator', 'auditor'])]);
    }
  });

  describe('GET /openapi.json', () => {
    let server: Server;
    beforeAll(async () => {
      server = createServer(testApp());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('serves the document without a client certificate', async () => {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/openapi.json`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(doc);
    });
  });
});
