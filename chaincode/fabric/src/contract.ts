/**
 * The securities contract: thin transaction functions over the domain modules. Every call goes
 * through {@link SecuritiesContract.beforeTransaction}, which resolves the caller and enforces the
 * access policy; transactions are documented with args, events and errors in README.md.
 */
import { Contract, Info, Param, Returns, Transaction } from 'fabric-contract-api';

import { history, positions, supplyBreakdown } from './audit';
import { canonicalJson } from './canonical';
import { SecuritiesContext } from './context';
import { fail } from './errors';
import { escrowApprove, escrowDeposit, escrowRelease, escrowReturn, getEscrow } from './escrow';
import { approvePolicy, getPolicyProposal, proposePolicy } from './governance';
import { createInstrument, issue, openAccount, redeem, transfer } from './holdings';
import { claimHtlc, getHtlc, lockHtlc, refundHtlc } from './htlc';
import { callerOf } from './identity';
import { requireIsin } from './isin';
import { Ledger } from './ledger';
import {
  Account,
  Escrow,
  HistoryEntry,
  Holding,
  HtlcLock,
  Instrument,
  PolicyProposal,
  Positions,
  record,
  SupplyBreakdown,
} from './model';
import type { AccessPolicy, ChaincodeConfig } from './policy';
import { authorize, loadConfig, parsePolicy } from './policy';

/** Securities: instruments, holdings, HTLC and escrow, with role-based access. */
@Info({ title: 'SecuritiesContract', description: 'Tokenized securities with HTLC and escrow for cross-network DvP' })
export class SecuritiesContract extends Contract {
  readonly #config: ChaincodeConfig;

  /** Fabric constructs the contract without arguments; the configuration then comes from the environment. */
  constructor(config?: ChaincodeConfig) {
    super('securities');
    this.#config = config ?? loadConfig(process.env);
  }

  override createContext(): SecuritiesContext {
    return new SecuritiesContext();
  }

  override async beforeTransaction(ctx: SecuritiesContext): Promise<void> {
    const caller = callerOf(ctx);
    const ledger = new Ledger(ctx);
    ctx.bind(caller, ledger);
    const { fcn } = ctx.stub.getFunctionAndParameters();
    authorize(await this.#policy(ledger), caller, fcn.slice(fcn.indexOf(':') + 1));
  }

  override async unknownTransaction(ctx: SecuritiesContext): Promise<void> {
    fail('NOT_FOUND', 'no such transaction', { fcn: ctx.stub.getFunctionAndParameters().fcn });
  }

  async #policy(ledger: Ledger): Promise<AccessPolicy> {
    const stored = await ledger.readRaw('config', 'policy');
    return stored === undefined ? this.#config.bootstrapPolicy : parsePolicy(stored);
  }

  // ---- governance ----

