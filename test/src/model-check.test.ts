/**
 * The bounded spin runs in `make test`. The HTLC model (model/htlc.pml): the gateway's rules are
 * safe at the Δ they need, and spin finds the counterexample when the leader's claim margin is
 * dropped or Δ is one round too short (so the model can fail). The orchestrated escrow's
 * (model/escrow-orchestrated.pml): the gateway's rules are safe, and spin finds the seller's loss
 * when the manager’s decision carries the secret or its first release has no margin. The larger configurations run in
 * `make model-check`. Without spin (make model-tools installs it) these count as skipped.
 */
import { describe, expect, it, jest } from '@jest/globals';
import { BOUNDED, checkModel, describeResult, ESCROW_BOUNDED, findSpin, unexpected } from './model-check';

jest.setTimeout(900_000); // the safe escrow configuration takes about 2 minutes alone, more beside other suites

const spin = findSpin();
const suite = spin ? describe : describe.skip;

suite(
  `the HTLC and escrow models checked with spin${spin ? '' : ' [skipped: spin not found: make model-tools]'}`,
  () => {
    it.each([...BOUNDED, ...ESCROW_BOUNDED].map((c) => [c.name, c] as const))('%s', (_name, config) => {
      const result = checkModel(spin as string, config);
      console.log(`model-check: ${describeResult(result)}`);
      expect(unexpected(result)).toBeUndefined();
    });
  },
);
