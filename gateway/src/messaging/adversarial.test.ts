/**
 * Gateway messaging against a hostile third party and across crashes (findings of the security
 * reviews): proposals per sender, the signer field, the HTLC leader term, delivery backoff, and
 * messages queued again at start.
 */
import { actorOf } from '../../testing/engine-fakes';
import { MATCH_EVENTS } from '../trades/service';
import { peerSigner, signEnvelope, type PeerEnvelope } from './envelope';
import { PeerPair } from './__tests__/pair';

let pair: PeerPair;
beforeEach(async () => {
  pair = await PeerPair.create();
});
afterEach(async () => {
  await pair.close();
});

describe('gateway messaging under attack and across crashes', () => {
  /** A third party's gateway, signing messages about our trades. */
  async function third() {
    const actor = actorOf('THIRD', 'gateway');
    const id = await pair.ids.issue(actor);
    return {
      actor,
      send: (tradeId: string, type: PeerEnvelope['type'], body: Record<string, string>, seq: number, prev: string) =>
        pair.side('SELLER').inbox.receive(
          actor,
          signEnvelope(
            {
              v: 1,
              id: `t-${seq}`,
              from: 'THIRD',
              to: 'SELLER',
              tradeId,
              type,
              seq,
              prev,
              sentAt: new Date().toISOString(),
              body,
            },
            peerSigner(id.cert, id.key),
          ),
        ),
    };
  }

  it('a third party can neither replace nor withdraw the counterparty’s proposal, nor touch the trade', async () => {
    await pair.instruct('BUYER', 'X-1');
    await pair.settle();
    const t = await third();
    const p1 = await t.send('X-1', 'proposal', { isin: 'US5949181045' }, 1, '0'.repeat(64));
    const p2 = await t.send('X-1', 'cancel', {}, 2, p1.hash);
    await pair.instruct('SELLER', 'X-1');
    await pair.settle();
    expect(await pair.status('SELLER', 'X-1')).toBe('matched');
    await t.send('X-1', 'cancel', {}, 3, p2.hash); // accepted, no effect: not the counterparty
    await pair.settle();
    expect(await pair.status('SELLER', 'X-1')).toBe('matched');
    expect(await pair.events('SELLER', 'X-1')).not.toContain('cancel_requested_counterparty');
    expect(pair.side('SELLER').store.terms.get('X-1', 'BUYER')?.state).toBe('active');
  });

  it('refuses a signer field with a key appended to the certificate', async () => {
    const { identity } = pair.side('BUYER');
    const { publicKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    const forged = `${identity.cert.trim()}\n${publicKey.export({ type: 'spki', format: 'pem' }).toString()}`;
    const e = signEnvelope(
      {
        v: 1,
        id: 'f',
        from: 'BUYER',
        to: 'SELLER',
        tradeId: 'F-1',
        type: 'proposal',
        seq: 1,
        prev: '0'.repeat(64),
        sentAt: new Date().toISOString(),
        body: {},
      },
      peerSigner(identity.cert, identity.key),
    );
    await expect(
      pair.side('SELLER').inbox.receive(pair.side('BUYER').gatewayActor, { ...e, signer: forged }),
    ).rejects.toMatchObject({
      code: 'MESSAGE_SIGNATURE_INVALID',
    });
  });

  it('does not match when the gateways disagree on who leads the HTLC', async () => {
    await pair.close();
    pair = await PeerPair.create({ BUYER: { htlcLeader: 'seller' }, SELLER: { htlcLeader: 'buyer' } });
    await pair.instruct('BUYER', 'L-1');
    await pair.instruct('SELLER', 'L-1');
    await pair.settle();
    expect(await pair.status('BUYER', 'L-1')).toBe('received');
    const step = (await pair.side('SELLER').engine.get('L-1')).timeline.find((s) => s.event === MATCH_EVENTS.failed);
    expect(step?.detail).toEqual({ htlcLeader: 'ours=buyer theirs=seller' });
  });

  it('backs off after a failed delivery; something new to say on the chain is tried at once', async () => {
    pair.down.add('SELLER');
    await pair.instruct('BUYER', 'B-1');
    const tried = pair.attempts.get('SELLER') ?? 0;
    expect(tried).toBeGreaterThan(0);
    await pair.side('BUYER').outbox.flushAll(); // within the backoff: the timer leaves the chain alone
    await pair.side('BUYER').outbox.flush('SELLER', 'B-1');
    expect(pair.attempts.get('SELLER')).toBe(tried);
    const notice = { tradeId: 'B-1', type: 'lock_notice' as const, body: { lockId: '0x1', hashlock: '0x2' } };
    await expect(pair.side('BUYER').outbox.send('SELLER', notice)).rejects.toThrow(/not delivered/);
    expect(pair.attempts.get('SELLER')).toBe(tried + 1);
    pair.down.delete('SELLER');
    await pair.settle();
    expect(
      pair
        .side('BUYER')
        .peers.outbox('B-1')
        .every((m) => m.state === 'delivered'),
    ).toBe(true);
  });

  it('a chain backed off is tried at once when its addressee is heard from', async () => {
    pair.down.add('SELLER');
    await pair.instruct('BUYER', 'B-2');
    const tried = pair.attempts.get('SELLER') ?? 0;
    expect(tried).toBeGreaterThan(0);
    pair.down.delete('SELLER');
    const buyer = pair.side('BUYER');
    await buyer.outbox.flushAll(); // the seller is back, but the chain is within its backoff
    expect(pair.attempts.get('SELLER')).toBe(tried);
    buyer.outbox.peerReachable('SELLER'); // e.g. a message of the seller's arrived
    const delivered = (): boolean => buyer.peers.outbox('B-2').every((m) => m.state === 'delivered');
    for (let i = 0; i < 100 && !delivered(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(delivered()).toBe(true);
    expect(pair.attempts.get('SELLER')).toBe(tried + 1);
  });

  it('sends again, at start, an own cancel request of a matched trade lost to a crash', async () => {
    await pair.instruct('BUYER', 'K-2');
    await pair.instruct('SELLER', 'K-2');
    await pair.settle();
    await pair.side('BUYER').engine.cancel(actorOf('BUYER', 'trader'), 'K-2'); // the process dies before sending
    expect(await pair.status('BUYER', 'K-2')).toBe('matched');
    await pair.restart('BUYER');
    await pair.side('BUYER').trades.start();
    await pair.settle();
    expect(await pair.events('SELLER', 'K-2')).toContain('cancel_requested_counterparty');
  });

  it('queues again, at start, a cancel lost to a crash between the cancel and its message', async () => {
    await pair.instruct('BUYER', 'K-1');
    await pair.settle();
    await pair.side('BUYER').engine.cancel(actorOf('BUYER', 'trader'), 'K-1'); // as if the process died right after
    expect(
      pair
        .side('BUYER')
        .peers.outbox('K-1')
        .map((m) => m.envelope.type),
    ).toEqual(['proposal']);
    await pair.restart('BUYER');
    await pair.side('BUYER').trades.start();
    await pair.settle();
    expect(
      pair
        .side('BUYER')
        .peers.outbox('K-1')
        .map((m) => [m.envelope.type, m.state]),
    ).toEqual([
      ['proposal', 'delivered'],
      ['cancel', 'delivered'],
    ]);
    expect(pair.side('SELLER').store.terms.get('K-1', 'BUYER')?.state).toBe('withdrawn');
  });

  it('refuses a party’s proposals beyond the cap of those waiting for an instruction here (429)', async () => {
    const t = await third();
    const first = new Map<string, string>();
    for (const id of ['W-1', 'W-2', 'W-3']) first.set(id, (await t.send(id, 'proposal', {}, 1, '0'.repeat(64))).hash);
    await expect(t.send('W-4', 'proposal', {}, 1, '0'.repeat(64))).rejects.toMatchObject({
      code: 'TOO_MANY_PROPOSALS',
    });
    // A new proposal for a trade already proposed replaces the old one: not one more.
    await expect(t.send('W-1', 'proposal', { isin: 'US0378331005' }, 2, first.get('W-1') ?? '')).resolves.toMatchObject(
      {
        seq: 2,
      },
    );
  });
});
