/**
 * Gateway messaging between two gateways' stacks in one process (real SQLite stores, real P-256
 * signatures; the transport calls the other inbox directly): matching on the sese.023 fields,
 * cancel on both sides, the unmatched deadline, and every reason a message is refused.
 */
import { actorOf } from '../../testing/engine-fakes';
import { MATCH_EVENTS } from '../trades/service';
import { envelopeHash, peerSigner, signatureValid, signEnvelope, type PeerEnvelope } from './envelope';
import { DEADLINE, PeerPair } from './__tests__/pair';

let pair: PeerPair;
beforeEach(async () => {
  pair = await PeerPair.create();
});
afterEach(async () => {
  await pair.close();
});

describe('envelope', () => {
  it('signs the canonical message; any change breaks the signature and the hash', async () => {
    const { identity } = pair.side('BUYER');
    const e = signEnvelope(
      {
        v: 1,
        id: 'id-1',
        from: 'BUYER',
        to: 'SELLER',
        tradeId: 'T-1',
        type: 'proposal',
        seq: 1,
        prev: '0'.repeat(64),
        sentAt: new Date().toISOString(),
        body: { isin: 'US0378331005' },
      },
      peerSigner(identity.cert, identity.key),
    );
    expect(signatureValid(e)).toBe(true);
    const tampered: PeerEnvelope = { ...e, body: { isin: 'US5949181045' } };
    expect(signatureValid(tampered)).toBe(false);
    expect(envelopeHash(tampered)).not.toBe(envelopeHash(e));
    expect(signatureValid({ ...e, seq: 2 })).toBe(false);
  });
});

describe('matching', () => {
  it('matches when both instructions agree, whichever arrives first, and affirms once', async () => {
    await pair.instruct('BUYER', 'M-1');
    await pair.settle();
    expect(await pair.status('BUYER', 'M-1')).toBe('received');
    await pair.instruct('SELLER', 'M-1');
    await pair.settle();
    expect(await pair.status('BUYER', 'M-1')).toBe('matched');
    expect(await pair.status('SELLER', 'M-1')).toBe('matched');
    for (const side of ['BUYER', 'SELLER'] as const) {
      const evs = await pair.events(side, 'M-1');
      expect(evs.filter((e) => e === MATCH_EVENTS.affirmed)).toHaveLength(1);
      expect(
        pair
          .side(side)
          .peers.outbox('M-1')
          .map((m) => [m.envelope.type, m.state]),
      ).toEqual([
        ['proposal', 'delivered'],
        ['affirmation', 'delivered'],
      ]);
    }
    const matched = (await pair.side('SELLER').engine.get('M-1')).timeline.find((s) => s.event === 'matched');
    expect(matched?.actor).toBe(pair.side('BUYER').gatewayActor.subject);
  });

  it('passes the crash points of each message in order: queued, received, handled, recorded, delivered', async () => {
    await pair.instruct('BUYER', 'M-P');
    await pair.settle();
    const proposal = (from: 'BUYER' | 'SELLER', to: 'BUYER' | 'SELLER') => [
      `${from} send.proposal:queued`,
      `${to} receive.proposal:received`,
      `${to} receive.proposal:handled`,
      `${to} receive.proposal:recorded`,
      `${from} send.proposal:delivered`,
    ];
    expect(pair.passed).toEqual(proposal('BUYER', 'SELLER'));
    await pair.instruct('SELLER', 'M-P');
    await pair.settle();
    const proposals = pair.passed.filter((p) => p.includes('.proposal:'));
    expect(proposals).toEqual([...proposal('BUYER', 'SELLER'), ...proposal('SELLER', 'BUYER')]);
    expect(pair.passed.filter((p) => p.endsWith('send.affirmation:queued')).sort()).toEqual([
      'BUYER send.affirmation:queued',
      'SELLER send.affirmation:queued',
    ]);
  });

  it('names every field that differs and stays received; the deadline then fails it as unmatched', async () => {
    await pair.instruct('BUYER', 'M-2', { quantity: 100n });
    await pair.instruct('SELLER', 'M-2', { quantity: 99n });
    await pair.settle();
    for (const side of ['BUYER', 'SELLER'] as const) {
      const trade = await pair.side(side).engine.get('M-2');
      expect(trade.status).toBe('received');
      const failed = trade.timeline.filter((s) => s.event === MATCH_EVENTS.failed);
      expect(failed).toHaveLength(1);
      expect(Object.keys(failed[0]?.detail ?? {}).sort()).toEqual(['amount', 'quantity']);
    }
    pair.nowSeconds = DEADLINE;
    for (const side of ['BUYER', 'SELLER'] as const) await pair.side(side).trades.start();
    await pair.settle();
    for (const side of ['BUYER', 'SELLER'] as const) {
      const trade = await pair.side(side).engine.get('M-2');
      expect([trade.status, trade.reason]).toEqual(['failed', 'unmatched']);
    }
  });

  it.each([
    ['isin', { isin: 'US5949181045' }],
    ['price', { price: 12_346n }],
    ['currency', { currency: 'USD' }],
    ['settlementDeadline', { settlementDeadline: DEADLINE + 1 }],
    ['partial', { partial: 'PART' as const }],
  ])('does not match on a different %s', async (field, overrides) => {
    await pair.instruct('BUYER', `F-${field}`);
    await pair.instruct('SELLER', `F-${field}`, overrides);
    await pair.settle();
    expect(await pair.status('BUYER', `F-${field}`)).toBe('received');
    const step = (await pair.side('BUYER').engine.get(`F-${field}`)).timeline.find(
      (s) => s.event === MATCH_EVENTS.failed,
    );
    expect(Object.keys(step?.detail ?? {})).toContain(field);
  });

  it('does not match two buy instructions (the parties must be buyer and seller)', async () => {
    await pair.instruct('BUYER', 'M-3');
    await pair.instruct('SELLER', 'M-3', { side: 'buy' });
    await pair.settle();
    expect(await pair.status('BUYER', 'M-3')).toBe('received');
    expect(await pair.status('SELLER', 'M-3')).toBe('received');
  });
});

