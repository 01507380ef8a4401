/**
 * Deploys the cash contracts to the freshly started anvil from the first mnemonic account, which
 * also receives the token's admin and issuer roles.
 */
import { join, resolve } from 'node:path';
import { deployCashContracts } from '@dvp/cash-contracts';
import { createWalletClient, defineChain, http } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import type { NetworkConfig } from './config';
import type { EvmState } from './state';

export async function deployCash(
  rpcUrl: string,
  cfg: NetworkConfig['evm'],
): Promise<Pick<EvmState, 'contracts' | 'abis'>> {
  const chain = defineChain({
    id: cfg.chainId,
    name: 'local',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const wallet = createWalletClient({ account: mnemonicToAccount(cfg.mnemonic), chain, transport: http(rpcUrl) });
  const deployed = await deployCashContracts(wallet, { name: 'Tokenized Cash', symbol: 'CASH', decimals: 2 });
  const evmPackage = resolve(__dirname, '..', '..', 'chaincode', 'evm');
  return {
    contracts: { CashToken: deployed.token, HashedTimelock: deployed.htlc, SettlementEscrow: deployed.escrow },
    abis: { module: '@dvp/cash-contracts', artifactsDir: join(evmPackage, 'artifacts') },
  };
}
