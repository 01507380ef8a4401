/**
 * The observer's route over real HTTPS, served by a real observer on its own database. Its log
 * holds the records a real escrow manager sent during two orchestrated trades on in-memory ledgers
 * (one committed, one refused by the notary), each signed again by the sender's gateway certificate
 * as gateway messaging would have; its ledger checks read those in-memory ledgers.
 */
import 'reflect-metadata';
import { envelopeHash, peerSigner, signatureValid, signEnvelope, type PeerEnvelope } from '../../messaging/envelope';
import { createObserver, type Observer } from '../../settlement/observer/observer';
import { recordBody } from '../../settlement/observer/record';
import { addr, EscrowWorld } from '../../settlement/escrow-orchestrated/__tests__/world';
import { openStore, type GatewayStore } from '../../store';
import { createObserverLog } from '../../store/observer';
import { actorOf, tempDbFile } from '../../../testing/engine-fakes';
import { errorOf, startPartyGateway, type PartyGateway } from '../../../testing/party-harness';
import { createLocalCa } from '../../../testing/pki';

jest.setTimeout(30_000);

interface WirePage {
  entries: { seq: number; tradeId: string; from: string; step: string; receivedAt: string; amount?: string }[];
  verification: {
    chain: { ok: boolean; checked: number };
    signatures: { ok: boolean; checked: number; bad: number[] };
    ledgers?: { ok: boolean; checked: number; mismatches: { seq: number; reason: string }[] };
  };
}

/** Delivers `message` to the observer as the inbox would: signed by `from`'s gateway, one chain per trade. */
async function courier(observer: Observer) {
  const ca = await createLocalCa('observer-route-test-ca');
  const id = await ca.issue('manager-gateway', { attrs: { party: 'MANAGER', role: 'gateway' } });
  const signer = peerSigner(id.cert, id.key);
  const chains = new Map<string, { seq: number; prev: string }>();
  return async (from: string, tradeId: string, body: Record<string, string>): Promise<void> => {
    const chain = chains.get(tradeId) ?? { seq: 0, prev: '0'.repeat(64) };
    const unsigned = { v: 1 as const, id: `${from}-${tradeId}-${chain.seq + 1}`, from, to: 'OBSERVER', tradeId };
    const envelope = signEnvelope(
      { ...unsigned, type: 'record', seq: chain.seq + 1, prev: chain.prev, sentAt: new Date().toISOString(), body },
      signer,
    );
    const hash = envelopeHash(envelope);
    chains.set(tradeId, { seq: chain.seq + 1, prev: hash });
    await observer.onMessage({ tradeId, from: actorOf(from, 'gateway'), type: 'record', body, envelope, hash });
  };
}

