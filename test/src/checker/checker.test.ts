/**
 * The independent checker on the real ledgers: it finds the shared network consistent, and it
 * finds the inconsistencies a broken settlement would leave, made here on purpose with the
 * ledgers' own calls and none of the gateway's code: a leg delivered on one ledger with nothing
 * on the other (not atomic), and a lock left open (not at its end). Each case uses its own fresh
 * asset (an ERC-20 on anvil, an instrument on the Fabric peers), so other test files running at
 * the same time never see it, nor it theirs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Contract } from '@hyperledger/fabric-gateway';
import { cashTokenAbi, hashedTimelockAbi } from '@dvp/cash-contracts';
import { getAddress, parseEventLogs, type Address, type Hex } from 'viem';
import type { NetworkState } from '../../../network/src/state';
import { describeOnFabric, fabricUp } from '../fabric';
import {
  bankIdentity,
  connectOwnPeer,
  freshIsin,
  issueFreshInstrument,
  registerClient,
  submit,
} from '../fabric-clients';
import { sharedNetwork } from '../network';
import { clients, securitiesToken } from '../two-banks';
import { checkLedgers, describeReadings } from './index';

jest.setTimeout(60_000);

const secret = () => {
  const preimage = randomBytes(32);
  return {
    preimage: `0x${preimage.toString('hex')}` as Hex,
    hashlock: createHash('sha256').update(preimage).digest('hex'),
  };
};
const now = () => Math.floor(Date.now() / 1000);

/** The network's first EVM account, issuer of every test token, as a wallet. */
function evmWallet(net: NetworkState) {
  const c = clients(net);
  return { account: c.admin.account.address, wallet: c.admin, client: c.public };
}

