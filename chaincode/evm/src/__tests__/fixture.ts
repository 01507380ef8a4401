/**
 * Shared set-up for the contract tests: one anvil per test file, the three contracts deployed
 * once, a snapshot reverted before every test, and a gas table printed once per file.
 */
import {
  createPublicClient,
  getAddress,
  createWalletClient,
  http,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem';
import { cashTokenAbi, decodeCashRevert, deployCashContracts, type CashDeployment, type CashErrorName } from '..';
import {
  anvilAccount,
  feeOnTransferTokenAbi,
  feeOnTransferTokenBytecode,
  reentrantTokenAbi,
  reentrantTokenBytecode,
  startAnvil,
  type Anvil,
} from '../testing';

export type Role = 'admin' | 'alice' | 'bob' | 'carol' | 'notary';
/** anvil mines instantly; poll fast so receipts return at once and no timer outlives the tests. */
const POLL_MS = 20;
const ROLE_INDEX: Record<Role, number> = { admin: 0, alice: 1, bob: 2, carol: 3, notary: 4 };

export interface Fixture {
  readonly anvil: Anvil;
  readonly client: PublicClient<Transport, Chain>;
  readonly wallets: Record<Role, WalletClient<Transport, Chain, Account>>;
  readonly addr: Record<Role, Address>;
  readonly deployment: CashDeployment;
  /** Sends a contract call from `who` and returns the successful receipt (throws on revert). */
  send<const abi extends Abi, fn extends ContractFunctionName<abi, 'nonpayable'>>(
    who: Role,
    call: {
      address: Address;
      abi: abi;
      functionName: fn;
      args: ContractFunctionArgs<abi, 'nonpayable', fn>;
    },
    gasLabel?: string,
  ): Promise<TransactionReceipt>;
  /** Latest block timestamp. */
  now(): Promise<bigint>;
  /** The next transaction is mined at exactly `t`. */
  setNextTime(t: bigint): Promise<void>;
}

/** Gas used per labelled operation (first observation wins), printed by {@link printGasTable}. */
const gasTable = new Map<string, bigint>();

export function printGasTable(title: string): void {
  if (gasTable.size === 0) return;
  const rows = [...gasTable].map(([op, gas]) => `  ${op.padEnd(44)} ${gas.toString().padStart(9)}`);
  console.log(`${title} — gas used per operation\n${rows.join('\n')}`);
}

export async function setupFixture(options: Readonly<{ allowlist?: boolean }> = {}): Promise<Fixture> {
  const anvil = await startAnvil();
  const transport = http(anvil.rpcUrl);
  const client = createPublicClient({ chain: anvil.chain, transport, pollingInterval: POLL_MS });
  const wallets = {} as Record<Role, WalletClient<Transport, Chain, Account>>;
  const addr = {} as Record<Role, Address>;
  for (const [role, index] of Object.entries(ROLE_INDEX) as [Role, number][]) {
    const account = anvilAccount(index);
    wallets[role] = createWalletClient({ account, chain: anvil.chain, transport, pollingInterval: POLL_MS });
    addr[role] = account.address;
  }
  const deployment = await deployCashContracts(wallets.admin, { allowlist: options.allowlist ?? false });
  const fixture: Fixture = {
    anvil,
    client,
    wallets,
    addr,
    deployment,
    async send(who, call, gasLabel) {
      const hash = await wallets[who].writeContract(call as never);
      const receipt = await client.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success') throw new Error(`${String(call.functionName)} reverted on chain`);
      if (gasLabel !== undefined && !gasTable.has(gasLabel)) gasTable.set(gasLabel, receipt.gasUsed);
      return receipt;
    },
    async now() {
      return (await client.getBlock()).timestamp;
    },
    async setNextTime(t) {
      await anvil.testClient.setNextBlockTimestamp({ timestamp: t });
    },
  };
  return fixture;
}

/** Mints to each holder and approves both the HTLC and the escrow for everything. */
export async function fund(f: Fixture, holders: Partial<Record<Role, bigint>>): Promise<void> {
  const { token, htlc, escrow } = f.deployment;
  for (const [who, amount] of Object.entries(holders) as [Role, bigint][]) {
    await f.send('admin', { address: token, abi: cashTokenAbi, functionName: 'mint', args: [f.addr[who], amount] });
    for (const spender of [htlc, escrow]) {
      await f.send(who, { address: token, abi: cashTokenAbi, functionName: 'approve', args: [spender, 2n ** 255n] });
    }
  }
}

/**
 * Deploys one of the misbehaving test tokens from alice, mints `amount` to her and approves
 * `spender` for it. Returns the token's address.
 */
export async function deployMisbehavingToken(
  f: Fixture,
  kind: 'fee-on-transfer' | 'reentrant',
  spender: Address,
  amount: bigint,
): Promise<Address> {
  const { abi, bytecode } =
    kind === 'fee-on-transfer'
      ? { abi: feeOnTransferTokenAbi, bytecode: feeOnTransferTokenBytecode }
      : { abi: reentrantTokenAbi, bytecode: reentrantTokenBytecode };
  const hash = await f.wallets.alice.deployContract({ abi, bytecode });
  const address = getAddress((await f.client.waitForTransactionReceipt({ hash })).contractAddress!);
  // Both mocks share the ERC-20 mint/approve surface, so one ABI serves for these two calls.
  await f.send('alice', { address, abi: reentrantTokenAbi, functionName: 'mint', args: [f.addr.alice, amount] });
  await f.send('alice', { address, abi: reentrantTokenAbi, functionName: 'approve', args: [spender, amount] });
  return address;
}

/** Runs each test against a clean copy of the chain as it was after `beforeAll`. */
export function isolateEachTest(get: () => Fixture): void {
  let snapshot: Hex | undefined;
  beforeEach(async () => {
    snapshot = await get().anvil.testClient.snapshot();
  });
  afterEach(async () => {
    if (snapshot !== undefined) await get().anvil.testClient.revert({ id: snapshot });
  });
}

/** Asserts that `promise` rejects with exactly this custom error and these arguments. */
export async function expectRevert(
  promise: Promise<unknown>,
  name: CashErrorName,
  args: readonly unknown[],
): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected ${name} but the call succeeded`);
  const decoded = decodeCashRevert(error);
  if (decoded === undefined) throw error;
  expect({ name: decoded.name, args: decoded.args }).toEqual({ name, args });
}

export const preimageOf = (byte: number): Hex => `0x${byte.toString(16).padStart(2, '0').repeat(32)}`;
