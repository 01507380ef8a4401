/**
 * `make demo`: the seller's bank and the buyer's bank each run their gateway as a separate
 * process on the local network; their traders instruct two trades over the REST API, the
 * gateways match them and settle by HTLC over signed gateway-to-gateway messages, and every
 * balance printed is read from the ledgers.
 *
 *   1. settles: the seller's gateway (leader) locks the securities with T_L, the buyer's locks the
 *      cash with T_F, the seller's claims the cash (revealing the preimage), the buyer's claims the
 *      securities with it.
 *   2. times out: the seller's gateway freezes (SIGSTOP) right after locking, so the leader never
 *      claims; after T_F the buyer's gateway refunds the cash; the seller's, let go again, refunds
 *      the securities after T_L. Both trades end `failed`, reason `timeout`.
 *   3. the orchestrated escrow (demo-escrow.ts): the escrow manager, the notary and the observer
 *      start as three more processes; two trades name all three. The notary's operator approves
 *      the first through its API (the manager commits: both legs released) and refuses the second
 *      (the manager aborts: both deposits returned); then the manager's view and the observer's
 *      log, checked against both ledgers.
 *
 * Securities are in the securities chaincode on the real Fabric peers when network-up started
 * Fabric; where no Fabric binaries were found they are an ERC-20 token on the local anvil standing
 * in for Fabric, and the demo says so at its start, at its end and on every line that shows them.
 * Cash is on anvil. The network and both gateways stay up afterwards (`make network-down` stops
 * everything).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedDirectory } from '@dvp/certs';
import type { Address } from 'viem';
import { isAlive, stopPid } from '../../network/src/process';
import { ProcessRegistry } from '../../network/src/registry';
import { ledgerProblems } from './checker';
import { sharedNetwork } from './network';
import { securitiesLeg, type SecuritiesLeg } from './securities-leg';
import { freezeLeaderBeforeItCanClaim } from './crash-points';
import { addressOf, balanceOf, BANKS, GatewayProcess, issue, sleep, walletPem, type Bank, type Res } from './two-banks';
import { answerApproval, showManager, showObserver, startAgents } from './demo-escrow';

const net = sharedNetwork();
const ISIN = 'US0378331005';
const SETTLEMENT = {
  leader: 'seller' as const,
  leaderSeconds: 30,
  followerSeconds: 15,
  deltaSeconds: 8,
  pollIntervalMs: 250,
};
const CASH = net.evm.contracts['CashToken'] as Address;
const trader = { seller: walletPem(net, 'seller', 'trader'), buyer: walletPem(net, 'buyer', 'trader') };
const say = (line = ''): void => void process.stdout.write(`${line}\n`);

interface Step {
  readonly at: string;
  readonly actor: string;
  readonly event: string;
  readonly status: string;
  readonly leg?: string;
  readonly ledger?: string;
  readonly txId?: string;
  readonly block?: string;
}
interface Wire {
  readonly status: string;
  readonly reason?: string;
  readonly timeline: readonly Step[];
}

/** The port of a party's gateway URL in the signed directory (the other gateways find it there). */
function directoryPort(party: string): number {
  const signed = JSON.parse(readFileSync(net.directory.file, 'utf8')) as SignedDirectory;
  const url = signed.directory.parties[party]?.gatewayUrl;
  if (url === undefined) throw new Error(`the directory has no gateway URL for ${party}`);
  return Number(new URL(url).port);
}

/** Stops the bank's gateway a previous `make demo` left running (recorded in the PID registry). */
async function stopEarlierGateway(registry: ProcessRegistry, bank: Bank): Promise<void> {
  for (const rec of registry.records.filter((r) => r.name === `gateway-${bank}`)) {
    if (!isAlive(rec.pid)) continue;
    say(`  stopping the ${bank}'s gateway of an earlier demo (pid ${rec.pid}); its database is kept`);
    await stopPid(rec.pid);
  }
}

const registry = new ProcessRegistry(join(net.stateDir, 'processes.json'));

