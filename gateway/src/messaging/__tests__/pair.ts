/**
 * Test-only: two gateways' messaging stacks (store, engine, outbox, inbox, trades) in one
 * process, joined by an in-process transport that calls the other side's inbox as the HTTP route
 * would (a DvpError → the status and code the route answers). Certificates are real P-256
 * certificates from an in-memory CA; `verifyPeer` maps a certificate to the actor it was issued
 * for. A side can be taken down (deliveries fail) and brought back. Never use in product code.
 */
import { X509Certificate } from 'node:crypto';
import { createTradeEngine, type TradeEngine } from '../../trades/engine';
import { ERROR_HTTP, type ApiErrorCode } from '../../api/errors';
import { DvpError } from '../../core/errors';
import { IdentityError } from '../../trust/errors';
import { openStore, type GatewayStore } from '../../store';
import { actorOf, instructionOf, tempDbFile } from '../../../testing/engine-fakes';
import { createLocalCa, type CertAndKey, type LocalCa } from '../../../testing/pki';
import type { Actor, Trade, TradeInstruction } from '../../core/trade';
import { createTrades, type Trades } from '../../trades/service';
import { peerSigner, type PeerEnvelope } from '../envelope';
import { createPeerInbox, type PeerInbox } from '../inbox';
import { createPeerOutbox, type DeliveryResult, type PeerOutbox } from '../outbox';
import { PeerStore } from '../store';

export type Side = 'BUYER' | 'SELLER';

/** Unix seconds an hour from loading: the settlement deadline of every instruction by default. */
export const DEADLINE = Math.floor(Date.now() / 1000) + 3600;
export const other = (s: Side): Side => (s === 'BUYER' ? 'SELLER' : 'BUYER');

/** One side's stack. */
export interface PeerSide {
  readonly store: GatewayStore;
  readonly peers: PeerStore;
  readonly engine: TradeEngine;
  readonly outbox: PeerOutbox;
  readonly inbox: PeerInbox;
  readonly trades: Trades;
  /** The gateway identity that signs this side's messages. */
  readonly identity: CertAndKey;
  readonly gatewayActor: Actor;
}

/** Identities issued for tests: certificate PEM → actor. */
export class Identities {
  readonly #byDer = new Map<string, Actor>();
  #ca: LocalCa | undefined;

  async issue(actor: Actor): Promise<CertAndKey> {
    this.#ca ??= await createLocalCa('peer-test-ca');
    const ck = await this.#ca.issue(`${actor.party}-${actor.role}`, {
      attrs: { party: actor.party, role: actor.role },
    });
    this.#byDer.set(Buffer.from(new X509Certificate(ck.cert).raw).toString('hex'), actor);
    return ck;
  }

  verifyPeer = async (der: Uint8Array): Promise<{ actor: Actor; mspId: string; enrollmentId: string }> => {
    const actor = this.#byDer.get(Buffer.from(der).toString('hex'));
    if (!actor) throw new IdentityError('CERT_UNTRUSTED', 'unknown test certificate');
    return { actor, mspId: `${actor.party}MSP`, enrollmentId: actor.role };
  };
}

/** Two sides joined in process. */
export class PeerPair {
  readonly sides = new Map<Side, PeerSide>();
  readonly down = new Set<Side>();
  readonly ids = new Identities();
  readonly #files = [tempDbFile(), tempDbFile()];
  /** Unix seconds seen by the trade services' deadline sweep. */
  nowSeconds = Math.floor(Date.now() / 1000);

  /** Settlement terms each side adds to its matching terms (e.g. who leads the HTLC). */
  extraTerms: Partial<Record<Side, Readonly<Record<string, string>>>> = {};
  /** Deliveries attempted, per receiving side (to see that backoff spares the network). */
  readonly attempts = new Map<Side, number>();
  /** Crash points passed (core/crash-points.ts), in order, as `<side> <point>`. */
  readonly passed: string[] = [];

