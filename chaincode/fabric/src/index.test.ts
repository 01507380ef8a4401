import './testing/quiet';

import { describe, expect, it } from '@jest/globals';

import { contracts, SecuritiesContract } from './index';

describe('package entry point', () => {
  it('exports the contracts array fabric-chaincode-node loads', () => {
    expect(contracts).toEqual([SecuritiesContract]);
    expect(new SecuritiesContract().getName()).toBe('securities');
  });
});