async function gateways(): Promise<Record<Bank, GatewayProcess>> {
  const ports = { seller: directoryPort('seller'), buyer: directoryPort('buyer') };
  const make = (bank: Bank): GatewayProcess =>
    new GatewayProcess({
      net,
      party: bank,
      dir: join(net.stateDir, 'gateways', bank),
      port: ports[bank],
      peerUrl: `https://127.0.0.1:${ports[bank === 'seller' ? 'buyer' : 'seller']}`,
      ...(leg.gatewayTokens && { securities: leg.gatewayTokens }),
      settlement: SETTLEMENT,
      logFile: join(net.logDir, `gateway-${bank}.log`),
    });
  const gw = { seller: make('seller'), buyer: make('buyer') };
  for (const bank of BANKS) {
    await stopEarlierGateway(registry, bank);
    const up = await gw[bank].call(undefined, 'GET', '/healthz').catch(() => undefined);
    if (up?.status === 200) throw new Error(`something else already serves ${gw[bank].url}: stop it first`);
    await gw[bank].start();
    registry.add({
      name: `gateway-${bank}`,
      pid: gw[bank].pid as number,
      log: join(net.logDir, `gateway-${bank}.log`),
      ports: [ports[bank]],
    });
    say(`  ${bank}'s gateway: ${gw[bank].url} (pid ${gw[bank].pid}, log ${net.logDir}/gateway-${bank}.log)`);
  }
  return gw;
}

let leg: SecuritiesLeg;

/** Where each leg is, for every line that names one. */
const ledgerName = (ledger: string | undefined): string =>
  ledger === 'fabric' ? (leg.ledger === 'fabric' ? 'Fabric' : 'EVM stand-in for Fabric') : 'EVM';

/** The ledger a timeline step ran on, as the timeline records it (the stand-in named so). */
const stepLedger = (legName: string, ledger: string | undefined): string =>
  ledger === 'fabric' ? 'Fabric' : legName === 'securities' ? 'EVM stand-in for Fabric' : 'EVM';

async function balances(title: string): Promise<void> {
  say(`\n${title} (read from the ledgers)`);
  for (const bank of BANKS) {
    const s = await leg.balance(bank);
    const c = await balanceOf(net, CASH, addressOf(net, bank));
    say(
      `  ${bank.padEnd(6)}  ${ISIN}: ${String(s).padStart(6)} [securities: ${ledgerName('fabric')}]   EUR cents: ${String(c).padStart(9)} [cash: EVM]`,
    );
  }
  const supply = await leg.supply();
  say(
    `  ${ISIN} on ${ledgerName('fabric')}: free ${supply.free} + locked ${supply.locked} + escrowed ${supply.escrowed} = supply ${supply.supply}`,
  );
}

/** What the independent checker (test/src/checker) reads from the two ledgers, with none of the gateway's code. */
async function independentCheck(): Promise<void> {
  const problems = await ledgerProblems(net, { isins: [ISIN], cashToken: CASH });
  if (problems.length === 0) {
    say(
      `  independent check: ${ISIN} and the cash token conserved; every trade of ${ISIN} at its end, both legs or neither`,
    );
  } else {
    say(`  independent check FOUND:\n    ${problems.join('\n    ')}`);
  }
}

function timeline(bank: Bank, t: Wire): void {
  say(`  ${bank}'s gateway: ${t.status}${t.reason ? ` (reason: ${t.reason})` : ''}`);
  for (const s of t.timeline) {
    const on = s.leg ? ` ${s.leg} on ${stepLedger(s.leg, s.ledger)}` : '';
    const where = s.txId ? `${on}: tx ${s.txId.slice(0, 18)}… block ${s.block ?? '?'}` : on;
    const actor = /CN=([^,+]+)/.exec(s.actor)?.[1] ?? s.actor;
    say(`    ${s.at.slice(11, 23)}  ${s.event.padEnd(32)} ${actor.padEnd(8)}${where}`);
  }
}

/** The orchestrated escrow's parties a trade names. */
const ESCROW = { manager: 'manager', notary: 'notary', observer: 'observer' };

