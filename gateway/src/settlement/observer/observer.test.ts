import { envelopeHash, peerSigner, signatureValid, signEnvelope, type PeerEnvelope } from '../../messaging/envelope';
import { openStore, type GatewayStore } from '../../store';
import { createObserverLog } from '../../store/observer';
import type { EscrowView } from '../../ledger/connector';
import { actorOf, FakeLedger, tempDbFile } from '../../../testing/engine-fakes';
import { createLocalCa } from '../../../testing/pki';
import { createObserver, type Observer, type ObserverMessage, type ObserverOptions } from './observer';
import { recordBody, type RecordFields } from './record';

const TERMS = 'cd'.repeat(32);
const AT = '2026-11-24T13:00:00.000Z';
const MANAGER_EVM = '0xAbCdEf0000000000000000000000000000000001';

/** Signs messages as the gateways of `parties` (one in-memory CA), one chain per (sender, trade). */
async function gatewaysOf(parties: readonly string[]) {
  const ca = await createLocalCa('observer-test-ca');
  const signers = new Map(
    await Promise.all(
      parties.map(async (p) => {
        const id = await ca.issue(`${p}-gateway`, { attrs: { party: p, role: 'gateway' } });
        return [p, peerSigner(id.cert, id.key)] as const;
      }),
    ),
  );
  const chains = new Map<string, { seq: number; prev: string }>();
  return (from: string, tradeId: string, type: PeerEnvelope['type'], body: Record<string, string>) => {
    const signer = signers.get(from);
    if (!signer) throw new Error(`no gateway for ${from}`);
    const chain = chains.get(`${from}/${tradeId}`) ?? { seq: 0, prev: '0'.repeat(64) };
    const envelope = signEnvelope(
      {
        v: 1,
        id: `${from}-${chain.seq + 1}`,
        from,
        to: 'OBSERVER',
        tradeId,
        type,
        seq: chain.seq + 1,
        prev: chain.prev,
        sentAt: AT,
        body,
      },
      signer,
    );
    const hash = envelopeHash(envelope);
    chains.set(`${from}/${tradeId}`, { seq: chain.seq + 1, prev: hash });
    const message: ObserverMessage = { tradeId, from: actorOf(from, 'gateway'), type, body, envelope, hash };
    return message;
  };
}

/** A record of `tradeId` at step `step`; override any field. */
const bodyOf = (step: RecordFields['step'], fields: Partial<RecordFields> = {}): Record<string, string> =>
  recordBody({ step, termsHash: TERMS, at: AT, ...fields });

/** An EVM escrow of T-1 by BUYER for the seller, held. */
const escrowOf = (overrides: Partial<EscrowView> = {}): EscrowView => ({
  escrowId: '0xe1',
  tradeId: 'T-1',
  depositor: '0xB0b0000000000000000000000000000000000002',
  beneficiary: '0x5e11000000000000000000000000000000000003',
  controller: MANAGER_EVM,
  asset: '0xcash',
  amount: 1_000n,
  released: 0n,
  expiry: 2_000_000_000,
  state: 'held',
  ...overrides,
});

