/**
 * The bounded spin run of the HTLC model (model/htlc.pml) in `make test`: the gateway's rules are
 * safe at the Δ they need, and spin finds the counterexample when the leader's claim margin is
 * dropped or Δ is one round too short (so the model can fail). The larger configurations run in
 * `make model-check`. Without spin (make model-tools installs it) these count as skipped.
 */
import { describe, expect, it, jest } from '@jest/globals';
import { BOUNDED, checkModel, describeResult, findSpin, unexpected } from './model-check';

jest.setTimeout(300_000);

const spin = findSpin();
const suite = spin ? describe : describe.skip;

suite(`the HTLC model checked with spin${spin ? '' : ' [skipped: spin not found: make model-tools]'}`, () => {
  it.each(BOUNDED.map((c) => [c.name, c] as const))('%s', (_name, config) => {
    const result = checkModel(spin as string, config);
    console.log(`model-check: ${describeResult(result)}`);
    expect(unexpected(result)).toBeUndefined();
  });
});