async function instruct(
  gw: Record<Bank, GatewayProcess>,
  tradeId: string,
  deadline: number,
  mode: 'htlc' | 'escrow_orchestrated' = 'htlc',
): Promise<void> {
  for (const bank of BANKS) {
    const body = {
      tradeId,
      side: bank === 'seller' ? 'sell' : 'buy',
      counterparty: bank === 'seller' ? 'buyer' : 'seller',
      isin: ISIN,
      quantity: '10',
      price: '1500',
      currency: 'EUR',
      mode,
      ...(mode === 'escrow_orchestrated' && { escrow: ESCROW }),
      settlementDeadline: deadline,
      partial: 'NPAR',
    };
    const res: Res = await gw[bank].call(trader[bank], 'POST', '/v1/trades', body, {
      'idempotency-key': `${tradeId}-${bank}`,
    });
    if (res.status !== 201) throw new Error(`POST /v1/trades at ${bank}: ${res.status} ${JSON.stringify(res.json)}`);
    say(
      `  ${bank}'s trader instructs ${body.side} 10 × ${ISIN} at 15.00 EUR → ${res.status} ${(res.json as unknown as Wire).status}`,
    );
  }
}

async function waitFor(
  gw: GatewayProcess,
  bank: Bank,
  tradeId: string,
  what: string,
  done: (t: Wire) => boolean,
): Promise<Wire> {
  const started = Date.now();
  let said = started;
  for (;;) {
    const res = await gw.call(trader[bank], 'GET', `/v1/trades/${tradeId}`);
    const t = res.json as unknown as Wire;
    if (res.status === 200 && done(t)) return t;
    if (Date.now() - started > 120_000)
      throw new Error(`${bank}: no ${what} for ${tradeId} within 120 s (status ${t.status})`);
    if (Date.now() - said >= 5_000) {
      said = Date.now();
      say(
        `    … waiting for ${what} at the ${bank}'s gateway (${Math.round((said - started) / 1000)} s, status ${t.status})`,
      );
    }
    await sleep(250);
  }
}

const final = (t: Wire): boolean => ['settled', 'failed', 'cancelled'].includes(t.status);

/** One line on where securities are; said at the start and at the end. */
function whereSecuritiesAre(): void {
  if (leg.ledger === 'fabric') say(`  securities: ${leg.label}; cash: CashToken on anvil (${net.evm.rpcUrl})`);
  else {
    say(`  securities: ${leg.label}: no Fabric binaries were found, so securities ran on the EVM STAND-IN`);
    say(`  (${net.fabric.status === 'unavailable' ? net.fabric.reason : ''})`);
  }
}

/** The orchestrated escrow: one trade the notary's operator approves, one it refuses. */
async function escrowTrades(gw: Record<Bank, GatewayProcess>, run: string, deadline: number): Promise<void> {
  say('\nThe orchestrated escrow: the escrow manager, the notary and the observer join as three more processes');
  const agents = await startAgents({
    net,
    registry,
    port: directoryPort,
    ...(leg.gatewayTokens && { securities: leg.gatewayTokens }),
  });
  const cases = [
    { id: `DEMO-ESCROW-OK-${run}`, title: 'the notary approves, the manager commits', approve: true },
    { id: `DEMO-ESCROW-REFUSED-${run}`, title: 'the notary refuses, the manager aborts', approve: false },
  ] as const;
  for (const c of cases) {
    say(`\n${c.id}: ${c.title}`);
    await instruct(gw, c.id, deadline, 'escrow_orchestrated');
    await answerApproval(
      net,
      agents.notary,
      c.id,
      c.approve ? { approve: true } : { approve: false, reason: 'counterparty under review (demo)' },
    );
    const ends = await Promise.all(BANKS.map((bank) => waitFor(gw[bank], bank, c.id, 'the end of settlement', final)));
    BANKS.forEach((bank, i) => timeline(bank, ends[i]!));
    await showManager(net, agents.manager, c.id);
    await showObserver(net, agents.observer, c.id);
  }
}

