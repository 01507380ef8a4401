/**
 * The orchestrated escrow's message bodies against the peer message schema (what the manager
 * sends must be accepted by the receiving gateway's `POST /v1/peer/messages`), and the rule for
 * when a release may be sent.
 */
import { SCHEMAS } from '../../api/openapi-schemas';
import type { EscrowView } from '../../ledger/connector';
import { releaseAllowed, revealMarginSeconds, termField, termKey } from './protocol';

const VIEW: EscrowView = {
  escrowId: 'e',
  tradeId: 't',
  depositor: 'd',
  beneficiary: 'b',
  controller: 'c',
  asset: 'a',
  amount: 10n,
  released: 0n,
  expiry: 1600,
  state: 'held',
};

const bodySchema = (SCHEMAS['PeerEnvelope'] as { properties: { body: { propertyNames: { pattern: string } } } })
  .properties.body;

describe('approval request term keys', () => {
  const terms = ['buyer', 'isin', 'settlementDeadline', 'escrowManager', 'escrowNotary', 'escrowObserver', 'mode'];

  it('are body keys the peer message schema accepts (no separator)', () => {
    const pattern = new RegExp(bodySchema.propertyNames.pattern);
    for (const t of terms) expect(termKey(t)).toMatch(pattern);
    expect(termKey('settlementDeadline')).toBe('termSettlementDeadline');
  });

  it('give back their field, and never take the request’s own fields for terms', () => {
    for (const t of terms) expect(termField(termKey(t))).toBe(t);
    expect(['termsHash', 'securitiesEscrow', 'cashEscrow'].map(termField)).toEqual([undefined, undefined, undefined]);
  });
});

describe('releaseAllowed (the first release reveals the secret)', () => {
  const i = { termsHash: '', hashlock: '', decisionDeadline: 1000, expiry: 1600 }; // Δ 600: margin 300
  const held = (expiry = 1600): EscrowView => ({ ...VIEW, state: 'held', expiry });
  const released: EscrowView = { ...VIEW, state: 'released' };

  it('lets the first release go only while every held escrow has more than half of Δ left', () => {
    expect(revealMarginSeconds(i)).toBe(300);
    expect(releaseAllowed(1299, held(), [held(), held()], i, false)).toBe(true);
    expect(releaseAllowed(1300, held(), [held(), held()], i, false)).toBe(false);
    expect(releaseAllowed(1250, held(), [held(), held(1500)], i, false)).toBe(false); // the other expires sooner
  });

  it('once the secret may be public (an escrow released, or a release sent), up to the expiry', () => {
    expect(releaseAllowed(1599, held(), [released, held()], i, false)).toBe(true);
    expect(releaseAllowed(1599, held(), [held(), held()], i, true)).toBe(true);
    expect(releaseAllowed(1600, held(), [released, held()], i, true)).toBe(false);
    expect(releaseAllowed(1000, released, [released, held()], i, true)).toBe(false);
  });
});
