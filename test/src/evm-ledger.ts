/**
 * The local network's EVM ledger as the tests and `make demo` read and prepare it: clients of
 * the anvil node, the banks' addresses, the securities stand-in tokens, issuing, and balances of
 * tokens, the HashedTimelock and the SettlementEscrow (viem reads, none of the gateway's code).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cashTokenAbi, cashTokenBytecode, escrowState, settlementEscrowAbi } from '@dvp/cash-contracts';
import { createPublicClient, createWalletClient, defineChain, getAddress, http, type Address } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import type { NetworkState } from '../../network/src/state';

/** A public client of the network's EVM node and its first account (every test token's issuer) as a wallet. */
export function clients(net: NetworkState) {
  const chain = defineChain({
    id: net.evm.chainId,
    name: 'local',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [net.evm.rpcUrl] } },
  });
  const transport = http(net.evm.rpcUrl);
  const admin = createWalletClient({ account: mnemonicToAccount(net.evm.mnemonic), chain, transport });
  return { public: createPublicClient({ chain, transport, pollingInterval: 100 }), admin };
}

/** The EVM address the directory gives a bank. */
export const addressOf = (net: NetworkState, bank: 'seller' | 'buyer'): Address =>
  getAddress(net.evm.accounts[bank === 'seller' ? 1 : 2] as string);

/**
 * The securities token of `isin` on the local anvil: deployed once per network (remembered in
 * `<state>/securities-<isin>.json`), administered by the network's first account.
 */
export async function securitiesToken(net: NetworkState, isin: string): Promise<Address> {
  const file = join(net.stateDir, `securities-${isin}.json`);
  const c = clients(net);
  if (existsSync(file)) {
    const known = (JSON.parse(readFileSync(file, 'utf8')) as { token: Address }).token;
    if ((await c.public.getCode({ address: known }))?.length) return known;
  }
  const hash = await c.admin.deployContract({
    abi: cashTokenAbi,
    bytecode: cashTokenBytecode,
    args: [`Security ${isin} (EVM stand-in for Fabric)`, 'SEC', 0, c.admin.account.address, false],
  });
  const receipt = await c.public.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error(`deploying the ${isin} token failed`);
  const token = getAddress(receipt.contractAddress);
  writeFileSync(file, `${JSON.stringify({ isin, token }, null, 2)}\n`);
  return token;
}

/** Issues `amount` of `token` to `to` (the network's first account is every token's issuer). */
export async function issue(net: NetworkState, token: Address, to: Address, amount: bigint): Promise<void> {
  const c = clients(net);
  const hash = await c.admin.writeContract({
    address: token,
    abi: cashTokenAbi,
    functionName: 'mint',
    args: [to, amount],
  });
  const receipt = await c.public.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`mint on ${token} reverted`);
}

export async function balanceOf(net: NetworkState, token: Address, holder: Address): Promise<bigint> {
  return clients(net).public.readContract({
    address: token,
    abi: cashTokenAbi,
    functionName: 'balanceOf',
    args: [holder],
  });
}

/** The token's total supply (minted − burned). */
export async function totalSupply(net: NetworkState, token: Address): Promise<bigint> {
  return clients(net).public.readContract({ address: token, abi: cashTokenAbi, functionName: 'totalSupply' });
}

/** Sum of every HTLC-locked amount still held by the HashedTimelock, per token (for conservation). */
export async function heldByHtlc(net: NetworkState, token: Address): Promise<bigint> {
  return balanceOf(net, token, getAddress(net.evm.contracts['HashedTimelock'] as string));
}

/** What the SettlementEscrow holds of `token` (every escrow's remainder, for conservation). */
export async function heldByEscrow(net: NetworkState, token: Address): Promise<bigint> {
  return balanceOf(net, token, getAddress(net.evm.contracts['SettlementEscrow'] as string));
}

/** An escrow as its ledger holds it: its state and what it still holds. */
export interface EscrowReading {
  readonly state: 'held' | 'released' | 'returned';
  readonly remaining: bigint;
}

/** The SettlementEscrow's escrow `escrowId` (0x-hex bytes32). */
export async function evmEscrow(net: NetworkState, escrowId: string): Promise<EscrowReading> {
  const e = await clients(net).public.readContract({
    address: getAddress(net.evm.contracts['SettlementEscrow'] as string),
    abi: settlementEscrowAbi,
    functionName: 'getEscrow',
    args: [escrowId as `0x${string}`],
  });
  const states: Readonly<Record<number, EscrowReading['state']>> = {
    [escrowState.Held]: 'held',
    [escrowState.Released]: 'released',
    [escrowState.Returned]: 'returned',
  };
  const state = states[e.state];
  if (state === undefined) throw new Error(`SettlementEscrow has no escrow ${escrowId}`);
  // A return pays out the whole remainder without counting it as released.
  return { state, remaining: state === 'returned' ? 0n : e.amount - e.released };
}
