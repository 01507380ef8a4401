/**
 * {@link LedgerDriver} for the securities chaincode on the network's real Fabric peers: every
 * transaction goes through fabric-gateway as a real CA-issued identity, is endorsed by both banks'
 * peers (the deployed policy is an AND of every bank), ordered and committed.
 *
 * - Actors: `alice` is a client of the first bank, `bob` and `carol` of the second, each
 *   registered afresh at its bank's CA and connected to its bank's peer; `manager` and `notary`
 *   are the `gateway` identities of the agents org's escrow manager and notary (`AgentsMSP`, no
 *   peer of its own), connected to the first and the second bank's peer. Every `reset()`
 *   creates a fresh instrument as the network's issuer and issues to `alice`, so scenarios can run
 *   side by side without sharing a key.
 * - Time: the chaincode's clock is the proposal timestamp, the client's wall clock, so `setTime`
 *   waits for the wall clock ({@link FABRIC_PEER_SCHEDULE} keeps the waits short).
 * - Reads (balances, the auditor's `SupplyBreakdown`) go to the peer that committed the scenario's
 *   last transaction: it holds every earlier block too, the other peer may still be behind.
 */
import { EndorseError, GatewayError, type Contract } from '@hyperledger/fabric-gateway';
import type { Role } from '@dvp/certs';
import type { FabricConnection } from '../../../network/src/fabric-client';
import type { FabricUpState, NetworkState } from '../../../network/src/state';
import {
  agentIdentity,
  bankIdentity,
  connectOwnPeer,
  issueFreshInstrument,
  submit,
  registerClient,
  type TestFabricIdentity,
} from '../fabric-clients';
import { chaincodeScenarioError } from './chaincode-codes';
import {
  totalsOf,
  type Actor,
  type DepositParams,
  type LedgerDriver,
  type LockParams,
  type RealTimeSchedule,
  type Totals,
} from './driver';

/**
 * How the table runs here: 5 s lifetimes (the steps before a warp take about a second), twelve
 * scenarios at a time (most of a scenario with a warp is waiting).
 */
export const FABRIC_PEER_SCHEDULE: RealTimeSchedule = { defaultExpiresIn: 5n, concurrency: 12, timeoutMs: 120_000 };

/** The identities and connections every scenario's driver shares. */
export interface FabricScenarioPeers {
  /** A driver of its own for one scenario; cheap (it shares the connections). */
  driver(): LedgerDriver;
  /** Closes every connection. */
  close(): void;
}

interface Party {
  readonly id: TestFabricIdentity;
  readonly contract: Contract;
}

interface Shared {
  readonly issuer: Party;
  readonly actors: Readonly<Record<Actor, Party>>;
  /** Auditor (role `auditor`, may call SupplyBreakdown) of each bank, on that bank's peer. */
  readonly auditors: Readonly<Record<string, Contract>>;
}

const utf8 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** The chaincode's answer as a ScenarioError when endorsement was refused; anything else unchanged. */
function rejection(err: unknown): unknown {
  if (!(err instanceof EndorseError)) return err;
  const messages: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    messages.push(e.message);
    if (e instanceof GatewayError) messages.push(...e.details.map((d) => d.message));
  }
  return chaincodeScenarioError(messages, err) ?? err;
}

/** Waits until the wall clock is in second `time`; throws when that second is (nearly) over. */
async function untilSecond(time: bigint): Promise<void> {
  const target = Number(time) * 1000;
  for (let now = Date.now(); now < target; now = Date.now()) await new Promise((r) => setTimeout(r, target - now));
  // Past the middle of the second, the next proposal may carry the next second's timestamp.
  if (Date.now() > target + 500) {
    throw new Error(
      `setTime(${time}): the wall clock is already at ${Date.now() / 1000}; the steps before this warp ` +
        'took longer than the lifetime of FABRIC_PEER_SCHEDULE allows',
    );
  }
}

class FabricPeerDriver implements LedgerDriver {
  readonly name = 'securities chaincode (real Fabric peers, every bank endorsing)';
  readonly #s: Shared;
  #isin: string | undefined;
  /** The bank whose peer committed this scenario's last transaction. */
  #readFrom: string;
  #locks = 0;

  constructor(shared: Shared) {
    this.#s = shared;
    this.#readFrom = shared.issuer.id.org;
  }

  get #asset(): string {
    if (this.#isin === undefined) throw new Error('reset() first');
    return this.#isin;
  }

