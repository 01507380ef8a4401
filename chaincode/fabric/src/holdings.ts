/**
 * Instruments, accounts and free balances: create, issue, redeem, transfer. Issue and redeem
 * change supply; everything else only moves it.
 */
import type { SecuritiesContext } from './context';
import { emit } from './events';
import { fail } from './errors';
import { isExplicitAccount, isIdentityAccount } from './identity';
import { requireIsin } from './isin';
import { Account, Instrument, record } from './model';
import { parseQuantity, requireSettlementUnit } from './quantity';

/** Creates an instrument owned by the calling issuer. */
export async function createInstrument(
  ctx: SecuritiesContext,
  isin: string,
  name: string,
  minSettlementUnit: string,
): Promise<Instrument> {
  requireIsin(isin);
  if (name.trim() === '' || name.length > 256) fail('INVALID_ARGUMENT', 'name must be 1-256 characters', { isin });
  const unit = parseQuantity(minSettlementUnit, 'minSettlementUnit');
  const { ledger, caller } = ctx;
  if ((await ledger.readRaw('instrument', isin)) !== undefined) {
    fail('ALREADY_EXISTS', 'instrument already exists', { isin });
  }
  const instrument = record(Instrument, {
    createdAt: ledger.now,
    issued: '0',
    issuer: caller.account,
    isin,
    minSettlementUnit: unit.toString(),
    name,
    redeemed: '0',
  });
  await ledger.write('instrument', [isin], instrument);
  emit(ctx, 'InstrumentCreated', {
    isin,
    name,
    minSettlementUnit: instrument.minSettlementUnit,
    issuer: caller.account,
  });
  return instrument;
}

/** Registers an explicit account id owned by the caller. */
export async function openAccount(ctx: SecuritiesContext, accountId: string): Promise<Account> {
  if (!isExplicitAccount(accountId)) {
    fail('INVALID_ARGUMENT', 'accountId must be 1-64 characters of [A-Za-z0-9._-]', { accountId });
  }
  const { ledger, caller } = ctx;
  if ((await ledger.readRaw('account', accountId)) !== undefined) {
    fail('ALREADY_EXISTS', 'account already exists', { accountId });
  }
  const account = record(Account, { accountId, createdAt: ledger.now, owner: caller.account });
  await ledger.write('account', [accountId], account);
  emit(ctx, 'AccountOpened', { accountId, owner: caller.account });
  return account;
}

/** Requires `account` to exist as a destination: identity-bound, or a registered explicit id. */
export async function requireDestination(ctx: SecuritiesContext, account: string, field: string): Promise<string> {
  if (isIdentityAccount(account)) return account;
  if (!isExplicitAccount(account)) fail('INVALID_ARGUMENT', `${field} is not a valid account id`, { field, account });
  if ((await ctx.ledger.readRaw('account', account)) === undefined) {
    fail('NOT_FOUND', `${field} is not a registered account`, { field, account });
  }
  return account;
}

/** Requires the caller to control `account` (its own identity account or one it opened). */
export async function requireOwnAccount(ctx: SecuritiesContext, account: string): Promise<string> {
  const { caller, ledger } = ctx;
  if (account === caller.account) return account;
  const registered = isExplicitAccount(account) ? await ledger.read(Account, 'account', account) : undefined;
  if (registered?.owner !== caller.account) {
    fail('NOT_AUTHORIZED', 'caller does not own the account', { account, caller: caller.account });
  }
  return account;
}

/** Loads the instrument and parses `quantity` as a positive multiple of its settlement unit. */
export async function instrumentQuantity(
  ctx: SecuritiesContext,
  isin: string,
  quantity: string,
): Promise<{ instrument: Instrument; amount: bigint }> {
  const amount = parseQuantity(quantity, 'quantity');
  const instrument = await ctx.ledger.instrument(requireIsin(isin));
  requireSettlementUnit(amount, BigInt(instrument.minSettlementUnit), isin);
  return { instrument, amount };
}

function requireIssuer(ctx: SecuritiesContext, instrument: Instrument): void {
  if (instrument.issuer !== ctx.caller.account) {
    fail('NOT_AUTHORIZED', 'only the instrument issuer may issue or redeem', { isin: instrument.isin });
  }
}

/** Issues new units into `account` (instrument issuer only). */
export async function issue(ctx: SecuritiesContext, isin: string, account: string, quantity: string): Promise<void> {
  const { instrument, amount } = await instrumentQuantity(ctx, isin, quantity);
  requireIssuer(ctx, instrument);
  await requireDestination(ctx, account, 'account');
  const balance = await ctx.ledger.credit(account, isin, amount);
  const issued = (BigInt(instrument.issued) + amount).toString();
  await ctx.ledger.write('instrument', [isin], { ...instrument, issued });
  emit(ctx, 'Issued', { isin, account, quantity: amount.toString(), balance: balance.toString(), issued });
}

/** Redeems units from `account`'s free balance (instrument issuer only, e.g. at maturity). */
export async function redeem(ctx: SecuritiesContext, isin: string, account: string, quantity: string): Promise<void> {
  const { instrument, amount } = await instrumentQuantity(ctx, isin, quantity);
  requireIssuer(ctx, instrument);
  const balance = await ctx.ledger.debit(account, isin, amount);
  const redeemed = (BigInt(instrument.redeemed) + amount).toString();
  await ctx.ledger.write('instrument', [isin], { ...instrument, redeemed });
  emit(ctx, 'Redeemed', { isin, account, quantity: amount.toString(), balance: balance.toString(), redeemed });
}

/** Moves free units between accounts; the caller must own `from`. */
export async function transfer(
  ctx: SecuritiesContext,
  isin: string,
  from: string,
  to: string,
  quantity: string,
): Promise<void> {
  const { amount } = await instrumentQuantity(ctx, isin, quantity);
  await requireOwnAccount(ctx, from);
  await requireDestination(ctx, to, 'to');
  if (from === to) fail('INVALID_ARGUMENT', 'from and to are the same account', { account: from });
  await ctx.ledger.debit(from, isin, amount);
  await ctx.ledger.credit(to, isin, amount);
  emit(ctx, 'Transferred', { isin, from, to, quantity: amount.toString() });
}
