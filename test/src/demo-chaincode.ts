/**
 * `make demo-chaincode`: the HTLC steps by hand, with the real securities chaincode (no gateways).
 *
 * The cash leg runs on the real anvil of the local network (network.json). The securities leg
 * runs the real securities chaincode through fabric-contract-api's dispatch over an in-memory
 * stub, because a Fabric peer cannot be built on this machine (README, "Blocked"): it is labelled
 * as such in every line it prints. One SHA-256 preimage opens both sides.
 *
 *   1. completes: the seller (leader) locks securities with the longer timelock, the buyer locks
 *      cash with the shorter one, the seller claims the cash (revealing the preimage on the EVM
 *      ledger), the buyer reads it from the Claimed event and claims the securities.
 *   2. times out: the leader never claims; after T_F the buyer refunds its cash, after T_L the
 *      seller refunds its securities.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cashTokenAbi, hashedTimelockAbi } from '@dvp/cash-contracts';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  parseEventLogs,
  type Address,
  type Hex,
  type WalletClient,
} from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { sharedNetwork } from './network';
import { createChaincodeDriver } from './scenarios/chaincode-driver';
import type { LedgerDriver } from './scenarios/driver';

// fabric-shim's logger swallows uncaught exceptions (and exits 0), so fail loudly here ourselves.
const net = (() => {
  try {
    return sharedNetwork();
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
})();
const chain = defineChain({
  id: net.evm.chainId,
  name: 'local',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [net.evm.rpcUrl] } },
});
const evm = createPublicClient({ chain, transport: http() });
const wallet = (index: number) =>
  createWalletClient({
    account: mnemonicToAccount(net.evm.mnemonic, { addressIndex: index }),
    chain,
    transport: http(),
  });
const issuer = wallet(0);
const seller = wallet(1);
const buyer = wallet(2);
const token = net.evm.contracts['CashToken'] as Address;
const htlc = net.evm.contracts['HashedTimelock'] as Address;

const SECURITIES = '[securities: chaincode, in-memory stub]';
const CASH = '[cash: anvil]';
const started = Date.now();
const step = (trade: string, actor: string, what: string, where = '') =>
  console.log(
    `  +${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${trade}  ${actor.padEnd(7)} ${what} ${where}`,
  );

async function mined(hash: Hex) {
  const receipt = await evm.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`);
  return receipt;
}

const txRef = (r: { transactionHash: Hex; blockNumber: bigint }) =>
  `tx ${r.transactionHash.slice(0, 12)}… block ${r.blockNumber}`;

async function cashOf(who: WalletClient): Promise<bigint> {
  const account = who.account?.address as Address;
  return evm.readContract({ address: token, abi: cashTokenAbi, functionName: 'balanceOf', args: [account] });
}

async function balances(title: string, securities: LedgerDriver): Promise<void> {
  console.log(`\n${title}`);
  console.log(
    `  seller: ${await securities.freeBalance('alice')} shares ${SECURITIES}, ${await cashOf(seller)} cents ${CASH}`,
  );
  console.log(
    `  buyer:  ${await securities.freeBalance('bob')} shares ${SECURITIES}, ${await cashOf(buyer)} cents ${CASH}`,
  );
}

async function lockCash(amount: bigint, hashlock: Hex, expiry: bigint): Promise<{ lockId: Hex; ref: string }> {
  await mined(
    await buyer.writeContract({ address: token, abi: cashTokenAbi, functionName: 'approve', args: [htlc, amount] }),
  );
  const receipt = await mined(
    await buyer.writeContract({
      address: htlc,
      abi: hashedTimelockAbi,
      functionName: 'lock',
      args: [seller.account!.address, token, amount, hashlock, expiry],
    }),
  );
  const [locked] = parseEventLogs({ abi: hashedTimelockAbi, eventName: 'Locked', logs: receipt.logs });
  if (!locked) throw new Error('no Locked event');
  return { lockId: locked.args.lockId, ref: txRef(receipt) };
}

async function settles(securities: LedgerDriver): Promise<void> {
  const trade = 'T1';
  const quantity = 100n;
  const cash = quantity * 2_500n; // 100 shares at 25.00
  const preimage = randomBytes(32);
  const hashlock = `0x${createHash('sha256').update(preimage).digest('hex')}` as Hex;
  const now = BigInt(Math.floor(Date.now() / 1000));
  const tL = now + 600n;
  const tF = now + 300n; // T_L >= T_F + delta (delta = 300 s here)
  console.log(`\n${trade}: seller sells ${quantity} shares for ${cash} cents; the seller leads (holds the secret)`);

  const secLock = await securities.lock('alice', { receiver: 'bob', amount: quantity, hashlock, expiry: tL });
  step(trade, 'seller', `locks ${quantity} shares for the buyer until T_L=${tL}`, SECURITIES);
  const cashLock = await lockCash(cash, hashlock, tF);
  step(
    trade,
    'buyer',
    `checks the seller's lock, locks ${cash} cents for the seller until T_F=${tF}`,
    `${CASH} ${cashLock.ref}`,
  );
  const claim = await mined(
    await seller.writeContract({
      address: htlc,
      abi: hashedTimelockAbi,
      functionName: 'claim',
      args: [cashLock.lockId, `0x${preimage.toString('hex')}`],
    }),
  );
  step(trade, 'seller', 'claims the cash, revealing the preimage', `${CASH} ${txRef(claim)}`);
  const [claimed] = await evm.getContractEvents({
    address: htlc,
    abi: hashedTimelockAbi,
    eventName: 'Claimed',
    args: { lockId: cashLock.lockId },
    fromBlock: claim.blockNumber,
  });
  if (!claimed) throw new Error('no Claimed event');
  await securities.claim('bob', secLock, claimed.args.preimage as Hex);
  step(trade, 'buyer', `reads the preimage from the Claimed event, claims the ${quantity} shares`, SECURITIES);
  console.log(`  => ${trade} settled: both legs delivered`);
}

async function timesOut(securities: LedgerDriver): Promise<void> {
  const trade = 'T2';
  const quantity = 40n;
  const cash = quantity * 2_500n;
  const hashlock = `0x${createHash('sha256').update(randomBytes(32)).digest('hex')}` as Hex;
  const now = BigInt(Math.floor(Date.now() / 1000));
  const tF = now + 4n;
  const tL = now + 8n;
  console.log(
    `\n${trade}: seller sells ${quantity} shares for ${cash} cents; the leader never claims (timelocks 4 s / 8 s)`,
  );
  const secLock = await securities.lock('alice', { receiver: 'bob', amount: quantity, hashlock, expiry: tL });
  step(trade, 'seller', `locks ${quantity} shares until T_L=${tL}`, SECURITIES);
  const cashLock = await lockCash(cash, hashlock, tF);
  step(trade, 'buyer', `locks ${cash} cents until T_F=${tF}`, `${CASH} ${cashLock.ref}`);
  step(trade, 'seller', 'does not claim; waiting for T_F (refund is allowed only at or after expiry)');
  // Blocks carry wall-clock time on this ledger; wait for it rather than changing it.
  while (BigInt(Math.floor(Date.now() / 1000)) < tF + 1n) await new Promise((r) => setTimeout(r, 250));
  const refund = await mined(
    await buyer.writeContract({
      address: htlc,
      abi: hashedTimelockAbi,
      functionName: 'refund',
      args: [cashLock.lockId],
    }),
  );
  step(trade, 'buyer', `refunds its ${cash} cents after T_F`, `${CASH} ${txRef(refund)}`);
  step(trade, 'seller', 'waiting for T_L to refund its securities');
  while (BigInt(Math.floor(Date.now() / 1000)) < tL) await new Promise((r) => setTimeout(r, 250));
  // The in-memory stub takes the transaction time it is given (a peer takes it from the proposal).
  await securities.setTime(BigInt(Math.floor(Date.now() / 1000)));
  await securities.refund('alice', secLock);
  step(trade, 'seller', `refunds its ${quantity} shares after T_L`, SECURITIES);
  console.log(`  => ${trade} failed (reason: timeout): both legs returned`);
}

async function main(): Promise<void> {
  console.log('DvP demo: HTLC between a securities ledger and a cash ledger');
  console.log(
    `  cash ledger: anvil ${net.evm.rpcUrl} chain ${net.evm.chainId}, CashToken ${token}, HashedTimelock ${htlc}`,
  );
  console.log(
    `  securities ledger: ${net.fabric.status === 'up' ? 'Fabric' : `Fabric peer not available here (README, "Blocked"); using ${SECURITIES}`}`,
  );
  const securities = await createChaincodeDriver();
  await securities.reset(1_000n); // the seller ('alice') holds 1,000 shares of the test ISIN
  await securities.setTime(BigInt(Math.floor(Date.now() / 1000)));
  // The buyer's settlement bank funds it with cash (fresh each run: top up to 1,000,000 cents).
  const buyerCash = await cashOf(buyer);
  if (buyerCash < 1_000_000n) {
    await mined(
      await issuer.writeContract({
        address: token,
        abi: cashTokenAbi,
        functionName: 'mint',
        args: [buyer.account.address, 1_000_000n - buyerCash],
      }),
    );
  }
  await balances('Balances before:', securities);
  await settles(securities);
  await timesOut(securities);
  await balances('Balances after:', securities);
  console.log('\nInspect more:');
  console.log(`  cat ${net.stateDir}/network.json`);
  console.log(
    `  curl -s -X POST ${net.evm.rpcUrl} -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'`,
  );
  console.log('The network stays up after the demo; stop it with: make network-down');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
