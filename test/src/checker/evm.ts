/**
 * One ERC-20 token (the cash token, or a securities stand-in) on the EVM node, read straight
 * from the chain with viem at one block: its holders and its mints and burns from the token's
 * `Transfer` logs since block 0, every balance and `totalSupply` at that block, and every HTLC
 * lock and escrow of the token from the contracts' `Locked` and `Deposited` logs, each read back
 * with `getLock` / `getEscrow`. Plain JSON-RPC (`eth_getLogs`, `eth_call`): no anvil-only method.
 */
import { hashedTimelockAbi, lockState, escrowState, settlementEscrowAbi, cashTokenAbi } from '@dvp/cash-contracts';
import { createPublicClient, getAddress, http, parseAbiItem, zeroAddress, type Address, type PublicClient } from 'viem';
import type { NetworkState } from '../../../network/src/state';
import { hashlockKey, sum, type AssetReading, type LegRecord } from './records';

const TRANSFER = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)');
const LOCKED = parseAbiItem(
  'event Locked(bytes32 indexed lockId, bytes32 indexed hashlock, address indexed receiver, address sender, address token, uint256 amount, uint64 expiry)',
);
const DEPOSITED = parseAbiItem(
  'event Deposited(bytes32 indexed escrowId, bytes32 indexed tradeId, address indexed depositor, address token, uint256 amount, address beneficiary, address controller, uint64 expiry, bytes32 hashlock, address notary)',
);

interface Chain {
  readonly client: PublicClient;
  readonly blockNumber: bigint;
  readonly htlc: Address;
  readonly escrow: Address;
}

/** Mints, burns and every address that ever received the token, up to the block. */
async function transfers(chain: Chain, token: Address) {
  const logs = await chain.client.getLogs({
    address: token,
    event: TRANSFER,
    fromBlock: 0n,
    toBlock: chain.blockNumber,
  });
  const holders = new Set<Address>();
  let minted = 0n;
  let burned = 0n;
  for (const { args } of logs) {
    const { from, to, value } = args as { from: Address; to: Address; value: bigint };
    if (from === zeroAddress) minted += value;
    if (to === zeroAddress) burned += value;
    else holders.add(getAddress(to));
  }
  return { holders: [...holders], supply: minted - burned };
}

async function lockRecords(chain: Chain, token: Address): Promise<LegRecord[]> {
  const logs = await chain.client.getLogs({
    address: chain.htlc,
    event: LOCKED,
    fromBlock: 0n,
    toBlock: chain.blockNumber,
  });
  const ofToken = logs.filter((l) => getAddress(l.args.token as Address) === token);
  return Promise.all(
    ofToken.map(async ({ args }) => {
      const lockId = args.lockId as `0x${string}`;
      const l = await chain.client.readContract({
        address: chain.htlc,
        abi: hashedTimelockAbi,
        functionName: 'getLock',
        args: [lockId],
        blockNumber: chain.blockNumber,
      });
      return {
        ledger: 'evm',
        kind: 'htlc',
        id: lockId,
        key: hashlockKey(l.hashlock),
        deposited: l.amount,
        delivered: l.state === lockState.Claimed ? l.amount : 0n,
        returned: l.state === lockState.Refunded ? l.amount : 0n,
        open: l.state === lockState.Locked,
      } satisfies LegRecord;
    }),
  );
}

async function escrowRecords(chain: Chain, token: Address): Promise<LegRecord[]> {
  const logs = await chain.client.getLogs({
    address: chain.escrow,
    event: DEPOSITED,
    fromBlock: 0n,
    toBlock: chain.blockNumber,
  });
  const ofToken = logs.filter((l) => getAddress(l.args.token as Address) === token);
  return Promise.all(
    ofToken.map(async ({ args }) => {
      const escrowId = args.escrowId as `0x${string}`;
      const e = await chain.client.readContract({
        address: chain.escrow,
        abi: settlementEscrowAbi,
        functionName: 'getEscrow',
        args: [escrowId],
        blockNumber: chain.blockNumber,
      });
      return {
        ledger: 'evm',
        kind: 'escrow',
        id: escrowId,
        key: hashlockKey(e.tradeId),
        deposited: e.amount,
        delivered: e.released,
        // A return pays out the whole remainder without counting it as released.
        returned: e.state === escrowState.Returned ? e.amount - e.released : 0n,
        open: e.state === escrowState.Held,
      } satisfies LegRecord;
    }),
  );
}

/** The contracts' own running totals of the token against what they hold. */
async function contractProblems(chain: Chain, asset: string, token: Address, held: Map<Address, bigint>) {
  const read = (address: Address, abi: typeof hashedTimelockAbi | typeof settlementEscrowAbi, fn: string) =>
    chain.client.readContract({
      address,
      abi,
      functionName: fn,
      args: [token],
      blockNumber: chain.blockNumber,
    } as never) as Promise<bigint>;
  const [totalLocked, totalEscrowed] = await Promise.all([
    read(chain.htlc, hashedTimelockAbi, 'totalLocked'),
    read(chain.escrow, settlementEscrowAbi, 'totalEscrowed'),
  ]);
  const out: string[] = [];
  const htlcHolds = held.get(chain.htlc) ?? 0n;
  const escrowHolds = held.get(chain.escrow) ?? 0n;
  if (totalLocked !== htlcHolds) out.push(`${asset}: totalLocked is ${totalLocked}, the HTLC holds ${htlcHolds}`);
  if (totalEscrowed !== escrowHolds) {
    out.push(`${asset}: totalEscrowed is ${totalEscrowed}, the escrow contract holds ${escrowHolds}`);
  }
  return out;
}

/** Opens the chain at its latest block. */
export async function openEvmChain(net: NetworkState): Promise<Chain> {
  const client = createPublicClient({ transport: http(net.evm.rpcUrl) }) as PublicClient;
  return {
    client,
    blockNumber: await client.getBlockNumber(),
    htlc: getAddress(net.evm.contracts['HashedTimelock'] as string),
    escrow: getAddress(net.evm.contracts['SettlementEscrow'] as string),
  };
}

/** Reads `token` at the chain's block. */
export async function readEvmToken(chain: Chain, tokenAddress: string): Promise<AssetReading> {
  const token = getAddress(tokenAddress);
  const asset = `evm ${token}`;
  const { holders, supply } = await transfers(chain, token);
  const balances = await Promise.all(
    holders.map(async (h) => {
      const balance = await chain.client.readContract({
        address: token,
        abi: cashTokenAbi,
        functionName: 'balanceOf',
        args: [h],
        blockNumber: chain.blockNumber,
      });
      return [h, balance] as const;
    }),
  );
  const held = new Map(balances);
  const [reportedSupply, locks, escrows, problems] = await Promise.all([
    chain.client.readContract({
      address: token,
      abi: cashTokenAbi,
      functionName: 'totalSupply',
      blockNumber: chain.blockNumber,
    }),
    lockRecords(chain, token),
    escrowRecords(chain, token),
    contractProblems(chain, asset, token, held),
  ]);
  const contracts = new Set([chain.htlc, chain.escrow]);
  return {
    asset,
    supply,
    reportedSupply,
    free: sum(balances.filter(([h]) => !contracts.has(h)).map(([, b]) => b)),
    locked: held.get(chain.htlc) ?? 0n,
    escrowed: held.get(chain.escrow) ?? 0n,
    records: [...locks, ...escrows],
    problems,
  };
}
