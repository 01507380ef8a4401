/**
 * `dvp-certs`: onboarding and revocation of Fabric identities against an org's fabric-ca-server.
 * Never prints secrets or keys: enrollment secrets travel through files (mode 0600), keys stay in
 * the wallet. User errors exit 1 (2 for usage) with one line, no stack trace.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isIdentityType, isRole } from './attributes';
import { connectCa, type CaClient, type RevocationReason, type RevokeTarget } from './ca-client';
import { certificateSerialAndAki } from './crypto';
import { CertsError } from './errors';
import { listWallet, loadIdentity, saveIdentity } from './wallet';

const USAGE = `Usage: dvp-certs <command> [options]

Commands:
  register  --registrar <name> --id <enrollment-id> --type <client|peer|admin|orderer>
            [--role <role>] [--party <party>] [--evm-address <0x...>] [--affiliation <a.b>]
            --secret-file <file>     secret to use if the file exists, else the CA's is written there (0600)
  enroll    --id <enrollment-id> --secret-file <file> [--name <wallet-name>]   (new key made locally)
            [--hosts <name,ip,...>] [--profile tls]   subject alternative names, signing profile (TLS server)
  reenroll  --name <wallet-name>                                                 (new key, same identity)
  revoke    --registrar <name> (--id <enrollment-id> | --name <wallet-name> | --serial <hex> --aki <hex>)
            [--reason <reason>] [--crl-out <file>]
  gencrl    --registrar <name> --out <file>
  list      --registrar <name>       identities registered at the CA
  list      --local                  identities in the wallet

Connection (every command):
  --org <key>        take --url/--tls-cert/--ca-name/--msp-id from network.json fabricCa.orgs[<key>]
  --state <file>     network.json (default: $DVP_NETWORK_STATE_DIR/network.json or network/.state/network.json)
  --url <url>        https://host:port of the fabric-ca-server
  --tls-cert <file>  PEM the server's TLS certificate must chain to
  --ca-name <name>   CA name inside the server
  --wallet <dir>     wallet folder (default with --org: its "wallet", else <state dir>/wallets/<org>)
  --msp-id <id>      MSP id recorded in identity.json
  --json             machine-readable output
  -h, --help         this text

Roles: operator, trader, approver, auditor, gateway, escrow-manager, notary, issuer.
Reasons: unspecified, keycompromise, cacompromise, affiliationchange, superseded,
         cessationofoperation, certificatehold, privilegewithdrawn, aacompromise.`;

const OPTIONS = {
  org: { type: 'string' },
  state: { type: 'string' },
  url: { type: 'string' },
  'tls-cert': { type: 'string' },
  'ca-name': { type: 'string' },
  wallet: { type: 'string' },
  'msp-id': { type: 'string' },
  registrar: { type: 'string' },
  id: { type: 'string' },
  name: { type: 'string' },
  type: { type: 'string' },
  role: { type: 'string' },
  party: { type: 'string' },
  'evm-address': { type: 'string' },
  affiliation: { type: 'string' },
  'secret-file': { type: 'string' },
  serial: { type: 'string' },
  aki: { type: 'string' },
  reason: { type: 'string' },
  'crl-out': { type: 'string' },
  hosts: { type: 'string' },
  profile: { type: 'string' },
  out: { type: 'string' },
  local: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = Partial<Record<keyof typeof OPTIONS, string | boolean>>;

const REASONS: readonly RevocationReason[] = [
  'unspecified',
  'keycompromise',
  'cacompromise',
  'affiliationchange',
  'superseded',
  'cessationofoperation',
  'certificatehold',
  'removefromcrl',
  'privilegewithdrawn',
  'aacompromise',
];

/** Wrong usage: exit code 2 and a pointer to --help. */
class UsageError extends Error {}

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

interface Context {
  readonly flags: Flags;
  readonly ca: () => CaClient;
  readonly wallet: string;
  readonly mspId: string;
  readonly io: CliIo;
}

