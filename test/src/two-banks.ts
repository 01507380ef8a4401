/**
 * Two banks' gateways as real processes on the shared local network, for the two-gateway tests
 * and `make demo`: configs generated from network.json, callers' certificates from the banks'
 * wallets, and the ledgers prepared with tokens.
 *
 * Securities: on the real Fabric peers when network-up started Fabric (securities-leg.ts); where
 * no Fabric peer runs, an ERC-20 token on the local anvil (symbol SEC, 0 decimals) stands in for
 * it, one per ISIN, with `securities.ledger = "evm"` in each gateway's config, labelled so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { writeGatewayConfig } from '../../network/src/gateway-config';
import type { EscrowConfig, SettlementConfig } from '../../gateway/src/config/config';
import { networkPaths, partyWallet, type NetworkState } from '../../network/src/state';

const ROOT = resolve(__dirname, '..', '..');
export const BANKS = ['seller', 'buyer'] as const;
export type Bank = (typeof BANKS)[number];
/** The orchestrated escrow's parties of their own (the agents org of the local network). */
export const AGENT_PARTIES = ['manager', 'notary', 'observer'] as const;
export type AgentParty = (typeof AGENT_PARTIES)[number];
/** Any party a gateway process can run. */
export type Party = Bank | AgentParty;

/** A PEM certificate and key from a wallet. */
export interface Pem {
  readonly cert: string;
  readonly key: string;
}
export interface Res {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

export const walletPem = (net: NetworkState, bank: Bank, name: string): Pem => {
  const wallet = (net.fabricCa.orgs[bank] as { wallet: string }).wallet;
  return {
    cert: readFileSync(join(wallet, name, 'cert.pem'), 'utf8'),
    key: readFileSync(join(wallet, name, 'key.pem'), 'utf8'),
  };
};

/** A PEM identity from any party's wallet (a bank's, or an agent party's own). */
export const partyPem = (net: NetworkState, party: Party, name: string): Pem => {
  const wallet = partyWallet(net, party)?.wallet;
  if (wallet === undefined) throw new Error(`network.json has no wallet for party '${party}'`);
  return {
    cert: readFileSync(join(wallet, name, 'cert.pem'), 'utf8'),
    key: readFileSync(join(wallet, name, 'key.pem'), 'utf8'),
  };
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- ledgers (evm-ledger.ts, re-exported for the files that import them from here) ----

export {
  addressOf,
  balanceOf,
  clients,
  evmEscrow,
  heldByEscrow,
  heldByHtlc,
  issue,
  securitiesToken,
  totalSupply,
  type EscrowReading,
} from './evm-ledger';

// ---- gateway processes ----

/** Options of {@link gatewayProcess}. */
export interface GatewayProcessOptions {
  readonly net: NetworkState;
  /** Whose gateway: a bank, or the escrow manager, notary or observer (its config `role`). */
  readonly party: Party;
  /** Folder for the config and database. */
  readonly dir: string;
  readonly port: number;
  /**
   * The other bank's gateway URL (overrides the directory's, since ports are chosen per run);
   * omitted: the directory's.
   */
  readonly peerUrl?: string;
  /** Gateway URL per party, overriding the directory's (merged over {@link peerUrl}). */
  readonly peerUrls?: Readonly<Record<string, string>>;
  /** ISIN → securities token on the anvil; omitted: no securities ledger (balances say "unavailable"). */
  readonly securities?: Readonly<Record<string, string>>;
  /** Omitted: the settlement defaults of `writeGatewayConfig`. */
  readonly settlement?: Partial<SettlementConfig>;
  /** The config's `escrow` section (orchestrated escrow timing); omitted: the gateway's defaults. */
  readonly escrow?: Partial<EscrowConfig>;
  /** The config's `notary` section (role notary only); omitted: the gateway's default (rule, no limit). */
  readonly notary?: NotaryRuleConfig;
  /** Environment of every start, over the caller's (and under {@link GatewayProcess.launch}'s `env`). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Orgs whose CA certificates {@link GatewayProcess.call} trusts for the server; default both
   * banks and the agents org.
   */
  readonly trust?: readonly string[];
  /** Write the process's output to this file and let it outlive the caller (demo); default piped. */
  readonly logFile?: string;
}

/** The gateway config's `notary` section as written to the file (the amount a decimal string). */
export interface NotaryRuleConfig {
  readonly decide?: 'rule' | 'operator';
  readonly denyParties?: readonly string[];
  readonly maxAmount?: string;
}

/** Adds the `escrow` and `notary` sections to a written gateway config file. */
function addSections(file: string, sections: Readonly<Record<string, unknown>>): void {
  const present = Object.entries(sections).filter(([, v]) => v !== undefined);
  if (present.length === 0) return;
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, `${JSON.stringify({ ...config, ...Object.fromEntries(present) }, null, 2)}\n`);
}

/** A gateway process that can be started, killed, paused and called. */
export class GatewayProcess {
  readonly url: string;
  readonly #o: GatewayProcessOptions;
  readonly #ca: string[];
  #child: ChildProcess | undefined;
  #exit: Promise<number | null> | undefined;
  #output = '';
  #stderr = '';

