import { type TradeStatus } from './trade';
import { TradeError } from './errors';
import { assertTransition, canTransition, isTerminal, TRANSITIONS } from './state-machine';

const ALL = Object.keys(TRANSITIONS) as TradeStatus[];

describe('trade state machine', () => {
  it.each([
    ['received', 'matched'],
    ['matched', 'pending'],
    ['pending', 'failing'],
    ['failing', 'pending'],
    ['pending', 'partially_settled'],
    ['partially_settled', 'settled'],
    ['partially_settled', 'cancelled'],
    ['held', 'matched'],
  ] as const)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition('T', from, to)).not.toThrow();
  });

  it.each([
    ['received', 'settled'],
    ['received', 'pending'],
    ['pending', 'cancelled'],
    ['pending', 'matched'],
    ['settled', 'failed'],
    ['cancelled', 'matched'],
    ['failed', 'pending'],
  ] as const)('forbids %s → %s with INVALID_TRANSITION', (from, to) => {
    let caught: unknown;
    try {
      assertTransition('T-9', from, to);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TradeError);
    expect(caught).toMatchObject({ code: 'INVALID_TRANSITION', context: { tradeId: 'T-9', from, to } });
  });

  it('has exactly settled, cancelled and failed as terminal statuses', () => {
    expect(ALL.filter(isTerminal).sort()).toEqual(['cancelled', 'failed', 'settled']);
  });

  it('never allows a status to transition to itself', () => {
    for (const s of ALL) expect(canTransition(s, s)).toBe(false);
  });
});
