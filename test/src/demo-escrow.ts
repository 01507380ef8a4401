/**
 * `make demo`, second part: the orchestrated escrow. The escrow manager, the notary and the observer
 * (the agents org's parties) run as three more gateway processes beside the two banks' (ports of
 * the directory); both banks instruct two orchestrated trades naming all three. Each bank deposits
 * its leg into escrow on its own ledger, the manager verifies both deposits on the ledgers and asks
 * the notary, whose operator answers through its API: **DEMO-ESCROW-OK** is approved (the manager
 * commits and releases both legs), **DEMO-ESCROW-REFUSED** is refused (the manager aborts and
 * returns both deposits). Then the manager's, the notary's and the observer's view of each trade,
 * the observer's log checked against both ledgers.
 */
import { join } from 'node:path';
import { isAlive, stopPid } from '../../network/src/process';
import type { ProcessRegistry } from '../../network/src/registry';
import type { NetworkState } from '../../network/src/state';
import { AGENT_PARTIES, GatewayProcess, partyPem, sleep, type AgentParty, type Res } from './two-banks';

const say = (line = ''): void => void process.stdout.write(`${line}\n`);

/** What the demo's first part already runs and knows. */
export interface EscrowDemoContext {
  readonly net: NetworkState;
  readonly registry: ProcessRegistry;
  readonly port: (party: string) => number;
  readonly securities?: Readonly<Record<string, string>>;
}

/** Starts the manager, the notary (its operator decides) and the observer at their directory ports. */
export async function startAgents(c: EscrowDemoContext): Promise<Record<AgentParty, GatewayProcess>> {
  const out: Partial<Record<AgentParty, GatewayProcess>> = {};
  for (const party of AGENT_PARTIES) {
    for (const rec of c.registry.records.filter((r) => r.name === `gateway-${party}`)) {
      if (isAlive(rec.pid)) await stopPid(rec.pid);
    }
    const log = join(c.net.logDir, `gateway-${party}.log`);
    const gw = new GatewayProcess({
      net: c.net,
      party,
      dir: join(c.net.stateDir, 'gateways', party),
      port: c.port(party),
      ...(c.securities && { securities: c.securities }),
      ...(party === 'notary' && { notary: { decide: 'operator', denyParties: [] } }),
      logFile: log,
    });
    await gw.start();
    c.registry.add({ name: `gateway-${party}`, pid: gw.pid as number, log, ports: [c.port(party)] });
    say(`  the ${party}'s gateway: ${gw.url} (pid ${gw.pid}, log ${log})`);
    out[party] = gw;
  }
  return out as Record<AgentParty, GatewayProcess>;
}

/** GET as the party's operator until `done` holds (60 s), saying every 5 s what it waits for. */
export async function pollAgent(
  net: NetworkState,
  gw: GatewayProcess,
  party: AgentParty,
  path: string,
  what: string,
  done: (r: Res) => boolean,
): Promise<Res> {
  const started = Date.now();
  let said = started;
  for (;;) {
    const res = await gw.call(partyPem(net, party, 'admin'), 'GET', path);
    if (done(res)) return res;
    if (Date.now() - started > 60_000) throw new Error(`${party}: no ${what} within 60 s: ${JSON.stringify(res.json)}`);
    if (Date.now() - said >= 5_000) {
      said = Date.now();
      say(`    … waiting for ${what} (${Math.round((said - started) / 1000)} s)`);
    }
    await sleep(250);
  }
}

interface Approval {
  readonly state: string;
  readonly reason?: string;
  readonly decidedBy?: string;
  readonly escrows?: Readonly<Record<string, string>>;
  readonly approvals?: Readonly<Record<string, string>>;
}