function str(flags: Flags, name: keyof typeof OPTIONS): string | undefined {
  const v = flags[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function need(flags: Flags, name: keyof typeof OPTIONS): string {
  const v = str(flags, name);
  if (v === undefined) throw new UsageError(`missing --${name}`);
  return v;
}

interface OrgDefaults {
  url?: string;
  tlsCertFile?: string;
  caName?: string;
  mspId?: string;
  wallet?: string;
}

/** One org's entry under `fabricCa.orgs` in network.json. */
interface OrgEntry {
  url?: string;
  tlsCertFile?: string;
  caName?: string;
  mspId?: string;
  wallet?: string;
}

/** The fields of an org's entry taken over as they are (when set). */
const ORG_FIELDS = ['url', 'tlsCertFile', 'caName', 'mspId'] as const;

/** Reads `fabricCa.orgs[org]` from network.json (schema owned by @dvp/network). */
function orgDefaults(flags: Flags, env: NodeJS.ProcessEnv): OrgDefaults {
  const org = str(flags, 'org');
  if (org === undefined) return {};
  const stateDir = env['DVP_NETWORK_STATE_DIR'] ?? resolve(__dirname, '..', '..', 'network', '.state');
  const file = str(flags, 'state') ?? join(stateDir, 'network.json');
  const { entry, stateDir: writtenStateDir } = readOrgEntry(file, org);
  const out: OrgDefaults = { wallet: entry.wallet ?? join(writtenStateDir ?? stateDir, 'wallets', org) };
  for (const field of ORG_FIELDS) {
    const value = entry[field];
    if (value) out[field] = value;
  }
  return out;
}

/** The org's entry in `file`, and the state folder the file names; throws if either is missing. */
function readOrgEntry(file: string, org: string): { entry: OrgEntry; stateDir: string | undefined } {
  if (!existsSync(file)) throw new CertsError('invalid_input', `--org ${org}: ${file} not found (is the network up?)`);
  const state = JSON.parse(readFileSync(file, 'utf8')) as {
    stateDir?: string;
    fabricCa?: { orgs?: Record<string, OrgEntry> };
  };
  const entry = state.fabricCa?.orgs?.[org];
  if (!entry) throw new CertsError('invalid_input', `--org ${org}: no fabricCa.orgs.${org} in ${file}`);
  return { entry, stateDir: state.stateDir };
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CertsError('invalid_input', `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

function context(flags: Flags, io: CliIo): Context {
  const d = orgDefaults(flags, io.env);
  const url = str(flags, 'url') ?? d.url;
  const tlsCert = str(flags, 'tls-cert') ?? d.tlsCertFile;
  const caName = str(flags, 'ca-name') ?? d.caName;
  const wallet = str(flags, 'wallet') ?? d.wallet;
  if (wallet === undefined) throw new UsageError('missing --wallet (or --org with a network.json)');
  return {
    flags,
    io,
    wallet: resolve(wallet),
    mspId: str(flags, 'msp-id') ?? d.mspId ?? '',
    ca: () => {
      if (url === undefined) throw new UsageError('missing --url (or --org with a network.json)');
      if (tlsCert === undefined) throw new UsageError('missing --tls-cert (or --org with a network.json)');
      return connectCa({ url, tlsTrustedCert: readPem(tlsCert, 'TLS certificate'), ...(caName ? { caName } : {}) });
    },
  };
}

function report(ctx: Context, text: string, data: object): void {
  ctx.io.out(ctx.flags.json ? JSON.stringify(data) : text);
}

async function cmdRegister(ctx: Context): Promise<void> {
  const f = ctx.flags;
  const registrar = loadIdentity(ctx.wallet, need(f, 'registrar'));
  const id = need(f, 'id');
  const type = need(f, 'type');
  if (!isIdentityType(type)) throw new UsageError(`--type must be client, peer, admin or orderer, not '${type}'`);
  const role = str(f, 'role');
  if (role !== undefined && !isRole(role)) throw new UsageError(`unknown --role '${role}'`);
  const evm = str(f, 'evm-address');
  if (evm !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(evm))
    throw new UsageError('--evm-address must be 0x + 40 hex digits');
  const secretFile = need(f, 'secret-file');
  const given = existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : '';
  const opt = <K extends string, V>(k: K, v: V | undefined) => (v === undefined ? {} : ({ [k]: v } as Record<K, V>));
  const { secret } = await ctx.ca().register(registrar, {
    enrollmentId: id,
    type,
    ...opt('role', role),
    ...opt('party', str(f, 'party')),
    ...opt('evmAddress', evm),
    ...opt('affiliation', str(f, 'affiliation')),
    ...opt('secret', given || undefined),
  });
  if (!given) writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  report(ctx, `registered ${id} (type ${type}${role ? `, role ${role}` : ''}); enrollment secret in ${secretFile}`, {
    registered: id,
    secretFile,
  });
}

async function cmdEnroll(ctx: Context): Promise<void> {
  const id = need(ctx.flags, 'id');
  const name = str(ctx.flags, 'name') ?? id;
  const secretFile = need(ctx.flags, 'secret-file');
  const secret = readPem(secretFile, 'secret file').trim();
  if (!secret) throw new CertsError('invalid_input', `secret file ${secretFile} is empty`);
  const hosts = str(ctx.flags, 'hosts')
    ?.split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const profile = str(ctx.flags, 'profile');
  const enrollment = await ctx.ca().enroll({
    enrollmentId: id,
    secret,
    ...(hosts?.length ? { hosts } : {}),
    ...(profile ? { profile } : {}),
  });
  const record = saveIdentity(ctx.wallet, name, ctx.mspId, enrollment);
  report(
    ctx,
    `enrolled ${id} into ${join(ctx.wallet, name)} (serial ${record.serial}, role ${record.role ?? '-'})`,
    record,
  );
}

async function cmdReenroll(ctx: Context): Promise<void> {
  const name = need(ctx.flags, 'name');
  const current = loadIdentity(ctx.wallet, name);
  const enrollment = await ctx.ca().reenroll(current, current.record.enrollmentId);
  const record = saveIdentity(ctx.wallet, name, current.record.mspId, enrollment);
  report(ctx, `reenrolled ${record.enrollmentId}: new key, serial ${record.serial}`, record);
}

async function cmdRevoke(ctx: Context): Promise<void> {
  const f = ctx.flags;
  const registrar = loadIdentity(ctx.wallet, need(f, 'registrar'));
  const reason = (str(f, 'reason') ?? 'unspecified') as RevocationReason;
  if (!REASONS.includes(reason)) throw new UsageError(`unknown --reason '${reason}'`);
  let target: RevokeTarget;
  const id = str(f, 'id');
  const name = str(f, 'name');
  if (id !== undefined) target = { enrollmentId: id };
  else if (name !== undefined) target = certificateSerialAndAki(loadIdentity(ctx.wallet, name).certificate);
  else target = { serial: need(f, 'serial'), aki: need(f, 'aki') };
  const crlOut = str(f, 'crl-out');
  const res = await ctx.ca().revoke(registrar, target, reason, crlOut !== undefined);
  if (crlOut !== undefined && res.crl !== undefined) writeFileSync(crlOut, res.crl);
  const serials = res.revoked.map((c) => c.serial);
  report(
    ctx,
    `revoked ${serials.length} certificate(s) (${reason}): ${serials.join(', ') || 'none'}${crlOut ? `; CRL in ${crlOut}` : ''}`,
    { revoked: res.revoked, reason, ...(crlOut ? { crlFile: crlOut } : {}) },
  );
}

async function cmdGencrl(ctx: Context): Promise<void> {
  const registrar = loadIdentity(ctx.wallet, need(ctx.flags, 'registrar'));
  const out = need(ctx.flags, 'out');
  writeFileSync(out, await ctx.ca().gencrl(registrar));
  report(ctx, `CRL written to ${out}`, { crlFile: out });
}

async function cmdList(ctx: Context): Promise<void> {
  if (ctx.flags.local) {
    const records = listWallet(ctx.wallet).map((n) => loadIdentity(ctx.wallet, n).record);
    const lines = records.map(
      (r) => `${r.name}\t${r.enrollmentId}\t${r.role ?? '-'}\t${r.party ?? '-'}\t${r.fingerprint}`,
    );
    report(ctx, lines.join('\n') || '(wallet empty)', { identities: records });
    return;
  }
  const registrar = loadIdentity(ctx.wallet, need(ctx.flags, 'registrar'));
  const ids = await ctx.ca().listIdentities(registrar);
  const attr = (i: (typeof ids)[number], n: string) => i.attrs.find((a) => a.name === n)?.value ?? '-';
  const lines = ids.map((i) => `${i.id}\t${i.type}\t${i.affiliation || '.'}\t${attr(i, 'role')}\t${attr(i, 'party')}`);
  report(ctx, lines.join('\n'), { identities: ids });
}

const COMMANDS: Readonly<Record<string, (ctx: Context) => Promise<void>>> = {
  register: cmdRegister,
  enroll: cmdEnroll,
  reenroll: cmdReenroll,
  revoke: cmdRevoke,
  gencrl: cmdGencrl,
  list: cmdList,
};

/** Runs the CLI; resolves with the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    const flags = values as Flags;
    const command = positionals[0];
    if (flags.help || command === undefined || command === 'help') {
      io.out(USAGE);
      return command === undefined && !flags.help ? 2 : 0;
    }
    await commandOf(positionals)(context(flags, io));
    return 0;
  } catch (err) {
    return reportFailure(err, io);
  }
}

/** The command named by the one positional argument. */
function commandOf(positionals: readonly string[]): (ctx: Context) => Promise<void> {
  const run = COMMANDS[positionals[0] ?? ''];
  if (!run || positionals.length > 1) throw new UsageError(`unknown command '${positionals.join(' ')}'`);
  return run;
}

/** Tells the failure in one line and returns the exit code: 2 for usage, 1 for anything else. */
function reportFailure(err: unknown, io: CliIo): number {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    io.err(`dvp-certs: ${(err as Error).message}\nRun 'dvp-certs --help' for usage.`);
    return 2;
  }
  if (err instanceof CertsError) {
    io.err(`dvp-certs: ${err.message}`);
    return 1;
  }
  // Not a user error: still one line, the stack only on request.
  io.err(`dvp-certs: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
  if (io.env['DVP_DEBUG'] && err instanceof Error && err.stack) io.err(err.stack);
  return 1;
}

if (require.main === module) {
  void runCli(process.argv.slice(2), {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
    env: process.env,
  }).then((code) => {
    process.exitCode = code;
  });
}