describe('observer routes', () => {
  let w: EscrowWorld;
  let tmp: ReturnType<typeof tempDbFile>;
  let store: GatewayStore;
  let o: PartyGateway;
  let observer: Observer;
  let clock = Date.parse('2026-11-24T14:00:00.000Z');
  const page = async (query = ''): Promise<WirePage> => {
    const res = await o.as('auditor', { path: `/v1/observations${query}` });
    expect(res.status).toBe(200);
    return res.json as WirePage;
  };

  beforeAll(async () => {
    w = new EscrowWorld({ decide: 'rule', denyParties: ['BUYER'] });
    tmp = tempDbFile();
    store = openStore(tmp.file, { party: 'OBSERVER' });
    observer = createObserver({
      store: createObserverLog(store.db),
      connectors: {
        fabric: w.fabric.connector(addr('OBSERVER', 'fabric')),
        evm: w.evm.connector(addr('OBSERVER', 'evm')),
      },
      verifySignature: (json) => signatureValid(JSON.parse(json) as PeerEnvelope),
      now: () => new Date((clock += 60_000)),
    });
    await w.trade('O-1', { manager: 'MANAGER', observer: 'OBSERVER' });
    await w.trade('O-2', { manager: 'MANAGER', notary: 'NOTARY', observer: 'OBSERVER' });
    await w.final('O-1');
    await w.final('O-2');
    const released = (): number => w.records.filter((r) => r.tradeId === 'O-1' && r.step === 'released').length;
    await w.until(() => released() === 2, 'both release records of O-1');
    const deliver = await courier(observer);
    for (const m of w.delivered.filter((d) => d.to === 'OBSERVER' && d.type === 'record')) {
      await deliver(m.from.party, m.tradeId, m.body);
    }
    o = await startPartyGateway('OBSERVER', { observer });
  });
  afterAll(async () => {
    await o?.close();
    await w?.close();
    store?.close();
    tmp?.remove();
  });

  describe('GET /v1/observations', () => {
    it('returns every entry with the chain and every signature verified; no ledger check unless asked', async () => {
      const { entries, verification } = await page();
      expect(entries.length).toBeGreaterThan(8);
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
      expect(new Set(entries.map((e) => e.tradeId))).toEqual(new Set(['O-1', 'O-2']));
      expect(entries.find((e) => e.step === 'deposit_verified')).toMatchObject({
        from: 'MANAGER',
        amount: expect.stringMatching(/^[1-9][0-9]*$/),
        ledger: expect.stringMatching(/^(fabric|evm)$/),
      });
      expect(verification).toEqual({
        chain: { ok: true, checked: entries.length },
        signatures: { ok: true, checked: entries.length, bad: [] },
        records: { ok: true, invalid: [] },
      });
    });

    it('checks each record against both ledgers with verifyLedgers=true', async () => {
      const { verification } = await page('?verifyLedgers=true');
      expect(verification.ledgers).toEqual({ ok: true, checked: expect.any(Number), mismatches: [] });
      expect(verification.ledgers!.checked).toBeGreaterThanOrEqual(8);
    });

    it('filters by trade, sending party and time received (any offset), the chain still checked whole', async () => {
      const all = (await page()).entries;
      const o2 = await page('?tradeId=O-2');
      expect(o2.entries.map((e) => e.seq)).toEqual(all.filter((e) => e.tradeId === 'O-2').map((e) => e.seq));
      expect(o2.verification.chain.checked).toBe(all.length);
      const buyers = (await page('?party=BUYER')).entries;
      expect(buyers.map((e) => e.seq)).toEqual(all.filter((e) => e.from === 'BUYER').map((e) => e.seq));
      expect(buyers.map((e) => e.step)).toContain('deposited');
      expect((await page('?party=NOBODY')).entries).toEqual([]);
      // 14:03Z written as 15:03 at +01:00: entries received at 14:03 and 14:04.
      const window = await page(`?from=${encodeURIComponent('2026-11-24T15:03:00+01:00')}&to=2026-11-24T14:04:00Z`);
      expect(window.entries.map((e) => e.receivedAt)).toEqual(['2026-11-24T14:03:00.000Z', '2026-11-24T14:04:00.000Z']);
    });

    it('is open to the operator too, not to a trader (403)', async () => {
      expect((await o.as('operator', { path: '/v1/observations' })).status).toBe(200);
      expect(errorOf(await o.as('trader', { path: '/v1/observations' }))).toMatchObject({
        status: 403,
        code: 'ROLE_FORBIDDEN',
      });
    });

    it.each([
      ['a from that is not a time', '?from=yesterday', /query\.from/],
      ['a to without a time zone', '?to=2026-11-24T14:00:00', /query\.to/],
      ['a to before the from', '?from=2026-11-24T15:00:00Z&to=2026-11-24T14:00:00Z', /query\.to must not be before/],
      ['verifyLedgers other than true or false', '?verifyLedgers=yes', /query\.verifyLedgers/],
      ['an unknown parameter', '?limit=5', /query\.limit is not a known field/],
      ['a malformed trade id', '?tradeId=-x', /query\.tradeId/],
    ])('refuses %s (400, naming it)', async (_name, query, message) => {
      const res = await o.as('auditor', { path: `/v1/observations${query}` });
      expect(errorOf(res)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message });
    });

    it('reports a record the ledgers do not bear out', async () => {
      const before = (await page()).entries.length;
      const deliver = await courier(observer);
      const o1 = w.manager!.service.get('O-1');
      const body = recordBody({
        step: 'released',
        termsHash: o1.termsHash,
        leg: 'cash',
        ledger: 'evm',
        escrowId: o1.evidence['cashEscrow'],
        amount: 1n,
        state: 'released',
        at: new Date().toISOString(),
      });
      await deliver('MANAGER', 'O-1', body);
      const { entries, verification } = await page('?verifyLedgers=true');
      expect(entries).toHaveLength(before + 1);
      expect(verification.ledgers).toMatchObject({
        ok: false,
        mismatches: [{ seq: before + 1, reason: 'amount 1 recorded, 1234500 on evm' }],
      });
    });
  });

  it('answers 404 ROLE_NOT_SERVED on the manager’s and the notary’s routes', async () => {
    expect(errorOf(await o.as('auditor', { path: '/v1/escrow/trades' }))).toMatchObject({
      status: 404,
      code: 'ROLE_NOT_SERVED',
      message: 'this gateway is not an escrow manager',
    });
    expect(errorOf(await o.as('operator', { method: 'POST', path: '/v1/approvals/O-1/approve' }))).toMatchObject({
      status: 404,
      message: 'this gateway is not a notary',
    });
  });
});
