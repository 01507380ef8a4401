/**
 * Test-only: a real anvil with the cash contracts deployed and a funded gateway signer, for the
 * EVM connector tests. Never use in product code.
 */
import { deployCashContracts, cashTokenAbi, type CashDeployment } from '@dvp/cash-contracts';
import { anvilAccount, startAnvil, type Anvil } from '@dvp/cash-contracts/testing';
import {
  createPublicClient,
  createWalletClient,
  http,
  type Account,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import type { HDAccount } from 'viem/accounts';

/** A running anvil with the contracts; `stop()` ends the node. */
export interface EvmFixture {
  readonly anvil: Anvil;
  readonly deployment: CashDeployment;
  readonly client: PublicClient<Transport, Chain>;
  /** Issuer/admin wallet (account 0). */
  readonly admin: WalletClient<Transport, Chain, Account>;
  /** The gateway's signer (account 1), funded with `funds` cash. */
  readonly signer: HDAccount;
  /** A counterparty (account 2). */
  readonly receiver: HDAccount;
  /** Mints `amount` to `to` and waits for the receipt. */
  mint(to: `0x${string}`, amount: bigint): Promise<void>;
  /** Latest block timestamp. */
  now(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts anvil, deploys the cash contracts and mints `funds` to the gateway signer. */
export async function startEvmFixture(funds: bigint): Promise<EvmFixture> {
  const anvil = await startAnvil();
  try {
    const transport = http(anvil.rpcUrl);
    const client = createPublicClient({ chain: anvil.chain, transport, pollingInterval: 20 });
    const admin = createWalletClient({ account: anvilAccount(0), chain: anvil.chain, transport, pollingInterval: 20 });
    const deployment = await deployCashContracts(admin);
    const mint = async (to: `0x${string}`, amount: bigint): Promise<void> => {
      const hash = await admin.writeContract({
        address: deployment.token,
        abi: cashTokenAbi,
        functionName: 'mint',
        args: [to, amount],
      });
      await client.waitForTransactionReceipt({ hash });
    };
    const signer = anvilAccount(1);
    await mint(signer.address, funds);
    const now = async (): Promise<number> => Number((await client.getBlock()).timestamp);
    return { anvil, deployment, client, admin, signer, receiver: anvilAccount(2), mint, now, stop: () => anvil.stop() };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}
