/**
 * Test-only: a real HTTPS gateway (harness.ts) serving one party, with an operator, an auditor and
 * a trader certificate of that party from an in-memory CA, and the services of the parties of
 * their own it runs (escrow manager, notary, observer). Never use in product code.
 */
import { certificateFingerprint, type Role } from '@dvp/certs';
import { startHarness, type Harness, type HarnessOptions } from './harness';
import type { TestRequest, TestResponse } from './https-client';
import { createLocalCa, type CertAndKey } from './pki';

/** The roles a test calls with. */
export type CallerRole = Extract<Role, 'operator' | 'auditor' | 'trader'>;

export interface PartyGateway {
  readonly harness: Harness;
  /** Every answer given so far (for checks across all of them). */
  readonly answers: TestResponse[];
  /** Calls the gateway with the party's certificate of `role`. */
  as(role: CallerRole, req: Omit<TestRequest, 'identity'>): Promise<TestResponse>;
  close(): Promise<void>;
}

const OTHERS = ['BUYER', 'SELLER', 'MANAGER', 'NOTARY', 'OBSERVER'];

/** Starts a gateway for `party` running `services`. */
export async function startPartyGateway(
  party: string,
  services: HarnessOptions['services'] = {},
): Promise<PartyGateway> {
  const ca = await createLocalCa(`${party} Test CA`);
  const ids = new Map<CallerRole, CertAndKey>();
  for (const role of ['operator', 'auditor', 'trader'] as const) {
    ids.set(role, await ca.issue(`${party.toLowerCase()}-${role}`, { attrs: { role, party } }));
  }
  const entry = (p: string, fingerprints: string[], i: number) => ({
    mspId: p === party ? 'AgentsMSP' : `${p}MSP`,
    certificateFingerprints: fingerprints,
    evmAddress: `0x${i + 1}`,
    gatewayUrl: `https://${p.toLowerCase()}`,
  });
  const parties = Object.fromEntries(
    [party, ...OTHERS.filter((p) => p !== party)].map((p, i) => [
      p,
      entry(p, p === party ? [...ids.values()].map((c) => certificateFingerprint(c.cert)) : [], i),
    ]),
  );
  const harness = await startHarness({
    party,
    anchors: [{ mspId: 'AgentsMSP', certPem: ca.certPem, crlPem: await ca.crl() }],
    directory: { version: 1, issuedAt: 1, parties },
    services,
  });
  const answers: TestResponse[] = [];
  return {
    harness,
    answers,
    as: async (role, req) => {
      const res = await harness.client({ ...req, identity: ids.get(role)! });
      answers.push(res);
      return res;
    },
    close: () => harness.close(),
  };
}

/** The error of an error answer, with its status. */
export function errorOf(res: TestResponse): { status: number; code: string; message: string; details?: unknown } {
  const { error } = res.json as { error: { code: string; message: string; details?: unknown } };
  return { status: res.status, ...error };
}
