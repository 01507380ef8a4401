/**
 * The orchestrated escrow's message bodies against the peer message schema: what the manager
 * sends must be accepted by the receiving gateway's `POST /v1/peer/messages`.
 */
import { SCHEMAS } from '../../api/openapi-schemas';
import { termField, termKey } from './protocol';

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