/** The notary's operator answers the trade's approval request through the notary's API. */
export async function answerApproval(
  net: NetworkState,
  notary: GatewayProcess,
  tradeId: string,
  answer: { approve: true } | { approve: false; reason: string },
): Promise<void> {
  const pending = await pollAgent(
    net,
    notary,
    'notary',
    `/v1/approvals/${tradeId}`,
    'the manager’s request at the notary',
    (r) => r.status === 200,
  );
  const request = pending.json as unknown as Approval;
  say(`  the notary has the manager's request (both deposits verified on the ledgers): ${request.state}`);
  const admin = partyPem(net, 'notary', 'admin');
  const res = answer.approve
    ? await notary.call(admin, 'POST', `/v1/approvals/${tradeId}/approve`)
    : await notary.call(admin, 'POST', `/v1/approvals/${tradeId}/refuse`, { reason: answer.reason });
  if (res.status !== 200) throw new Error(`notary answer for ${tradeId}: ${res.status} ${JSON.stringify(res.json)}`);
  const a = res.json as unknown as Approval;
  const how = answer.approve
    ? 'POST /v1/approvals/{id}/approve'
    : `POST /v1/approvals/{id}/refuse ("${answer.reason}")`;
  say(`  the notary's operator answers: ${how} → ${a.state}`);
  for (const [leg, proof] of Object.entries(a.approvals ?? {})) {
    say(
      `    ${leg} approval: ${proof.startsWith('onledger:') ? `EscrowApprove tx ${proof.slice(9, 27)}… on Fabric` : `EIP-712 signature ${proof.slice(0, 18)}…`}`,
    );
  }
}

interface ManagedWire {
  readonly state: string;
  readonly decision?: { readonly outcome: string; readonly reason: string; readonly decidedAt: string };
  readonly deposits: Readonly<
    Record<string, { readonly verified: boolean; readonly escrowId?: string; readonly txId?: string }>
  >;
  readonly ledgerActions: readonly {
    readonly leg: string;
    readonly kind: string;
    readonly state: string;
    readonly txId?: string;
  }[];
}

/** The manager's view of the trade, once it is settled or aborted. */
export async function showManager(net: NetworkState, manager: GatewayProcess, tradeId: string): Promise<void> {
  const res = await pollAgent(
    net,
    manager,
    'manager',
    `/v1/escrow/trades/${tradeId}`,
    'the manager’s end of the trade',
    (r) => ['settled', 'aborted'].includes(String(r.json['state'])),
  );
  const t = res.json as unknown as ManagedWire;
  say(
    `  the manager (GET /v1/escrow/trades/${tradeId}): ${t.state}, decision ${t.decision?.outcome} (${t.decision?.reason}) at ${t.decision?.decidedAt}`,
  );
  for (const [leg, d] of Object.entries(t.deposits)) {
    say(
      `    ${leg.padEnd(10)} deposit ${d.verified ? 'verified on its ledger' : 'not verified'}${d.txId ? `, tx ${d.txId.slice(0, 18)}…` : ''}`,
    );
  }
  for (const a of t.ledgerActions)
    say(`    ${a.leg.padEnd(10)} ${a.kind} ${a.state}${a.txId ? `, tx ${a.txId.slice(0, 18)}…` : ''}`);
}

interface ObservationPage {
  readonly entries: readonly {
    readonly seq: number;
    readonly from: string;
    readonly step: string;
    readonly leg?: string;
  }[];
  readonly verification: {
    readonly chain: { readonly ok: boolean; readonly checked: number };
    readonly signatures: { readonly ok: boolean; readonly checked: number };
    readonly ledgers?: { readonly ok: boolean; readonly checked: number; readonly mismatches: readonly unknown[] };
  };
}

/** The observer's log of the trade, checked against both ledgers. */
export async function showObserver(net: NetworkState, observer: GatewayProcess, tradeId: string): Promise<void> {
  const res = await observer.call(
    partyPem(net, 'observer', 'auditor'),
    'GET',
    `/v1/observations?tradeId=${tradeId}&verifyLedgers=true`,
  );
  if (res.status !== 200) throw new Error(`observer: ${res.status} ${JSON.stringify(res.json)}`);
  const page = res.json as unknown as ObservationPage;
  const steps = page.entries.map((e) => `${e.step}${e.leg ? `(${e.leg})` : ''} by ${e.from}`);
  say(`  the observer (GET /v1/observations?tradeId=…&verifyLedgers=true): ${page.entries.length} signed records`);
  say(`    ${steps.join(', ')}`);
  const v = page.verification;
  const ledgers = v.ledgers
    ? `${v.ledgers.ok ? 'ok' : 'MISMATCH'} (${v.ledgers.checked} records read back on the ledgers)`
    : 'not checked';
  say(
    `    hash chain ${v.chain.ok ? 'ok' : 'BROKEN'} (${v.chain.checked} entries), signatures ${v.signatures.ok ? 'ok' : 'BAD'}, ledgers ${ledgers}`,
  );
}
