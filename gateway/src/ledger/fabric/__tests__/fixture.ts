/**
 * A Fabric test world for the connector tests: a {@link FakeLedger} running the real securities
 * chaincode, the usual cast (issuer, seller, buyer, escrow manager, notary) with real keys, an instrument
 * issued to the seller, and connectors over the fake gateway. Not a peer (see `fabric-fake.ts`).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { GatewayStore } from '../../../store';
import type { LockRequest } from '../../connector';
import { createFabricConnector, type FabricConnectorOptions, type FabricLedgerConnector } from '../connector';
import { enroll, type FakeIdentity } from './fake-ids';
import { fakeGateway, FakeLedger } from './fake';

/** Channel, chaincode and instrument of the test world. */
export const CHANNEL = 'dvp';
export const CHAINCODE = 'securities';
export const ISIN = 'US0378331005';

/** The test world. */
export interface FabricWorld {
  readonly ledger: FakeLedger;
  readonly issuer: FakeIdentity;
  readonly seller: FakeIdentity;
  readonly buyer: FakeIdentity;
  readonly manager: FakeIdentity;
  readonly notary: FakeIdentity;
}

/** Submits `fcn` as `id` through the fake gateway; throws unless committed valid. */
export async function submitAs(world: FabricWorld, id: FakeIdentity, fcn: string, ...args: string[]): Promise<void> {
  const contract = fakeGateway(world.ledger, id).getNetwork(CHANNEL).getContract(CHAINCODE);
  const tx = await contract.newProposal(fcn, { arguments: args }).endorse();
  const status = await (await tx.submit()).getStatus();
  if (!status.successful) throw new Error(`${fcn} invalid: ${status.code}`);
}

/** A fresh ledger with `funds` of {@link ISIN} issued to the seller. */
export async function makeFabricWorld(funds: bigint): Promise<FabricWorld> {
  const world: FabricWorld = {
    ledger: new FakeLedger(CHANNEL, CHAINCODE, 1_700_000_000),
    issuer: await enroll({
      mspId: 'RegistrarMSP',
      cn: 'registrar',
      ous: ['client', 'registrar'],
      attrs: { role: 'issuer' },
    }),
    seller: await enroll({ mspId: 'SellerBankMSP', cn: 'alice', ous: ['client', 'seller'] }),
    buyer: await enroll({ mspId: 'BuyerBankMSP', cn: 'bob', ous: ['client', 'buyer'] }),
    manager: await enroll({ mspId: 'SellerBankMSP', cn: 'escrow-manager', ous: ['client', 'seller'] }),
    notary: await enroll({ mspId: 'BuyerBankMSP', cn: 'notary', ous: ['client', 'buyer'] }),
  };
  await submitAs(world, world.issuer, 'CreateInstrument', ISIN, 'Apple Inc. common stock', '1');
  await submitAs(world, world.issuer, 'Issue', ISIN, world.seller.account, funds.toString());
  return world;
}

/** A connector of `who` (default the seller) over `store`'s followers; short waits for tests. */
export function fabricConnector(
  world: FabricWorld,
  store: GatewayStore | undefined,
  who: FakeIdentity = world.seller,
  extra: Partial<FabricConnectorOptions> = {},
): FabricLedgerConnector {
  return createFabricConnector({
    gateway: fakeGateway(world.ledger, who),
    identity: who.identity,
    signer: who.signer,
    channel: CHANNEL,
    chaincode: CHAINCODE,
    ...(store && { followers: store.followers }),
    statusWaitMs: 50,
    eventIdleMs: 30,
    ...extra,
  });
}

let counter = 0;

/** Fresh lock terms from the seller to the buyer, with a caller-chosen lock id and the preimage. */
export function fabricLockRequest(
  world: FabricWorld,
  amount: bigint,
  ttl = 3600,
): LockRequest & { readonly lockId: string; readonly preimage: string } {
  const preimage = randomBytes(32);
  counter += 1;
  return {
    lockId: `L-${counter}-${randomBytes(4).toString('hex')}`,
    receiver: world.buyer.account,
    asset: ISIN,
    amount,
    hashlock: createHash('sha256').update(preimage).digest('hex'),
    expiry: world.ledger.time + ttl,
    preimage: preimage.toString('hex'),
  };
}