async function main(): Promise<void> {
  say('DvP demo: two banks’ gateways settle by HTLC (seller leads; T_L 30 s, T_F 15 s, Δ 8 s)');
  leg = await securitiesLeg(net, ISIN);
  whereSecuritiesAre();
  await leg.issue('seller', 100n);
  await issue(net, CASH, addressOf(net, 'buyer'), 100_000n);
  say(`  issued 100 × ${ISIN} to the seller (${ledgerName('fabric')}) and 1,000.00 EUR to the buyer (token ${CASH})`);
  const gw = await gateways();
  await balances('Balances before');
  const run = Date.now().toString(36);
  const deadline = Math.floor(Date.now() / 1000) + 600;

  const ok = `DEMO-OK-${run}`;
  say(`\n${ok}: a trade that settles`);
  await instruct(gw, ok, deadline);
  const started = Date.now();
  const settled = await Promise.all(BANKS.map((bank) => waitFor(gw[bank], bank, ok, 'the end of settlement', final)));
  const matched = settled[0]?.timeline.find((x) => x.event === 'matched')?.at;
  const ends = settled.map((t) => t.timeline.at(-1)?.at ?? '');
  BANKS.forEach((bank, i) => timeline(bank, settled[i]!));
  if (matched) {
    const latency = (Math.max(...ends.map((e) => Date.parse(e))) - Date.parse(matched)) / 1000;
    say(
      `  matched → settled on both sides: ${latency.toFixed(2)} s (waited ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  }

  const late = `DEMO-TIMEOUT-${run}`;
  say(`\n${late}: the seller's gateway freezes after locking, so the leader never claims`);
  const frozen = freezeLeaderBeforeItCanClaim(net, gw.seller, addressOf(net, 'buyer'));
  await instruct(gw, late, deadline);
  try {
    await frozen;
    say('  the seller’s gateway froze (SIGSTOP) once its lock was committed and before the buyer’s was mined:');
    say('  it holds the secret and will not claim (the demo mines block by block to choose that moment)');
    timeline('buyer', await waitFor(gw.buyer, 'buyer', late, 'the buyer’s refund after T_F', final));
  } finally {
    gw.seller.resume();
  }
  say('  the seller’s gateway is let go (SIGCONT): the buyer’s lock has expired, it can only refund after T_L');
  timeline('seller', await waitFor(gw.seller, 'seller', late, 'the seller’s refund after T_L', final));

  await escrowTrades(gw, run, deadline);

  await balances('Balances after');
  await independentCheck();
  say('');
  whereSecuritiesAre();
  leg.close();
  const ca = (bank: Bank): string => (net.fabricCa.orgs[bank] as { caCertFile: string }).caCertFile;
  const wallet = (bank: Bank): string => (net.fabricCa.orgs[bank] as { wallet: string }).wallet;
  const curl = (bank: Bank, who: string, path: string): string =>
    `curl --cacert ${ca(bank)} --cert ${wallet(bank)}/${who}/cert.pem --key ${wallet(bank)}/${who}/key.pem ${gw[bank].url}${path}`;
  say('\nInspect more (the five gateways and the network stay up; "make network-down" stops everything):');
  say(`  ${curl('seller', 'trader', `/v1/trades/${ok}`)}`);
  say(`  ${curl('buyer', 'trader', '/v1/balances')}`);
  say(`  ${curl('seller', 'auditor', `/v1/audit?tradeId=${late}`)}`);
  say(`  curl --cacert ${ca('seller')} ${gw.seller.url}/openapi.json`);
  const agentsCa = (net.fabricCa.orgs[net.agents.org] as { caCertFile: string }).caCertFile;
  const agent = (party: string, who: string, port: number, path: string): string => {
    const w = net.agents.parties[party]?.wallet ?? '';
    return `curl --cacert ${agentsCa} --cert ${w}/${who}/cert.pem --key ${w}/${who}/key.pem https://127.0.0.1:${port}${path}`;
  };
  say(`  ${agent('manager', 'admin', directoryPort('manager'), '/v1/escrow/trades')}`);
  say(`  ${agent('notary', 'admin', directoryPort('notary'), '/v1/approvals')}`);
  say(`  ${agent('observer', 'auditor', directoryPort('observer'), '/v1/observations?verifyLedgers=true')}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