describe('observer', () => {
  let message: Awaited<ReturnType<typeof gatewaysOf>>;
  let tmp: ReturnType<typeof tempDbFile>;
  let store: GatewayStore;
  let evm: FakeLedger;
  let clock: number;

  beforeAll(async () => {
    message = await gatewaysOf(['MANAGER', 'BUYER']);
  });
  beforeEach(() => {
    tmp = tempDbFile();
    store = openStore(tmp.file, { party: 'OBSERVER' });
    evm = new FakeLedger('evm');
    clock = Date.parse('2026-11-24T14:00:00Z');
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  function observerOf(options: Partial<ObserverOptions> = {}): Observer {
    return createObserver({
      store: createObserverLog(store.db),
      connectors: { evm },
      verifySignature: (json) => signatureValid(JSON.parse(json) as PeerEnvelope),
      now: () => new Date((clock += 60_000)),
      ...options,
    });
  }

  describe('onMessage', () => {
    it('appends a record with its whole signed envelope', async () => {
      const observer = observerOf();
      const m = message('MANAGER', 'T-1', 'record', bodyOf('registered'));
      await observer.onMessage(m);
      const [row] = createObserverLog(store.db).query({});
      expect(row).toMatchObject({
        seq: 1,
        receivedAt: '2026-11-24T14:01:00.000Z',
        fromParty: 'MANAGER',
        tradeId: 'T-1',
        step: 'registered',
        envelopeHash: m.hash,
      });
      expect(JSON.parse(row?.envelope ?? '')).toEqual(m.envelope);
    });

    it('ignores messages of other types', async () => {
      const observer = observerOf();
      await observer.onMessage(message('MANAGER', 'T-1', 'decision', { decision: 'commit' }));
      expect((await observer.audit()).entries).toEqual([]);
    });

    it('appends the same message delivered again once', async () => {
      const observer = observerOf();
      const m = message('MANAGER', 'T-1', 'record', bodyOf('registered'));
      await observer.onMessage(m);
      await observer.onMessage(m);
      const page = await observer.audit();
      expect(page.entries.map((e) => e.seq)).toEqual([1]);
      expect(page.verification.chain).toEqual({ ok: true, checked: 1 });
    });

    it('ignores a record from a party not entitled to the trade', async () => {
      const observer = observerOf({ isEntitled: (party, tradeId) => party === 'MANAGER' && tradeId === 'T-1' });
      await observer.onMessage(message('BUYER', 'T-1', 'record', bodyOf('registered')));
      await observer.onMessage(message('MANAGER', 'T-2', 'record', bodyOf('registered')));
      await observer.onMessage(message('MANAGER', 'T-1', 'record', bodyOf('registered')));
      expect((await observer.audit()).entries.map((e) => [e.from, e.tradeId])).toEqual([['MANAGER', 'T-1']]);
    });

    it('keeps a signed body outside the record vocabulary as an invalid entry, and goes on with the next', async () => {
      const observer = observerOf();
      await observer.onMessage(message('MANAGER', 'T-1', 'record', { step: 'settled', termsHash: TERMS, at: AT }));
      await observer.onMessage(message('MANAGER', 'T-1', 'record', bodyOf('registered')));
      const page = await observer.audit();
      expect(page.entries).toEqual([
        expect.objectContaining({
          seq: 1,
          step: 'invalid',
          problem: expect.stringMatching(/^record field 'step' must be one of registered, /) as string,
        }),
        expect.objectContaining({ seq: 2, step: 'registered', termsHash: TERMS }),
      ]);
      expect(page.entries[0]).not.toHaveProperty('termsHash');
      expect(page.verification).toMatchObject({
        chain: { ok: true, checked: 2 },
        signatures: { ok: true, checked: 2, bad: [] },
        records: { ok: false, invalid: [1] },
      });
    });

    it('throws on a message whose fields are not its envelope’s (a wiring bug)', async () => {
      const observer = observerOf();
      const m = message('MANAGER', 'T-1', 'record', bodyOf('registered'));
      await expect(observer.onMessage({ ...m, tradeId: 'T-2' })).rejects.toThrow('does not match its envelope');
      await expect(observer.onMessage({ ...m, hash: '0'.repeat(64) })).rejects.toThrow('does not match its envelope');
      await expect(observer.onMessage({ ...m, body: bodyOf('instructed') })).rejects.toThrow(
        'does not match its envelope',
      );
    });
  });

  describe('audit', () => {
    /** Four records: MANAGER T-1, BUYER T-1, MANAGER T-2, BUYER T-1, received a minute apart. */
    async function fourRecords(observer: Observer): Promise<void> {
      await observer.onMessage(message('MANAGER', 'T-1', 'record', bodyOf('instructed')));
      await observer.onMessage(
        message(
          'BUYER',
          'T-1',
          'record',
          bodyOf('deposit_verified', { ledger: 'evm', escrowId: '0xe1', amount: 1_000n }),
        ),
      );
      await observer.onMessage(message('MANAGER', 'T-2', 'record', bodyOf('registered')));
      await observer.onMessage(message('BUYER', 'T-1', 'record', bodyOf('decided', { decision: 'commit' })));
    }

    it('returns the matching entries with their body fields, by trade, party and time', async () => {
      const observer = observerOf();
      await fourRecords(observer);
      const all = await observer.audit();
      expect(all.entries[1]).toEqual({
        seq: 2,
        receivedAt: '2026-11-24T14:02:00.000Z',
        from: 'BUYER',
        tradeId: 'T-1',
        step: 'deposit_verified',
        termsHash: TERMS,
        ledger: 'evm',
        escrowId: '0xe1',
        amount: 1_000n,
        at: AT,
        envelopeHash: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
      });
      expect(all.verification).toEqual({
        chain: { ok: true, checked: 4 },
        signatures: { ok: true, checked: 4, bad: [] },
        records: { ok: true, invalid: [] },
      });
      const seqs = async (q: Parameters<Observer['audit']>[0]) => (await observer.audit(q)).entries.map((e) => e.seq);
      expect(await seqs({ tradeId: 'T-1' })).toEqual([1, 2, 4]);
      expect(await seqs({ party: 'BUYER' })).toEqual([2, 4]);
      expect(await seqs({ from: '2026-11-24T14:02:00.000Z', to: '2026-11-24T14:03:00.000Z' })).toEqual([2, 3]);
      expect(await seqs({ tradeId: 'T-1', party: 'MANAGER' })).toEqual([1]);
    });

    it('a row changed in the database makes the chain fail at that seq', async () => {
      const observer = observerOf();
      await fourRecords(observer);
      store.db.prepare(`UPDATE observer_log SET received_at = '2026-11-24T13:00:00.000Z' WHERE seq = 3`).run();
      expect((await observer.audit({ tradeId: 'T-1' })).verification.chain).toEqual({
        ok: false,
        checked: 2,
        firstBadSeq: 3,
      });
    });

    it('an envelope changed in the database fails its signature check', async () => {
      const observer = observerOf();
      await fourRecords(observer);
      const { envelope } = store.db.prepare('SELECT envelope FROM observer_log WHERE seq = 2').get() as {
        envelope: string;
      };
      const forged = JSON.parse(envelope) as PeerEnvelope;
      const tampered = JSON.stringify({ ...forged, body: { ...forged.body, amount: '999' } });
      store.db.prepare('UPDATE observer_log SET envelope = ? WHERE seq = 2').run(tampered);
      // The signature is not part of the envelope hash: only the signature check sees this one.
      const other = JSON.parse(envelope) as PeerEnvelope;
      const third = JSON.parse(createObserverLog(store.db).query({})[2]?.envelope ?? '') as PeerEnvelope;
      const resigned = JSON.stringify({ ...third, signature: other.signature });
      store.db.prepare('UPDATE observer_log SET envelope = ? WHERE seq = 3').run(resigned);
      const page = await observer.audit();
      expect(page.verification.signatures).toEqual({ ok: false, checked: 4, bad: [2, 3] });
      expect(page.verification.chain.ok).toBe(true);
    });

    it('an envelope swapped for another validly signed one fails, as does a changed step', async () => {
      const observer = observerOf();
      await fourRecords(observer);
      store.db
        .prepare('UPDATE observer_log SET envelope = (SELECT envelope FROM observer_log WHERE seq = 4) WHERE seq = 2')
        .run();
      store.db.prepare(`UPDATE observer_log SET step = 'returned' WHERE seq = 3`).run();
      store.db.prepare(`UPDATE observer_log SET envelope = 'not json' WHERE seq = 1`).run();
      const page = await observer.audit();
      expect(page.verification.signatures).toEqual({ ok: false, checked: 4, bad: [1, 2, 3] });
      expect(page.entries[0]).toEqual({
        seq: 1,
        receivedAt: '2026-11-24T14:01:00.000Z',
        from: 'MANAGER',
        tradeId: 'T-1',
        step: 'instructed',
        envelopeHash: expect.any(String) as string,
        hash: expect.any(String) as string,
        problem: 'the stored envelope is not a JSON object',
      });
      expect(page.verification.records).toEqual({ ok: false, invalid: [1] });
    });

    it('checks the entries returned against the ledgers only when asked', async () => {
      const observer = observerOf();
      await fourRecords(observer);
      expect((await observer.audit()).verification.ledgers).toBeUndefined();
      evm.escrows.set('0xe1', escrowOf());
      expect((await observer.audit({ tradeId: 'T-1', verifyLedgers: true })).verification.ledgers).toEqual({
        ok: true,
        checked: 1,
        mismatches: [],
      });
      evm.escrows.set('0xe1', escrowOf({ amount: 999n }));
      expect((await observer.audit({ verifyLedgers: true })).verification.ledgers).toEqual({
        ok: false,
        checked: 1,
        mismatches: [{ seq: 2, reason: 'amount 1000 recorded, 999 on evm' }],
      });
      expect((await observer.audit({ party: 'MANAGER', verifyLedgers: true })).verification.ledgers).toEqual({
        ok: true,
        checked: 0,
        mismatches: [],
      });
    });

    it('stores the envelope hash messaging computes for the envelope kept', async () => {
      const observer = observerOf();
      await fourRecords(observer);
      for (const e of createObserverLog(store.db).query({})) {
        expect(envelopeHash(JSON.parse(e.envelope) as PeerEnvelope)).toBe(e.envelopeHash);
      }
    });
  });
});