  /** Proposes a new access policy; the caller's MSP (a governor) approves it with the proposal. */
  @Transaction()
  @Param(
    'policyJson',
    'string',
    'AccessPolicy JSON: {"public":[...],"roles":{"<role>":[...]},"roleMsps"?:{...},"governors"?:[...]}',
  )
  @Returns('PolicyProposal')
  async ProposePolicy(ctx: SecuritiesContext, policyJson: string): Promise<PolicyProposal> {
    return proposePolicy(ctx, await this.#policy(ctx.ledger), policyJson);
  }

  /** Approves a pending proposal for the caller's MSP; the last governor's approval adopts it. */
  @Transaction()
  @Param('proposalId', 'string', 'SHA-256 hex of the proposed policy, as ProposePolicy returned it')
  @Returns('PolicyProposal')
  async ApprovePolicy(ctx: SecuritiesContext, proposalId: string): Promise<PolicyProposal> {
    return approvePolicy(ctx, await this.#policy(ctx.ledger), proposalId);
  }

  /** A pending policy proposal, with the governors still to approve it. */
  @Transaction(false)
  @Param('proposalId', 'string', 'SHA-256 hex of the proposed policy')
  @Returns('PolicyProposal')
  async GetPolicyProposal(ctx: SecuritiesContext, proposalId: string): Promise<PolicyProposal> {
    return getPolicyProposal(ctx, await this.#policy(ctx.ledger), proposalId);
  }

  /** The access policy in force, as canonical JSON. */
  @Transaction(false)
  @Returns('string')
  async GetPolicy(ctx: SecuritiesContext): Promise<string> {
    return canonicalJson(await this.#policy(ctx.ledger));
  }

  // ---- instruments and accounts ----

  /** Creates an instrument; the caller becomes its issuer. */
  @Transaction()
  @Param('isin', 'string', 'ISIN, check digit validated')
  @Param('name', 'string', 'Instrument name, 1-256 characters')
  @Param('minSettlementUnit', 'string', 'Decimal integer ≥ 1; quantities must be multiples of it')
  @Returns('Instrument')
  async CreateInstrument(
    ctx: SecuritiesContext,
    isin: string,
    name: string,
    minSettlementUnit: string,
  ): Promise<Instrument> {
    return createInstrument(ctx, isin, name, minSettlementUnit);
  }

  /** Reads an instrument. */
  @Transaction(false)
  @Param('isin', 'string', 'ISIN')
  @Returns('Instrument')
  async Instrument(ctx: SecuritiesContext, isin: string): Promise<Instrument> {
    return ctx.ledger.instrument(requireIsin(isin));
  }

  /** Issued minus redeemed, as a decimal string. */
  @Transaction(false)
  @Param('isin', 'string', 'ISIN')
  @Returns('string')
  async TotalSupply(ctx: SecuritiesContext, isin: string): Promise<string> {
    const instrument = await ctx.ledger.instrument(requireIsin(isin));
    return (BigInt(instrument.issued) - BigInt(instrument.redeemed)).toString();
  }

  /** Free, locked and escrowed totals of an ISIN (auditors; scans all locks and escrows). */
  @Transaction(false)
  @Param('isin', 'string', 'ISIN')
  @Returns('SupplyBreakdown')
  async SupplyBreakdown(ctx: SecuritiesContext, isin: string): Promise<SupplyBreakdown> {
    return supplyBreakdown(ctx, requireIsin(isin));
  }

  /** Every non-zero holding and every lock and escrow of an ISIN, as stored (auditors). */
  @Transaction(false)
  @Param('isin', 'string', 'ISIN')
  @Returns('Positions')
  async Positions(ctx: SecuritiesContext, isin: string): Promise<Positions> {
    return positions(ctx, requireIsin(isin));
  }

  /** Registers an explicit account id owned by the caller. */
  @Transaction()
  @Param('accountId', 'string', '1-64 characters of [A-Za-z0-9._-]')
  @Returns('Account')
  async OpenAccount(ctx: SecuritiesContext, accountId: string): Promise<Account> {
    return openAccount(ctx, accountId);
  }

  /** Reads an explicit account. */
  @Transaction(false)
  @Param('accountId', 'string', 'Explicit account id')
  @Returns('Account')
  async Account(ctx: SecuritiesContext, accountId: string): Promise<Account> {
    const account = await ctx.ledger.read(Account, 'account', accountId);
    return account ?? fail('NOT_FOUND', 'no such account', { accountId });
  }

  // ---- holdings ----

  /** Issues new units into an account (instrument issuer only). */
  @Transaction()
  @Param('isin', 'string', 'ISIN')
  @Param('account', 'string', 'Destination account (identity-bound or registered)')
  @Param('quantity', 'string', 'Decimal integer > 0, multiple of the settlement unit')
  async Issue(ctx: SecuritiesContext, isin: string, account: string, quantity: string): Promise<void> {
    await issue(ctx, isin, account, quantity);
  }

  /** Redeems units from an account's free balance (instrument issuer only). */
  @Transaction()
  @Param('isin', 'string', 'ISIN')
  @Param('account', 'string', 'Account to debit')
  @Param('quantity', 'string', 'Decimal integer > 0, multiple of the settlement unit')
  async Redeem(ctx: SecuritiesContext, isin: string, account: string, quantity: string): Promise<void> {
    await redeem(ctx, isin, account, quantity);
  }

  /** Moves free units from an account the caller owns to another account. */
  @Transaction()
  @Param('isin', 'string', 'ISIN')
  @Param('from', 'string', 'Source account, owned by the caller')
  @Param('to', 'string', 'Destination account')
  @Param('quantity', 'string', 'Decimal integer > 0, multiple of the settlement unit')
  async Transfer(ctx: SecuritiesContext, isin: string, from: string, to: string, quantity: string): Promise<void> {
    await transfer(ctx, isin, from, to, quantity);
  }

  /** Free balance of an account, as a decimal string. */
  @Transaction(false)
  @Param('isin', 'string', 'ISIN')
  @Param('account', 'string', 'Account id')
  @Returns('string')
  async BalanceOf(ctx: SecuritiesContext, isin: string, account: string): Promise<string> {
    return (await ctx.ledger.balance(account, isin)).toString();
  }

  /** Every non-zero free balance of an account. */
  @Transaction(false)
  @Param('account', 'string', 'Account id')
  @Returns('Holding[]')
  async Holdings(ctx: SecuritiesContext, account: string): Promise<Holding[]> {
    const entries = await ctx.ledger.scan('balance', account);
    return entries.map((e) => record(Holding, JSON.parse(e.value) as Holding));
  }

  // ---- HTLC ----

  /** Locks the caller's free units for a receiver under a hashlock until expiry. */
  @Transaction()
  @Param('lockId', 'string', 'Unique id, 1-128 of [A-Za-z0-9._:-]')
  @Param('isin', 'string', 'ISIN')
  @Param('quantity', 'string', 'Decimal integer > 0, multiple of the settlement unit')
  @Param('receiver', 'string', 'Account paid on claim')
  @Param('hashlock', 'string', 'SHA-256 of the 32-byte preimage, hex (0x optional)')
  @Param('expiry', 'number', 'Unix seconds, after the transaction time')
  @Returns('HtlcLock')
  async LockHTLC(
    ctx: SecuritiesContext,
    lockId: string,
    isin: string,
    quantity: string,
    receiver: string,
    hashlock: string,
    expiry: number,
  ): Promise<HtlcLock> {
    return lockHtlc(ctx, { lockId, isin, quantity, receiver, hashlock, expiry });
  }

  /** Claims a lock with its preimage, strictly before expiry. */
  @Transaction()
  @Param('lockId', 'string', 'Lock id')
  @Param('preimage', 'string', 'Exactly 32 bytes, hex (0x optional)')
  @Returns('HtlcLock')
  async ClaimHTLC(ctx: SecuritiesContext, lockId: string, preimage: string): Promise<HtlcLock> {
    return claimHtlc(ctx, lockId, preimage);
  }

  /** Refunds a lock to its sender, at or after expiry. */
  @Transaction()
  @Param('lockId', 'string', 'Lock id')
  @Returns('HtlcLock')
  async RefundHTLC(ctx: SecuritiesContext, lockId: string): Promise<HtlcLock> {
    return refundHtlc(ctx, lockId);
  }

  /** Reads a lock. */
  @Transaction(false)
  @Param('lockId', 'string', 'Lock id')
  @Returns('HtlcLock')
  async GetHTLC(ctx: SecuritiesContext, lockId: string): Promise<HtlcLock> {
    return getHtlc(ctx, lockId);
  }

  // ---- escrow ----

  /**
   * Moves the caller's free units into a new escrow for a trade. Its id is derived from the caller
   * and the trade (SHA-256 hex of the JSON array `[depositor account, tradeId]`).
   */
  @Transaction()
  @Param('tradeId', 'string', 'Trade id, 1-128 of [A-Za-z0-9._:-]')
  @Param('isin', 'string', 'ISIN')
  @Param('quantity', 'string', 'Decimal integer > 0, multiple of the settlement unit')
  @Param('beneficiary', 'string', 'Account paid on release')
  @Param('controller', 'string', 'Identity account (<mspId>:<subject>) that may release or return')
  @Param('expiry', 'number', 'Unix seconds; depositor may reclaim at or after')
  @Param('hashlock', 'string', 'Optional SHA-256 hex; empty string for none')
  @Param('notary', 'string', 'Identity account whose approval every release needs; empty string for none')
  @Returns('Escrow')
  async EscrowDeposit(
    ctx: SecuritiesContext,
    tradeId: string,
    isin: string,
    quantity: string,
    beneficiary: string,
    controller: string,
    expiry: number,
    hashlock: string,
    notary: string,
  ): Promise<Escrow> {
    return escrowDeposit(ctx, { tradeId, isin, quantity, beneficiary, controller, expiry, hashlock, notary });
  }

  /** The escrow's notary approves the next release of a quantity (one use). */
  @Transaction()
  @Param('escrowId', 'string', 'Escrow id')
  @Param('quantity', 'string', 'Decimal integer > 0, at most what remains')
  @Returns('Escrow')
  async EscrowApprove(ctx: SecuritiesContext, escrowId: string, quantity: string): Promise<Escrow> {
    return escrowApprove(ctx, escrowId, quantity);
  }

  /** Releases all or part of an escrow to its beneficiary. */
  @Transaction()
  @Param('escrowId', 'string', 'Escrow id')
  @Param('quantity', 'string', 'Decimal integer > 0, at most what remains')
  @Param('preimage', 'string', 'Preimage of a hash-conditioned escrow, or empty string')
  @Returns('Escrow')
  async EscrowRelease(ctx: SecuritiesContext, escrowId: string, quantity: string, preimage: string): Promise<Escrow> {
    return escrowRelease(ctx, escrowId, quantity, preimage);
  }

  /** Returns what remains of an escrow to its depositor. */
  @Transaction()
  @Param('escrowId', 'string', 'Escrow id')
  @Returns('Escrow')
  async EscrowReturn(ctx: SecuritiesContext, escrowId: string): Promise<Escrow> {
    return escrowReturn(ctx, escrowId);
  }

  /** Reads an escrow. */
  @Transaction(false)
  @Param('escrowId', 'string', 'Escrow id')
  @Returns('Escrow')
  async GetEscrow(ctx: SecuritiesContext, escrowId: string): Promise<Escrow> {
    return getEscrow(ctx, escrowId);
  }

  // ---- audit ----

  /** Every modification of a key: `<type>/<id>` or `["<type>", ...parts]`. */
  @Transaction(false)
  @Param('key', 'string', 'instrument/<isin>, htlc/<lockId>, escrow/<escrowId>, account/<id>, or a JSON array')
  @Returns('HistoryEntry[]')
  async History(ctx: SecuritiesContext, key: string): Promise<HistoryEntry[]> {
    return history(ctx, key);
  }
}
