/**
 * The layering of `gateway/src` (gateway/README.md, "Layout"), read from the code's own imports:
 * every import runs down the layers, no file imports a higher or sibling layer, only the ledger
 * adapters touch a ledger SDK, and there is no import cycle. A failure names the offending edge.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const SRC = __dirname;

/** Layers from the bottom up; a file may import its own layer's files and any lower layer's. */
const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['config'],
  ['ledger'],
  ['store', 'trust'],
  ['settlement'],
  ['trades'],
  ['messaging'],
  ['api'],
  ['(root)'],
];

/** Packages only some folders may import (a prefix of the file's path under src). */
const PACKAGE_OWNERS: Readonly<Record<string, readonly string[]>> = {
  viem: ['ledger/evm/'],
  '@hyperledger/fabric-gateway': ['ledger/fabric/'],
  '@hyperledger/fabric-protos': ['ledger/fabric/'],
  '@grpc/grpc-js': ['ledger/fabric/'],
  'better-sqlite3': ['store/', 'messaging/store.ts'],
  express: ['api/'],
};

/** What a settlement mode may import besides its own folder (DESIGN: a mode sees ports only). */
const SETTLEMENT_MAY_IMPORT = ['core/', 'settlement/', 'ledger/connector.ts', 'ledger/errors.ts'];

/** Ledger adapters are built by the process wiring only; everyone else sees the connector port. */
const LEDGER_ADAPTERS = ['ledger/evm/', 'ledger/fabric/'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === '__tests__' ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

function folderOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.split('/')[0]! : '(root)';
}

function rankOf(folder: string): number {
  const rank = LAYERS.findIndex((layer) => layer.includes(folder));
  if (rank < 0) throw new Error(`folder ${folder} has no layer: add it to LAYERS and gateway/README.md`);
  return rank;
}

function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
    if (files.includes(candidate)) return candidate;
  }
  return undefined;
}

const files = sourceFiles(SRC);
const imports = new Map<string, { readonly files: string[]; readonly packages: string[] }>(
  files.map((file) => {
    const specs = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
    return [
      file,
      {
        files: specs.flatMap((s) => resolveImport(file, s) ?? []),
        packages: specs.filter((s) => !s.startsWith('.')),
      },
    ];
  }),
);
const rel = (file: string): string => relative(SRC, file);

describe('gateway layering', () => {
  it('every folder has a layer', () => {
    for (const file of files) expect(() => rankOf(folderOf(file))).not.toThrow();
  });

  it('imports run down the layers only (no back edge, no sibling layer)', () => {
    const backEdges: string[] = [];
    for (const [file, { files: targets }] of imports) {
      const from = folderOf(file);
      for (const target of targets) {
        const to = folderOf(target);
        if (to !== from && rankOf(to) >= rankOf(from)) backEdges.push(`${rel(file)} -> ${rel(target)}`);
      }
    }
    expect(backEdges).toEqual([]);
  });

  it('a settlement mode imports only the core, other settlement code and the ledger port', () => {
    const outside = [...imports]
      .filter(([file]) => folderOf(file) === 'settlement')
      .flatMap(([file, { files: targets }]) =>
        targets
          .filter((t) => !SETTLEMENT_MAY_IMPORT.some((p) => rel(t).startsWith(p)))
          .map((t) => `${rel(file)} -> ${rel(t)}`),
      );
    expect(outside).toEqual([]);
  });

  it('only the process wiring builds a ledger adapter', () => {
    const users = [...imports]
      .filter(([file]) => !rel(file).startsWith('ledger/') && folderOf(file) !== '(root)')
      .flatMap(([file, { files: targets }]) =>
        targets
          .filter((t) => LEDGER_ADAPTERS.some((p) => rel(t).startsWith(p)))
          .map((t) => `${rel(file)} -> ${rel(t)}`),
      );
    expect(users).toEqual([]);
  });

  it('ledger SDKs, SQLite and express are imported only where they belong', () => {
    const misplaced = [...imports].flatMap(([file, { packages }]) =>
      packages
        .filter((p) => {
          const owners = PACKAGE_OWNERS[p];
          return owners && !owners.some((o) => (o === '(root)' ? folderOf(file) === o : rel(file).startsWith(o)));
        })
        .map((p) => `${rel(file)} -> ${p}`),
    );
    expect(misplaced).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of imports.get(file)?.files ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].map(rel).join(' -> '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