  constructor(options: GatewayProcessOptions) {
    this.#o = options;
    this.url = `https://127.0.0.1:${options.port}`;
    this.#ca = (options.trust ?? [...BANKS, options.net.agents.org]).map((org) =>
      readFileSync((options.net.fabricCa.orgs[org] as { caCertFile: string }).caCertFile, 'utf8'),
    );
    mkdirSync(options.dir, { recursive: true });
    const peerUrls = {
      ...(options.peerUrl !== undefined && { [options.party === 'seller' ? 'buyer' : 'seller']: options.peerUrl }),
      ...options.peerUrls,
    };
    writeGatewayConfig({
      networkFile: networkPaths().stateFile,
      party: options.party,
      out: this.configFile,
      ...(options.securities !== undefined && { securities: options.securities }),
      ...(options.settlement !== undefined && { settlement: options.settlement }),
      ...(Object.keys(peerUrls).length > 0 && { peerUrls }),
    });
    addSections(this.configFile, { escrow: options.escrow, notary: options.notary });
  }

  /** The party this process runs. */
  get party(): Party {
    return this.#o.party;
  }

  /** The process's SQLite database (`DVP_GATEWAY_SQLITE_PATH`). */
  get dbFile(): string {
    return join(this.#o.dir, 'gateway.sqlite');
  }

  /** The configuration file the constructor wrote (`DVP_GATEWAY_CONFIG` of the process). */
  get configFile(): string {
    return join(this.#o.dir, 'gateway.json');
  }

  get output(): string {
    return this.#o.logFile !== undefined && existsSync(this.#o.logFile)
      ? readFileSync(this.#o.logFile, 'utf8')
      : this.#output;
  }

  /** What the process wrote to stderr (piped output only; with `logFile` it is in {@link output}). */
  get stderr(): string {
    return this.#stderr;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The last process's exit code: `null` while it runs (or when a signal ended it). */
  get exitCode(): number | null | undefined {
    return this.#child?.exitCode;
  }

  /** Starts the process (`env` as for {@link launch}) and waits for /healthz (20 s). */
  async start(env: Readonly<Record<string, string>> = {}): Promise<void> {
    const proc = this.launch(env);
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(100)) {
      if (proc.exitCode !== null)
        throw new Error(`${this.#o.party} gateway exited with ${proc.exitCode}:\n${this.output}`);
      const health = await this.call(undefined, 'GET', '/healthz').catch(() => undefined);
      if (health?.status === 200) return;
    }
    throw new Error(`${this.#o.party} gateway not healthy within 20 s:\n${this.output}`);
  }

  /** The signal that ended the last process (`SIGKILL` after a crash point), or null. */
  get signalCode(): NodeJS.Signals | null | undefined {
    return this.#child?.signalCode;
  }

  /**
   * Starts the process without waiting for it to be healthy; `env` overrides its environment
   * (e.g. a bad `DVP_GATEWAY_PORT`). See {@link exited}.
   */
  launch(env: Readonly<Record<string, string>> = {}): ChildProcess {
    const proc = this.#spawn({
      ...process.env,
      DVP_GATEWAY_CONFIG: this.configFile,
      DVP_GATEWAY_PORT: String(this.#o.port),
      DVP_GATEWAY_SQLITE_PATH: this.dbFile,
      ...this.#o.env,
      ...env,
    });
    this.#child = proc;
    this.#exit = new Promise((r) => proc.once('exit', (code) => r(code)));
    return proc;
  }

  /** Resolves with the exit code of the last started process once it has exited. */
  async exited(): Promise<number | null> {
    if (!this.#exit) throw new Error(`${this.#o.party} gateway was never started`);
    return this.#exit;
  }

  #spawn(env: NodeJS.ProcessEnv): ChildProcess {
    // One process (tsx as a loader, not a wrapper), so signals hit the gateway itself.
    const args = ['--import', 'tsx', 'gateway/src/main.ts'];
    const logFile = this.#o.logFile;
    let proc: ChildProcess;
    if (logFile !== undefined) {
      const fd = openSync(logFile, 'a');
      proc = spawn(process.execPath, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      proc.unref();
    } else {
      proc = spawn(process.execPath, args, { cwd: ROOT, env });
      proc.stdout?.on('data', (c: Buffer) => (this.#output += c.toString()));
      proc.stderr?.on('data', (c: Buffer) => {
        this.#output += c.toString();
        this.#stderr += c.toString();
      });
    }
    return proc;
  }

  /** SIGKILL, and wait for the exit. */
  async kill9(): Promise<void> {
    const proc = this.#child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM (clean shutdown); resolves with the exit code. */
  async stop(): Promise<number | null> {
    const proc = this.#child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
    return exited;
  }

  /** Freezes the process (SIGSTOP): it holds its sockets but does nothing, like a hung gateway. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** Lets a paused process go on (SIGCONT). */
  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  async call(
    who: Pem | undefined,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Res> {
    const { status, text } = await this.raw(who, method, path, body, headers);
    return { status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /** {@link call} with the answer's body as text (e.g. `/metrics`). */
  raw(
    who: Pem | undefined,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string }> {
    return new Promise((ok, fail) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        new URL(path, this.url),
        { method, ca: this.#ca, agent: false, timeout: 10_000, ...(who ?? {}) },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => ok({ status: res.statusCode ?? 0, text }));
        },
      );
      if (payload !== undefined) req.setHeader('content-type', 'application/json');
      for (const [k, v] of Object.entries(headers)) req.setHeader(k, v);
      req.on('timeout', () => req.destroy(new Error(`no answer from ${this.url}${path}`)));
      req.on('error', fail);
      req.end(payload);
    });
  }
}