describe('cancel', () => {
  it('before matching: one side cancels alone and its proposal is withdrawn on the other side', async () => {
    await pair.instruct('BUYER', 'C-1');
    await pair.settle();
    await pair.side('BUYER').trades.cancel(actorOf('BUYER', 'trader'), 'C-1');
    await pair.settle();
    expect(pair.side('SELLER').store.terms.get('C-1', 'BUYER')?.state).toBe('withdrawn');
    await pair.instruct('SELLER', 'C-1');
    await pair.settle();
    expect(await pair.status('BUYER', 'C-1')).toBe('cancelled');
    expect(await pair.status('SELLER', 'C-1')).toBe('received');
  });

  it('after matching: both sides must cancel; the first request is carried to the other side', async () => {
    await pair.instruct('BUYER', 'C-2');
    await pair.instruct('SELLER', 'C-2');
    await pair.settle();
    await pair.side('BUYER').trades.cancel(actorOf('BUYER', 'trader'), 'C-2');
    await pair.settle();
    expect(await pair.status('BUYER', 'C-2')).toBe('matched');
    expect(await pair.events('SELLER', 'C-2')).toContain('cancel_requested_counterparty');
    await pair.side('SELLER').trades.cancel(actorOf('SELLER', 'trader'), 'C-2');
    await pair.settle();
    expect(await pair.status('SELLER', 'C-2')).toBe('cancelled');
    expect(await pair.status('BUYER', 'C-2')).toBe('cancelled');
  });
});