  static async create(extraTerms: PeerPair['extraTerms'] = {}): Promise<PeerPair> {
    const pair = new PeerPair();
    pair.extraTerms = extraTerms;
    for (const [i, side] of (['BUYER', 'SELLER'] as const).entries()) {
      const gatewayActor = actorOf(side, 'gateway');
      const identity = await pair.ids.issue(gatewayActor);
      pair.sides.set(side, pair.#build(side, identity, gatewayActor, (pair.#files[i] as { file: string }).file));
    }
    return pair;
  }

  /** `side`'s trader instructs its side of `tradeId` (buy for BUYER, sell for SELLER). */
  async instruct(side: Side, tradeId: string, overrides: Partial<TradeInstruction> = {}): Promise<Trade> {
    const ins = instructionOf({
      tradeId,
      side: side === 'BUYER' ? 'buy' : 'sell',
      counterparty: other(side),
      settlementDeadline: DEADLINE,
      ...overrides,
    });
    const { trade } = await this.side(side).trades.submit(actorOf(side, 'trader'), `k-${tradeId}`, ins);
    return trade;
  }

  async status(side: Side, tradeId: string): Promise<string> {
    return (await this.side(side).engine.get(tradeId)).status;
  }

  async events(side: Side, tradeId: string): Promise<string[]> {
    return (await this.side(side).engine.get(tradeId)).timeline.map((s) => s.event);
  }

  side(s: Side): PeerSide {
    const found = this.sides.get(s);
    if (!found) throw new Error(`no side ${s}`);
    return found;
  }

  /** Delivers as the HTTP route would: the caller is the sending gateway's TLS identity. */
  async deliver(from: Side, to: Side, envelope: PeerEnvelope): Promise<DeliveryResult> {
    this.attempts.set(to, (this.attempts.get(to) ?? 0) + 1);
    if (this.down.has(to)) return { ok: false, status: 0, code: 'UNREACHABLE', message: `${to} is down` };
    try {
      await this.side(to).inbox.receive(this.side(from).gatewayActor, envelope);
      return { ok: true, replayed: false };
    } catch (err) {
      if (!(err instanceof DvpError)) throw err;
      if (err.code === 'MESSAGE_REPLAYED') return { ok: true, replayed: true };
      return { ok: false, status: ERROR_HTTP[err.code as ApiErrorCode].status, code: err.code, message: err.message };
    }
  }

  /** Waits until nothing is pending in either outbox. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i += 1) {
      for (const s of this.sides.values()) {
        // Forced: a test does not wait out the backoff of an earlier failed attempt.
        for (const c of s.peers.dueChains('9999')) await s.outbox.flush(c.to, c.tradeId, true);
      }
      for (const s of this.sides.values()) await s.trades.idle();
    }
  }

  /** Closes a side's stack and opens a new one on the same database (a process restart). */
  async restart(s: Side): Promise<PeerSide> {
    const old = this.side(s);
    await old.trades.close();
    await old.outbox.close();
    old.store.close();
    const file = (this.#files[s === 'BUYER' ? 0 : 1] as { file: string }).file;
    const fresh = this.#build(s, old.identity, old.gatewayActor, file);
    this.sides.set(s, fresh);
    return fresh;
  }

  async close(): Promise<void> {
    for (const s of this.sides.values()) {
      await s.trades.close();
      await s.outbox.close();
      s.store.close();
    }
    for (const f of this.#files) f.remove();
  }

  #build(side: Side, identity: CertAndKey, gatewayActor: Actor, file: string): PeerSide {
    const store = openStore(file, { party: side });
    const peers = new PeerStore(store);
    const engine = createTradeEngine({ store, systemActor: gatewayActor });
    const outbox = createPeerOutbox({
      store: peers,
      transaction: store.transaction,
      signer: peerSigner(identity.cert, identity.key),
      transport: { deliver: (to, e) => this.deliver(side, to as Side, e) },
      crashPoint: (point) => this.passed.push(`${side} ${point}`),
    });
    const extra = this.extraTerms[side];
    const trades = createTrades({
      engine,
      terms: store.terms,
      channel: outbox,
      now: () => this.nowSeconds,
      maxWaitingProposals: 3,
      ...(extra && { extraTerms: () => extra }),
    });
    const inbox = createPeerInbox({
      store: peers,
      verifyPeer: this.ids.verifyPeer,
      handle: (m) => trades.handle(m),
      crashPoint: (point) => this.passed.push(`${side} ${point}`),
    });
    return { store, peers, engine, outbox, inbox, trades, identity, gatewayActor };
  }
}