  #account(who: Actor): string {
    return this.#s.actors[who].id.account;
  }

  /** Submits, and reads from the submitter's org next (its peer has the block first); returns the result. */
  async #submit(as: Party, fn: string, ...args: string[]): Promise<string> {
    let result: Uint8Array;
    try {
      result = await submit(as.contract, fn, ...args);
    } catch (err) {
      throw rejection(err);
    }
    this.#readFrom = as.id.org;
    return utf8(result);
  }

  async #read(fn: string, ...args: string[]): Promise<string> {
    const auditor = this.#s.auditors[this.#readFrom];
    if (auditor === undefined) throw new Error(`no auditor of ${this.#readFrom}`);
    return utf8(await auditor.evaluateTransaction(fn, ...args));
  }

  async reset(initial: bigint): Promise<void> {
    const { issuer } = this.#s;
    this.#isin = undefined;
    this.#isin = await issueFreshInstrument(issuer.contract, this.#account('alice'), initial);
    this.#readFrom = issuer.id.org;
  }

  async now(): Promise<bigint> {
    return BigInt(Math.floor(Date.now() / 1000));
  }

  async setTime(time: bigint): Promise<void> {
    await untilSecond(time);
  }

  async freeBalance(who: Actor): Promise<bigint> {
    return BigInt(await this.#read('BalanceOf', this.#asset, this.#account(who)));
  }

  async totals(): Promise<Totals> {
    return totalsOf(await this.#read('SupplyBreakdown', this.#asset));
  }

  async lock(sender: Actor, p: LockParams): Promise<string> {
    this.#locks += 1;
    const lockId = `${this.#asset}.L${this.#locks}`;
    const args = [lockId, this.#asset, p.amount.toString(), this.#account(p.receiver), p.hashlock, p.expiry.toString()];
    await this.#submit(this.#s.actors[sender], 'LockHTLC', ...args);
    return lockId;
  }

  async claim(caller: Actor, lockId: string, preimage: `0x${string}`): Promise<void> {
    await this.#submit(this.#s.actors[caller], 'ClaimHTLC', lockId, preimage);
  }

  async refund(caller: Actor, lockId: string): Promise<void> {
    await this.#submit(this.#s.actors[caller], 'RefundHTLC', lockId);
  }

  /** The ledger outlives every run: trade ids are unique per run (the runner's labels), so escrow ids are too. */
  async deposit(depositor: Actor, p: DepositParams): Promise<string> {
    const escrow = await this.#submit(
      this.#s.actors[depositor],
      'EscrowDeposit',
      p.tradeId,
      this.#asset,
      p.amount.toString(),
      this.#account(p.beneficiary),
      this.#account(p.controller),
      p.expiry.toString(),
      p.hashlock ?? '',
      p.notary === undefined ? '' : this.#account(p.notary),
    );
    return (JSON.parse(escrow) as { escrowId: string }).escrowId;
  }

  async approve(notary: Actor, escrowId: string, amount: bigint): Promise<void> {
    await this.#submit(this.#s.actors[notary], 'EscrowApprove', escrowId, amount.toString());
  }

  async release(caller: Actor, escrowId: string, amount: bigint, preimage?: `0x${string}`): Promise<void> {
    await this.#submit(this.#s.actors[caller], 'EscrowRelease', escrowId, amount.toString(), preimage ?? '');
  }

  async returnFunds(caller: Actor, escrowId: string): Promise<void> {
    await this.#submit(this.#s.actors[caller], 'EscrowReturn', escrowId);
  }
}

/** Throws unless the deployed access policy lets role `auditor` of `mspId` call SupplyBreakdown. */
function requireAuditor(fabric: FabricUpState, mspId: string): void {
  const policy = fabric.chaincode.accessPolicy as {
    roles?: Record<string, string[]>;
    roleMsps?: Record<string, string[]>;
  };
  const honoured = policy.roleMsps?.['auditor'] === undefined || policy.roleMsps['auditor'].includes(mspId);
  if (!(policy.roles?.['auditor'] ?? []).includes('SupplyBreakdown') || !honoured) {
    throw new Error(`the deployed access policy does not let ${mspId}'s auditor call SupplyBreakdown`);
  }
}

/**
 * Registers the banks' three actors at their banks' CAs, takes the manager and notary of the agents
 * org, and connects them, the issuer and each bank's auditor to the banks' peers.
 */
export async function openFabricScenarioPeers(net: NetworkState): Promise<FabricScenarioPeers> {
  const fabric = net.fabric;
  if (fabric.status !== 'up') throw new Error(`Fabric is not running: ${fabric.reason}`);
  const banks = Object.keys(fabric.peers);
  const [first, second = first] = banks;
  if (first === undefined || second === undefined) throw new Error('network.json lists no Fabric peer');
  const connections: FabricConnection[] = [];
  const party = (id: TestFabricIdentity): Party => {
    const conn = connectOwnPeer(fabric, id);
    connections.push(conn);
    return { id, contract: conn.contract(fabric.channel, fabric.chaincode.name) };
  };
  const actor = async (name: Actor, bank: string, role: Role): Promise<Party> =>
    party(await registerClient(net, bank, name, role));
  let shared: Shared;
  try {
    const auditors: Record<string, Contract> = {};
    for (const bank of banks) {
      const auditor = bankIdentity(net, bank, 'auditor');
      requireAuditor(fabric, auditor.mspId);
      auditors[bank] = party(auditor).contract;
    }
    shared = {
      issuer: party(bankIdentity(net, fabric.chaincode.issuer.org, fabric.chaincode.issuer.identity)),
      actors: {
        alice: await actor('alice', first, 'trader'),
        manager: party(agentIdentity(net, 'manager', 'gateway', first)),
        notary: party(agentIdentity(net, 'notary', 'gateway', second)),
        bob: await actor('bob', second, 'trader'),
        carol: await actor('carol', second, 'trader'),
      },
      auditors,
    };
  } catch (err) {
    connections.forEach((c) => c.close());
    throw err;
  }
  return {
    driver: () => new FabricPeerDriver(shared),
    close: () => connections.forEach((c) => c.close()),
  };
}
