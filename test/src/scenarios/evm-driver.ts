/**
 * {@link LedgerDriver} for the cash contracts on a real anvil node started by the driver.
 * `HashedTimelock` and `SettlementEscrow` are deployed once; every `reset()` deploys a fresh
 * `CashToken` (the scenario's one asset) and mints to `alice`. Trade id strings are hashed to
 * bytes32 with keccak256 and the contract derives each escrow's id from the depositor and the
 * trade; ledger time is the block timestamp, moved with anvil's `evm_setNextBlockTimestamp`.
 * A notary's approval is an EIP-712 signature the driver keeps per escrow and passes with the
 * escrow's releases.
 */
import {
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  isHex,
  keccak256,
  parseEventLogs,
  stringToHex,
  zeroAddress,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type Log,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import {
  cashTokenAbi,
  cashTokenBytecode,
  decodeCashRevert,
  deployCashContracts,
  hashedTimelockAbi,
  releaseApprovalTypedData,
  settlementEscrowAbi,
  type CashDeployment,
  type CashErrorCode,
} from '@dvp/cash-contracts';
import { anvilAccount, startAnvil, type Anvil } from '@dvp/cash-contracts/testing';
import { ScenarioError } from './driver';
import type { Actor, DepositParams, LedgerDriver, LockParams, ScenarioErrorCode, Totals } from './driver';

/** Contract codes → scenario codes; exhaustive, so a new contract code must be mapped here. */
const CODES: Readonly<Record<CashErrorCode, ScenarioErrorCode>> = {
  INSUFFICIENT_BALANCE: 'INSUFFICIENT_BALANCE',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  BAD_PREIMAGE: 'BAD_PREIMAGE',
  LOCK_EXPIRED: 'LOCK_EXPIRED',
  LOCK_NOT_EXPIRED: 'LOCK_NOT_EXPIRED',
  NOT_AUTHORIZED: 'NOT_AUTHORIZED',
  ALREADY_SETTLED: 'ALREADY_SETTLED',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  NOT_FOUND: 'NOT_FOUND',
  EXCEEDS_ESCROW: 'EXCEEDS_ESCROW',
  NOT_APPROVED: 'NOT_APPROVED',
};

/** anvil account index per actor; 0 is the issuer, who holds nothing during a scenario. */
const ACTOR_INDEX: Readonly<Record<Actor, number>> = { alice: 1, bob: 2, carol: 3, manager: 4, notary: 5 };
const ACTORS = Object.keys(ACTOR_INDEX) as Actor[];
const ZERO32: Hex = `0x${'00'.repeat(32)}`;
const MAX_ALLOWANCE = 2n ** 256n - 1n;

type Wallet = WalletClient<Transport, Chain, Account>;

/** A business id as bytes32: used as is when already a 32-byte hex (a lock or escrow id), else hashed. */
function toBytes32(id: string): Hex {
  return isHex(id) && id.length === 66 ? id : keccak256(stringToHex(id));
}

class EvmDriver implements LedgerDriver {
  readonly name = 'cash contracts (Solidity on anvil)';
  readonly #anvil: Anvil;
  readonly #client: PublicClient<Transport, Chain>;
  readonly #issuer: Wallet;
  readonly #wallets: Readonly<Record<Actor, Wallet>>;
  readonly #contracts: CashDeployment;
  #token: Address | undefined;
  #nextTime: bigint | undefined;
  /**
   * The notary's latest signature per escrow, passed with every release of it until the next
   * approval replaces it: a mismatched amount or a used approval is the contract's to reject.
   */
  readonly #approvals = new Map<Hex, Hex>();

  constructor(anvil: Anvil, issuer: Wallet, wallets: Record<Actor, Wallet>, contracts: CashDeployment) {
    this.#anvil = anvil;
    this.#client = createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl), pollingInterval: 20 });
    this.#issuer = issuer;
    this.#wallets = wallets;
    this.#contracts = contracts;
  }

  get #ready(): Address {
    if (this.#token === undefined) throw new Error('reset() first');
    return this.#token;
  }

  #address(who: Actor): Address {
    return this.#wallets[who].account.address;
  }

  /** Sends one transaction and waits for it; a revert becomes a {@link ScenarioError}. */
  async #send(wallet: Wallet, call: Parameters<Wallet['writeContract']>[0]): Promise<readonly Log[]> {
    let hash: Hex;
    try {
      hash = await wallet.writeContract(call);
    } catch (err) {
      const revert = decodeCashRevert(err);
      if (revert === undefined) throw err;
      throw new ScenarioError(CODES[revert.code], `${revert.name}(${revert.args.join(', ')})`, { cause: err });
    }
    const receipt = await this.#client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted on chain`);
    this.#nextTime = undefined;
    return receipt.logs;
  }

  async reset(initial: bigint): Promise<void> {
    const hash = await this.#issuer.deployContract({
      abi: cashTokenAbi,
      bytecode: cashTokenBytecode,
      args: ['Scenario Cash', 'SCASH', 2, this.#issuer.account.address, false],
    });
    const receipt = await this.#client.waitForTransactionReceipt({ hash });
    if (!receipt.contractAddress) throw new Error('CashToken deployment failed');
    const token = getAddress(receipt.contractAddress);
    this.#token = token;
    this.#nextTime = undefined;
    this.#approvals.clear();
    await this.#send(this.#issuer, {
      address: token,
      abi: cashTokenAbi,
      functionName: 'mint',
      args: [this.#address('alice'), initial],
    });
    for (const who of ACTORS) {
      for (const spender of [this.#contracts.htlc, this.#contracts.escrow]) {
        await this.#send(this.#wallets[who], {
          address: token,
          abi: cashTokenAbi,
          functionName: 'approve',
          args: [spender, MAX_ALLOWANCE],
        });
      }
    }
  }

  async now(): Promise<bigint> {
    return this.#nextTime ?? (await this.#client.getBlock({ blockTag: 'latest' })).timestamp;
  }

  async setTime(time: bigint): Promise<void> {
    await this.#anvil.testClient.setNextBlockTimestamp({ timestamp: time });
    this.#nextTime = time;
  }

  async freeBalance(who: Actor): Promise<bigint> {
    return this.#client.readContract({
      address: this.#ready,
      abi: cashTokenAbi,
      functionName: 'balanceOf',
      args: [this.#address(who)],
    });
  }

  async totals(): Promise<Totals> {
    const token = this.#ready;
    let free = await this.#client.readContract({
      address: token,
      abi: cashTokenAbi,
      functionName: 'balanceOf',
      args: [this.#issuer.account.address],
    });
    for (const who of ACTORS) free += await this.freeBalance(who);
    const [locked, escrowed, supply] = await Promise.all([
      this.#client.readContract({
        address: this.#contracts.htlc,
        abi: hashedTimelockAbi,
        functionName: 'totalLocked',
        args: [token],
      }),
      this.#client.readContract({
        address: this.#contracts.escrow,
        abi: settlementEscrowAbi,
        functionName: 'totalEscrowed',
        args: [token],
      }),
      this.#client.readContract({ address: token, abi: cashTokenAbi, functionName: 'totalSupply' }),
    ]);
    return { free, locked, escrowed, supply };
  }

  async lock(sender: Actor, p: LockParams): Promise<string> {
    const logs = await this.#send(this.#wallets[sender], {
      address: this.#contracts.htlc,
      abi: hashedTimelockAbi,
      functionName: 'lock',
      args: [this.#address(p.receiver), this.#ready, p.amount, p.hashlock, p.expiry],
    });
    const [locked] = parseEventLogs({ abi: hashedTimelockAbi, eventName: 'Locked', logs: [...logs] });
    if (locked === undefined) throw new Error('lock mined without a Locked event');
    return locked.args.lockId;
  }

  async claim(caller: Actor, lockId: string, preimage: Hex): Promise<void> {
    await this.#send(this.#wallets[caller], {
      address: this.#contracts.htlc,
      abi: hashedTimelockAbi,
      functionName: 'claim',
      args: [toBytes32(lockId), preimage],
    });
  }

  async refund(caller: Actor, lockId: string): Promise<void> {
    await this.#send(this.#wallets[caller], {
      address: this.#contracts.htlc,
      abi: hashedTimelockAbi,
      functionName: 'refund',
      args: [toBytes32(lockId)],
    });
  }

  async deposit(depositor: Actor, p: DepositParams): Promise<string> {
    const logs = await this.#send(this.#wallets[depositor], {
      address: this.#contracts.escrow,
      abi: settlementEscrowAbi,
      functionName: 'deposit',
      args: [
        toBytes32(p.tradeId),
        this.#ready,
        p.amount,
        this.#address(p.beneficiary),
        this.#address(p.controller),
        p.expiry,
        p.hashlock ?? ZERO32,
        p.notary === undefined ? zeroAddress : this.#address(p.notary),
      ],
    });
    const [deposited] = parseEventLogs({ abi: settlementEscrowAbi, eventName: 'Deposited', logs: [...logs] });
    if (deposited === undefined) throw new Error('deposit mined without a Deposited event');
    return deposited.args.escrowId;
  }

  /** Signs the notary's EIP-712 `Release(escrowId, amount, nonce)` over the escrow's current nonce. */
  async approve(notary: Actor, escrowId: string, amount: bigint): Promise<void> {
    const id = toBytes32(escrowId);
    const { releaseNonce: nonce } = await this.#client.readContract({
      address: this.#contracts.escrow,
      abi: settlementEscrowAbi,
      functionName: 'getEscrow',
      args: [id],
    });
    const typedData = releaseApprovalTypedData(this.#contracts.escrow, this.#anvil.chain.id, {
      escrowId: id,
      amount,
      nonce,
    });
    this.#approvals.set(id, await this.#wallets[notary].signTypedData(typedData));
  }

  async release(caller: Actor, escrowId: string, amount: bigint, preimage?: Hex): Promise<void> {
    const id = toBytes32(escrowId);
    const approval = this.#approvals.get(id) ?? '0x';
    await this.#send(
      this.#wallets[caller],
      preimage === undefined
        ? {
            address: this.#contracts.escrow,
            abi: settlementEscrowAbi,
            functionName: 'release',
            args: [id, amount, approval],
          }
        : {
            address: this.#contracts.escrow,
            abi: settlementEscrowAbi,
            functionName: 'releaseWithPreimage',
            args: [id, amount, preimage, approval],
          },
    );
  }

  async returnFunds(caller: Actor, escrowId: string): Promise<void> {
    await this.#send(this.#wallets[caller], {
      address: this.#contracts.escrow,
      abi: settlementEscrowAbi,
      functionName: 'returnFunds',
      args: [toBytes32(escrowId)],
    });
  }

  async close(): Promise<void> {
    await this.#anvil.stop();
  }
}

/** Starts anvil on a free port, deploys the HTLC and escrow, and returns the driver. */
export async function createEvmDriver(): Promise<LedgerDriver> {
  const anvil = await startAnvil({ chainId: 31337 });
  try {
    const transport = http(anvil.rpcUrl);
    const wallet = (index: number): Wallet =>
      createWalletClient({ account: anvilAccount(index), chain: anvil.chain, transport, pollingInterval: 20 });
    const issuer = wallet(0);
    const wallets = Object.fromEntries(ACTORS.map((a) => [a, wallet(ACTOR_INDEX[a])])) as Record<Actor, Wallet>;
    const contracts = await deployCashContracts(issuer);
    return new EvmDriver(anvil, issuer, wallets, contracts);
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

/** Stops the driver's anvil node; pass as the table's teardown. */
export async function closeEvmDriver(driver: LedgerDriver): Promise<void> {
  if (driver instanceof EvmDriver) await driver.close();
}