describe('the independent checker on the EVM node', () => {
  const net = sharedNetwork();
  const htlc = getAddress(net.evm.contracts['HashedTimelock'] as string);
  const evm = evmWallet(net);
  let token: Address;

  async function mined(hash: Hex) {
    const receipt = await evm.client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`);
    return receipt;
  }

  /** Mints `amount` to the wallet and locks it in the HTLC to itself under `hashlock`. */
  async function lockCash(amount: bigint, hashlock: string): Promise<Hex> {
    const w = evm.wallet;
    await mined(
      await w.writeContract({ address: token, abi: cashTokenAbi, functionName: 'mint', args: [evm.account, amount] }),
    );
    await mined(
      await w.writeContract({ address: token, abi: cashTokenAbi, functionName: 'approve', args: [htlc, amount] }),
    );
    const receipt = await mined(
      await w.writeContract({
        address: htlc,
        abi: hashedTimelockAbi,
        functionName: 'lock',
        args: [evm.account, token, amount, `0x${hashlock}`, BigInt(now() + 600)],
      }),
    );
    const [locked] = parseEventLogs({ abi: hashedTimelockAbi, eventName: 'Locked', logs: receipt.logs });
    if (!locked) throw new Error('no Locked event');
    return locked.args.lockId;
  }

  beforeAll(async () => {
    token = await securitiesToken(net, freshIsin()); // a fresh ERC-20 nobody else uses, as the cash
  });

  it('finds a fresh token consistent: free + locked = minted, as totalSupply says', async () => {
    await mined(
      await evm.wallet.writeContract({
        address: token,
        abi: cashTokenAbi,
        functionName: 'mint',
        args: [evm.account, 700n],
      }),
    );
    const result = await checkLedgers(net, { isins: [], cashToken: token });
    expect(result.problems).toEqual([]);
    expect(result.readings[0]).toMatchObject({ supply: 700n, reportedSupply: 700n, free: 700n, locked: 0n });
  });

  it('finds cash paid for a trade whose securities never moved: not atomic', async () => {
    const { preimage, hashlock } = secret();
    const lockId = await lockCash(300n, hashlock);
    const open = await checkLedgers(net, { isins: [], cashToken: token, trades: [trade('T-open', hashlock)] });
    expect(open.problems).toEqual(['trade T-open: not at its end (cash still held)']);
    expect(open.readings[0]).toMatchObject({ supply: 1_000n, locked: 300n });

    await mined(
      await evm.wallet.writeContract({
        address: htlc,
        abi: hashedTimelockAbi,
        functionName: 'claim',
        args: [lockId, preimage],
      }),
    );
    const claimed = await checkLedgers(net, { isins: [], cashToken: token, trades: [trade('T-cash', hashlock)] });
    expect(claimed.problems).toEqual([
      'trade T-cash: not atomic: 0 of 0 securities delivered, 300 of 300 cash',
      'trade T-cash: 0 securities for 300 cash is not 3 for 300',
    ]);
    expect(claimed.readings[0]).toMatchObject({ supply: 1_000n, free: 1_000n, locked: 0n });
  });

  const trade = (tradeId: string, hashlock: string) => ({ tradeId, hashlock, quantity: 3n, amount: 300n });
});

describeOnFabric('the independent checker on the Fabric peers', () => {
  const net = sharedNetwork();
  const cashToken = net.evm.contracts['CashToken'] as string;
  const closers: { close(): void }[] = [];
  let isin: string;
  let seller: Contract;
  let receiver: string;

  beforeAll(async () => {
    const fabric = fabricUp();
    const [sellerBank, buyerBank = sellerBank] = Object.keys(fabric.peers);
    if (sellerBank === undefined || buyerBank === undefined) throw new Error('network.json lists no Fabric peer');
    const [owner, buyer] = await Promise.all([
      registerClient(net, sellerBank, 'checker-seller', 'gateway'),
      registerClient(net, buyerBank, 'checker-buyer', 'gateway'),
    ]);
    const ownerConn = connectOwnPeer(fabric, owner);
    const issuerConn = connectOwnPeer(fabric, bankIdentity(net, fabric.chaincode.issuer.org, 'issuer'));
    closers.push(ownerConn, issuerConn);
    seller = ownerConn.contract(fabric.channel, fabric.chaincode.name);
    receiver = buyer.account;
    isin = await issueFreshInstrument(issuerConn.contract(fabric.channel, fabric.chaincode.name), owner.account, 100n);
  });

  afterAll(() => closers.forEach((c) => c.close()));

  const lock = (lockId: string, quantity: bigint, hashlock: string) =>
    submit(seller, 'LockHTLC', lockId, isin, quantity.toString(), receiver, hashlock, String(now() + 600));

  it('finds a fresh instrument consistent: its one holding is its supply', async () => {
    const result = await checkLedgers(net, { isins: [isin], cashToken });
    expect(result.problems).toEqual([]);
    expect(result.readings[0]).toMatchObject({ asset: `fabric ${isin}`, supply: 100n, free: 100n, locked: 0n });
  });

  it('finds securities delivered with no cash locked (not atomic), and a lock left open (not at its end)', async () => {
    const delivered = secret();
    const open = secret();
    const deliveredId = `CHK-${randomBytes(4).toString('hex')}`;
    await lock(deliveredId, 10n, delivered.hashlock);
    await submit(seller, 'ClaimHTLC', deliveredId, delivered.preimage);
    await lock(`CHK-${randomBytes(4).toString('hex')}`, 5n, open.hashlock);

    const result = await checkLedgers(net, { isins: [isin], cashToken });
    expect(result.readings[0]).toMatchObject({ supply: 100n, free: 95n, locked: 5n, escrowed: 0n });
    expect([...result.problems].sort()).toEqual(
      [
        `trade with key ${delivered.hashlock}: not atomic: 10 of 10 securities delivered, 0 of 0 cash`,
        `trade with key ${open.hashlock}: not at its end (securities still held)`,
      ].sort(),
    );
    expect(describeReadings(result)).toContain(`fabric ${isin}: supply 100, free 95, locked 5, escrowed 0, 2 records`);
  });
});
