/**
 * Connects the gateway process to its EVM node: reads the signing key, checks the node's chain id,
 * reads the cash token's symbol (the currency reported, unless configured), then builds the
 * {@link createEvmConnector | EVM connector} once the store is open. The only file of the process that dials the node.
 */
import { readFileSync } from 'node:fs';
import { cashTokenAbi } from '@dvp/cash-contracts';
import { createPublicClient, defineChain, getAddress, http, type Address, type Chain } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ConfigError, type EvmConfig } from '../../config/config';
import type { CheckpointStore } from '../connector';
import { createEvmConnector, type EvmLedgerConnector } from './connector';

/** The EVM section the process needs (the config schema leaves parts optional for the HTTP layer). */
export type EvmLedgerConfig = Required<EvmConfig>;

/** A checked EVM node: the cash token, the currency it stands for, and the connector's factory. */
export interface EvmNode {
  readonly token: string;
  readonly currency: string;
  /** The connector, with its followers' checkpoints in `followers`. */
  connect(followers: CheckpointStore): EvmLedgerConnector;
}

/** The EVM section with everything the process needs, or a {@link ConfigError} naming what lacks. */
export function requireEvm(evm: EvmConfig | undefined): Omit<EvmLedgerConfig, 'currency'> & EvmConfig {
  const problems = [
    ...(evm ? [] : ['evm: is required to run the gateway process (rpcUrl, keyFile, chainId, contracts)']),
    ...(evm && evm.chainId === undefined ? ['evm.chainId: is required to run the gateway process'] : []),
    ...(evm && evm.contracts === undefined ? ['evm.contracts: is required to run the gateway process'] : []),
  ];
  if (problems.length) throw new ConfigError(problems);
  return evm as Omit<EvmLedgerConfig, 'currency'> & EvmConfig;
}

function readEvmKey(file: string): `0x${string}` {
  const text = readFileSync(file, 'utf8').trim();
  const hex = text.startsWith('0x') ? text : `0x${text}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new ConfigError([`evm.keyFile: '${file}' does not hold a 32-byte hex private key`]);
  }
  return hex as `0x${string}`;
}

/** Checks the node's chain id and reads the token's symbol (the currency reported). */
async function probeChain(evm: Omit<EvmLedgerConfig, 'currency'>, chain: Chain): Promise<string> {
  const client = createPublicClient({ chain, transport: http(evm.rpcUrl, { retryCount: 0, timeout: 10_000 }) });
  const id = await client.getChainId().catch((err: unknown) => {
    throw new Error(`EVM node ${evm.rpcUrl} did not answer: ${(err as Error).message}`, { cause: err });
  });
  if (id !== evm.chainId) throw new ConfigError([`evm.chainId: is ${evm.chainId} but ${evm.rpcUrl} reports ${id}`]);
  return client.readContract({ address: getAddress(evm.contracts.token), abi: cashTokenAbi, functionName: 'symbol' });
}

/** Checks the node (chain id, token symbol); throws a {@link ConfigError} on a mismatch. */
export async function probeEvmNode(config: EvmConfig | undefined): Promise<EvmNode> {
  const evm = requireEvm(config);
  const account = privateKeyToAccount(readEvmKey(evm.keyFile));
  const chain = defineChain({
    id: evm.chainId,
    name: `evm-${evm.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [evm.rpcUrl] } },
  });
  const symbol = await probeChain(evm, chain);
  const contracts = {
    htlc: getAddress(evm.contracts.htlc) as Address,
    escrow: getAddress(evm.contracts.escrow) as Address,
  };
  return {
    token: evm.contracts.token,
    currency: evm.currency ?? symbol,
    connect: (followers) => createEvmConnector({ rpcUrl: evm.rpcUrl, chain, account, contracts, followers }),
  };
}
