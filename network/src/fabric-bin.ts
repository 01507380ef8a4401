/**
 * Finding the Fabric binaries (peer, orderer, configtxgen, osnadmin) at the pinned version. The
 * candidates, first match wins:
 *
 *   1. `FABRIC_BIN`: a folder with the four binaries (the `bin/` of Fabric's release archive);
 *   2. the project's `.bin/` (what `make fabric-bin` builds with `go install`);
 *   3. `$(go env GOPATH)/bin` (where a `go install` without GOBIN puts them);
 *   4. every folder of `PATH`.
 *
 * A folder counts only when all four binaries are there and `peer version` / `orderer version`
 * report the version pinned in `network/versions.env`; a folder with another version is named in
 * the reason and skipped. The chaincode-as-a-service builder is Fabric's own (`ccaas_builder/bin`
 * beside the binaries) when found, else the project's three scripts in `network/ccaas/bin`.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** The project's git-ignored folder of native binaries. */
export const binDir = resolve(__dirname, '..', '..', '.bin');

/** The project's own chaincode-as-a-service builder (detect, build, release). */
export const projectCcaasBuilder = resolve(__dirname, '..', 'ccaas');

export const FABRIC_BINARIES = ['peer', 'orderer', 'configtxgen', 'osnadmin'] as const;

/** Where the binaries were found. */
export type FabricBinSource = 'FABRIC_BIN' | '.bin' | 'GOPATH' | 'PATH';

/** The binaries that will run, recorded in network.json. */
export interface FabricBinaries {
  readonly source: FabricBinSource;
  readonly dir: string;
  readonly version: string;
  readonly peer: string;
  readonly orderer: string;
  readonly configtxgen: string;
  readonly osnadmin: string;
  /** A folder with `bin/detect`, `bin/build`, `bin/release`. */
  readonly ccaasBuilder: { readonly kind: 'fabric' | 'project'; readonly dir: string };
}

export type FabricBinLookup =
  { readonly found: true; readonly binaries: FabricBinaries } | { readonly found: false; readonly reason: string };

/** One pin from `network/versions.env` (the single file of native versions). */
export function pin(name: string): string {
  const text = readFileSync(resolve(__dirname, '..', 'versions.env'), 'utf8');
  const match = new RegExp(`^${name}=(.*)$`, 'm').exec(text);
  if (!match?.[1]) throw new Error(`network/versions.env does not pin ${name}`);
  return match[1].replace(/^"|"$/g, '');
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `Version: x.y.z` from `<binary> version`, or undefined when it does not run. */
export function binaryVersion(file: string): string | undefined {
  try {
    const out = execFileSync(file, ['version'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return /^\s*Version:\s*v?(\S+)/m.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

function goBinDir(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8', timeout: 10_000, env }).trim();
    return gopath === '' ? undefined : join(gopath.split(delimiter)[0] ?? gopath, 'bin');
  } catch {
    return undefined;
  }
}

/** The candidate folders in lookup order. */
export function candidateDirs(env: NodeJS.ProcessEnv = process.env): { source: FabricBinSource; dir: string }[] {
  const dirs: { source: FabricBinSource; dir: string }[] = [];
  if (env['FABRIC_BIN']) dirs.push({ source: 'FABRIC_BIN', dir: resolve(env['FABRIC_BIN']) });
  dirs.push({ source: '.bin', dir: binDir });
  const go = goBinDir(env);
  if (go) dirs.push({ source: 'GOPATH', dir: go });
  for (const dir of (env['PATH'] ?? '').split(delimiter)) if (dir !== '') dirs.push({ source: 'PATH', dir });
  return dirs;
}

/** Checks one folder; a sentence for the reason when it does not qualify (undefined: not there at all). */
function inspect(source: FabricBinSource, dir: string, want: string): FabricBinaries | string | undefined {
  const present = FABRIC_BINARIES.filter((b) => executable(join(dir, b)));
  if (present.length === 0) return undefined;
  const missing = FABRIC_BINARIES.filter((b) => !present.includes(b));
  if (missing.length > 0) return `${source} ${dir}: missing ${missing.join(', ')}`;
  for (const b of ['peer', 'orderer'] as const) {
    const version = binaryVersion(join(dir, b));
    if (version !== want) return `${source} ${dir}: ${b} is version ${version ?? '(does not run)'}, need ${want}`;
  }
  const fabricCcaas = join(dir, 'ccaas_builder');
  const hasFabricCcaas = ['detect', 'build', 'release'].every((s) => executable(join(fabricCcaas, 'bin', s)));
  return {
    source,
    dir,
    version: want,
    peer: join(dir, 'peer'),
    orderer: join(dir, 'orderer'),
    configtxgen: join(dir, 'configtxgen'),
    osnadmin: join(dir, 'osnadmin'),
    ccaasBuilder: hasFabricCcaas ? { kind: 'fabric', dir: fabricCcaas } : { kind: 'project', dir: projectCcaasBuilder },
  };
}

/** Looks for the pinned Fabric binaries; the reason names every folder refused and how to get them. */
export function findFabricBinaries(env: NodeJS.ProcessEnv = process.env): FabricBinLookup {
  const want = pin('FABRIC_VERSION');
  const refused: string[] = [];
  const seen = new Set<string>();
  for (const { source, dir } of candidateDirs(env)) {
    if (seen.has(dir) || !existsSync(dir)) continue;
    seen.add(dir);
    const result = inspect(source, dir, want);
    if (result === undefined) continue;
    if (typeof result === 'string') refused.push(result);
    else return { found: true, binaries: result };
  }
  const how =
    `Fabric ${want} binaries (peer, orderer, configtxgen, osnadmin) not found; ` +
    `set FABRIC_BIN to the bin/ folder of Fabric's v${want} release, or run 'make fabric-bin' ` +
    `(go install from the module proxy), or put them in $(go env GOPATH)/bin or on PATH`;
  return { found: false, reason: refused.length > 0 ? `${how} (refused: ${refused.join('; ')})` : how };
}
