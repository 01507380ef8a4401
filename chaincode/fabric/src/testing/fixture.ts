/**
 * A ready-made test ledger: the securities contract behind the real dispatch, a CA, and the
 * usual cast (issuer, alice, bob, carol, manager, notary, auditor, admin) from two MSPs whose names
 * come from here, not from the chaincode.
 */
import './quiet';
import { SecuritiesContract } from '../contract';
import { TestCa } from './certs';
import type { TestIdentity } from './certs';
import { TestLedger } from './harness';
import type { TxResult } from './harness';

/** Names of the cast. */
export type Member = 'issuer' | 'alice' | 'bob' | 'carol' | 'manager' | 'notary' | 'auditor' | 'admin';

/** A valid ISIN (Apple Inc.) used by default. */
export const TEST_ISIN = 'US0378331005';

/** Everything a test needs. */
export interface Fixture {
  readonly ledger: TestLedger;
  readonly ca: TestCa;
  readonly ids: Readonly<Record<Member, TestIdentity>>;
}

let shared: Promise<{ ca: TestCa; ids: Record<Member, TestIdentity> }> | undefined;

/** Certificates are slow-ish to make, so the cast is created once per process. */
async function cast(): Promise<{ ca: TestCa; ids: Record<Member, TestIdentity> }> {
  shared ??= (async () => {
    const ca = await TestCa.create();
    const ids: Record<Member, TestIdentity> = {
      issuer: await ca.issue({
        mspId: 'RegistrarMSP',
        cn: 'registrar',
        ous: ['client', 'registrar'],
        attrs: { role: 'issuer' },
      }),
      alice: await ca.issue({ mspId: 'SellerBankMSP', cn: 'alice', ous: ['client', 'seller'] }),
      bob: await ca.issue({ mspId: 'BuyerBankMSP', cn: 'bob', ous: ['client', 'buyer'] }),
      carol: await ca.issue({ mspId: 'BuyerBankMSP', cn: 'carol', ous: ['client', 'buyer'] }),
      manager: await ca.issue({
        mspId: 'SellerBankMSP',
        cn: 'escrow-manager',
        ous: ['client', 'seller'],
        attrs: { role: 'client' },
      }),
      notary: await ca.issue({
        mspId: 'BuyerBankMSP',
        cn: 'notary',
        ous: ['client', 'buyer'],
        attrs: { role: 'client' },
      }),
      auditor: await ca.issue({ mspId: 'RegistrarMSP', cn: 'auditor', attrs: { role: 'auditor' } }),
      admin: await ca.issue({ mspId: 'RegistrarMSP', cn: 'admin', ous: ['admin', 'registrar'] }),
    };
    return { ca, ids };
  })();
  return shared;
}

/** A fresh ledger (empty state) with the shared cast. */
export async function makeFixture(time = 1_700_000_000): Promise<Fixture> {
  const { ca, ids } = await cast();
  return { ledger: new TestLedger([SecuritiesContract], time), ca, ids };
}

/** Throws with the chaincode message unless the transaction succeeded. */
export function ok(result: TxResult): TxResult {
  if (result.status !== 200) throw new Error(`transaction failed: ${result.message}`);
  return result;
}

/** Creates {@link TEST_ISIN} (unit 1) and issues `initial` to alice. */
export async function seed(fx: Fixture, initial: bigint, isin = TEST_ISIN): Promise<void> {
  ok(await fx.ledger.submit(fx.ids.issuer, 'CreateInstrument', isin, 'Apple Inc. common stock', '1'));
  if (initial > 0n) ok(await fx.ledger.submit(fx.ids.issuer, 'Issue', isin, fx.ids.alice.account, initial.toString()));
}