describe('inbox refuses', () => {
  /** The buyer's next proposal for a fresh trade, signed by `signer` (default the buyer's gateway). */
  async function proposal(overrides: Partial<PeerEnvelope> = {}): Promise<PeerEnvelope> {
    const { identity } = pair.side('BUYER');
    const e = signEnvelope(
      {
        v: 1,
        id: 'x',
        from: 'BUYER',
        to: 'SELLER',
        tradeId: 'R-1',
        type: 'proposal',
        seq: 1,
        prev: '0'.repeat(64),
        sentAt: new Date().toISOString(),
        body: {},
        ...overrides,
      },
      peerSigner(identity.cert, identity.key),
    );
    return e;
  }
  const receive = (e: PeerEnvelope, caller = pair.side('BUYER').gatewayActor) =>
    pair.side('SELLER').inbox.receive(caller, e);

  it('a replay of an accepted message, and a message out of its chain', async () => {
    const first = await proposal();
    await expect(receive(first)).resolves.toMatchObject({ seq: 1 });
    await expect(receive(first)).rejects.toMatchObject({ code: 'MESSAGE_REPLAYED' });
    const gap = await proposal({ seq: 3, prev: envelopeHash(first) });
    await expect(receive(gap)).rejects.toMatchObject({ code: 'MESSAGE_OUT_OF_ORDER' });
    const wrongPrev = await proposal({ seq: 2, prev: 'f'.repeat(64) });
    await expect(receive(wrongPrev)).rejects.toMatchObject({ code: 'MESSAGE_OUT_OF_ORDER' });
    const next = await proposal({ seq: 2, prev: envelopeHash(first), body: { isin: 'US0378331005' } });
    await expect(receive(next)).resolves.toMatchObject({ seq: 2 });
  });

  it('a tampered message, a sender other than the TLS client, a non-gateway signer, another addressee', async () => {
    const e = await proposal();
    await expect(receive({ ...e, body: { quantity: '1' } })).rejects.toMatchObject({
      code: 'MESSAGE_SIGNATURE_INVALID',
    });
    await expect(receive(e, actorOf('THIRD', 'gateway'))).rejects.toMatchObject({ code: 'MESSAGE_SENDER_MISMATCH' });
    const operator = await pair.ids.issue(actorOf('BUYER', 'operator'));
    const byOperator = signEnvelope({ ...e }, peerSigner(operator.cert, operator.key));
    await expect(receive(byOperator)).rejects.toMatchObject({ code: 'MESSAGE_SENDER_MISMATCH' });
    const sellerGw = pair.side('SELLER').identity;
    const bySeller = signEnvelope({ ...e }, peerSigner(sellerGw.cert, sellerGw.key));
    await expect(receive(bySeller)).rejects.toMatchObject({ code: 'MESSAGE_SENDER_MISMATCH' });
    await expect(receive(await proposal({ to: 'THIRD' }))).rejects.toMatchObject({ code: 'MESSAGE_MISADDRESSED' });
    expect(pair.side('SELLER').peers.lastReceived('BUYER', 'R-1').seq).toBe(0);
    await expect(receive(e)).resolves.toMatchObject({ seq: 1 });
  });
});

describe('outbox', () => {
  it('keeps undelivered messages across a restart and delivers them in order, once', async () => {
    pair.down.add('SELLER');
    await pair.instruct('BUYER', 'O-1');
    await pair.instruct('SELLER', 'O-1');
    const buyer = pair.side('BUYER');
    // The seller's proposal reached the buyer, who matched; nothing reached the seller.
    expect(await pair.status('BUYER', 'O-1')).toBe('matched');
    const queued = buyer.peers.outbox('O-1');
    expect(queued.map((m) => [m.seq, m.envelope.type, m.state])).toEqual([
      [1, 'proposal', 'pending'],
      [2, 'affirmation', 'pending'],
    ]);
    const again = buyer.outbox.queue('SELLER', 'O-1', 'proposal', queued[0]?.envelope.body ?? {});
    expect(again.hash).toBe(queued[0]?.hash);
    const notice = { tradeId: 'O-1', type: 'lock_notice' as const, body: { lockId: '0x1', hashlock: '0x2' } };
    await expect(buyer.outbox.send('SELLER', notice)).rejects.toThrow(/not delivered/);
    // A restart: the same database, a new stack; the pending messages are still there, unchanged.
    await pair.restart('BUYER');
    expect(
      pair
        .side('BUYER')
        .peers.outbox('O-1')
        .map((m) => m.hash),
    ).toEqual([...queued.map((m) => m.hash), expect.any(String)]);
    pair.down.delete('SELLER');
    await pair.settle();
    expect(
      pair
        .side('BUYER')
        .peers.outbox('O-1')
        .map((m) => [m.envelope.type, m.state]),
    ).toEqual([
      ['proposal', 'delivered'],
      ['affirmation', 'delivered'],
      ['lock_notice', 'delivered'],
    ]);
    expect(await pair.status('SELLER', 'O-1')).toBe('matched');
  });
});
