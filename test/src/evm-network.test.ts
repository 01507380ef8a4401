/**
 * The cash ledger of the shared local network (`make network-up`): a contract call through viem
 * is mined by the real anvil and its event is read back from the chain.
 */
import { cashTokenAbi } from '@dvp/cash-contracts';
import { createPublicClient, createWalletClient, defineChain, http, parseEventLogs } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { sharedNetwork } from './network';

describe('the shared network’s EVM ledger', () => {
  const net = sharedNetwork();
  const chain = defineChain({
    id: net.evm.chainId,
    name: 'local',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [net.evm.rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport: http() });
  const issuer = createWalletClient({ account: mnemonicToAccount(net.evm.mnemonic), chain, transport: http() });
  const token = net.evm.contracts['CashToken'];

  it('has the cash token deployed where network.json says', async () => {
    expect(token).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const code = await publicClient.getCode({ address: token as `0x${string}` });
    expect(code?.length ?? 0).toBeGreaterThan(2);
    expect(await publicClient.getChainId()).toBe(net.evm.chainId);
  });

  it('mines a mint sent through viem and reads its Transfer event back from the chain', async () => {
    const to = net.evm.accounts[3] as `0x${string}`;
    const before = await publicClient.readContract({
      address: token as `0x${string}`,
      abi: cashTokenAbi,
      functionName: 'balanceOf',
      args: [to],
    });
    const hash = await issuer.writeContract({
      address: token as `0x${string}`,
      abi: cashTokenAbi,
      functionName: 'mint',
      args: [to, 12_345n],
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');

    const [transfer] = parseEventLogs({ abi: cashTokenAbi, eventName: 'Transfer', logs: receipt.logs });
    expect(transfer?.args).toEqual({ from: '0x0000000000000000000000000000000000000000', to, value: 12_345n });
    // And independently of the receipt: the node's log index returns the same event.
    const logs = await publicClient.getContractEvents({
      address: token as `0x${string}`,
      abi: cashTokenAbi,
      eventName: 'Transfer',
      fromBlock: receipt.blockNumber,
      toBlock: receipt.blockNumber,
    });
    expect(logs.map((l) => l.transactionHash)).toContain(hash);
    const after = await publicClient.readContract({
      address: token as `0x${string}`,
      abi: cashTokenAbi,
      functionName: 'balanceOf',
      args: [to],
    });
    expect(after - before).toBe(12_345n);
  });
});
