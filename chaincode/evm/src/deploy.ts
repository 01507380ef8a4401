import {
  getAddress,
  publicActions,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type Transport,
  type WalletClient,
} from 'viem';
import { cashTokenAbi, cashTokenBytecode } from './generated/cash-token';
import { hashedTimelockAbi, hashedTimelockBytecode } from './generated/hashed-timelock';
import { settlementEscrowAbi, settlementEscrowBytecode } from './generated/settlement-escrow';

/** Addresses of one deployment of the cash contracts. */
export interface CashDeployment {
  readonly token: Address;
  readonly htlc: Address;
  readonly escrow: Address;
}

/** Token parameters; everything defaults to a 2-decimal token administered by the deployer. */
export interface CashDeployOptions {
  readonly name?: string;
  readonly symbol?: string;
  /** Decimal places of the smallest unit; default 2 (cents). */
  readonly decimals?: number;
  /** Receives admin, issuer and allowlist-admin roles; default the deploying account. */
  readonly admin?: Address;
  /**
   * Enforce the holder allowlist. The HTLC and escrow are then permitted automatically when the
   * deployer is the admin; otherwise the admin must permit them before use.
   */
  readonly allowlist?: boolean;
}

type DeployWallet = WalletClient<Transport, Chain, Account>;

/**
 * Deploys CashToken, HashedTimelock and SettlementEscrow from `wallet` and waits for each
 * receipt. Throws if any deployment fails.
 */
export async function deployCashContracts(
  wallet: DeployWallet,
  options: Readonly<CashDeployOptions> = {},
): Promise<CashDeployment> {
  const client = wallet.extend(publicActions);
  const admin = options.admin ?? wallet.account.address;
  const allowlist = options.allowlist ?? false;
  const mined = async (hash: Hex): Promise<Address> => {
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success' || !receipt.contractAddress) {
      throw new Error(`deployment ${hash} failed (status ${receipt.status})`);
    }
    return getAddress(receipt.contractAddress);
  };

  const token = await mined(
    await client.deployContract({
      abi: cashTokenAbi,
      bytecode: cashTokenBytecode,
      args: [options.name ?? 'Cash', options.symbol ?? 'CASH', options.decimals ?? 2, admin, allowlist],
    }),
  );
  const htlc = await mined(await client.deployContract({ abi: hashedTimelockAbi, bytecode: hashedTimelockBytecode }));
  const escrow = await mined(
    await client.deployContract({ abi: settlementEscrowAbi, bytecode: settlementEscrowBytecode }),
  );

  if (allowlist && admin.toLowerCase() === wallet.account.address.toLowerCase()) {
    for (const holder of [htlc, escrow]) {
      const hash = await client.writeContract({
        address: token,
        abi: cashTokenAbi,
        functionName: 'setPermittedHolder',
        args: [holder, true],
      });
      await client.waitForTransactionReceipt({ hash });
    }
  }
  return { token, htlc, escrow };
}
