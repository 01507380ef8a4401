/**
 * Access policy: which roles may call which transactions. Pure configuration; no org name or MSP
 * id appears in code. Sources, first match wins: the policy stored on the ledger by
 * `InitLedger`/`SetPolicy`, else `DVP_CHAINCODE_POLICY` (JSON) given to the chaincode process,
 * else {@link DEFAULT_POLICY}.
 */
import type { Caller } from './identity';
import { fail } from './errors';

/** Every transaction name the policy may mention. */
export const TRANSACTIONS = [
  'InitLedger',
  'SetPolicy',
  'GetPolicy',
  'CreateInstrument',
  'Instrument',
  'TotalSupply',
  'SupplyBreakdown',
  'OpenAccount',
  'Account',
  'Issue',
  'Redeem',
  'Transfer',
  'BalanceOf',
  'Holdings',
  'LockHTLC',
  'ClaimHTLC',
  'RefundHTLC',
  'GetHTLC',
  'EscrowDeposit',
  'EscrowRelease',
  'EscrowReturn',
  'GetEscrow',
  'History',
] as const;

/** A transaction name. */
export type TransactionName = (typeof TRANSACTIONS)[number];

/** Role-based access policy. `'*'` in a role's list means every transaction. */
export interface AccessPolicy {
  /** Transactions any enrolled identity may call (`'*'`: all). */
  readonly public: readonly string[];
  /** role → transactions that role may call. */
  readonly roles: Readonly<Record<string, readonly string[]>>;
  /** Optional: role → MSP ids from which that role is honoured (others ignore the role). */
  readonly roleMsps?: Readonly<Record<string, readonly string[]>>;
}

const HOLDER: readonly TransactionName[] = [
  'OpenAccount',
  'Transfer',
  'LockHTLC',
  'ClaimHTLC',
  'RefundHTLC',
  'EscrowDeposit',
  'EscrowRelease',
  'EscrowReturn',
];

/** Used when neither the ledger nor the environment supplies a policy. */
export const DEFAULT_POLICY: AccessPolicy = {
  public: ['GetPolicy', 'Instrument', 'TotalSupply', 'Account', 'BalanceOf', 'Holdings', 'GetHTLC', 'GetEscrow'],
  roles: {
    admin: ['InitLedger', 'SetPolicy'],
    issuer: ['CreateInstrument', 'Issue', 'Redeem', ...HOLDER],
    client: HOLDER,
    auditor: ['History', 'SupplyBreakdown'],
  },
};

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

function checkNames(names: readonly string[], where: string): void {
  for (const name of names) {
    if (name !== '*' && !(TRANSACTIONS as readonly string[]).includes(name)) {
      fail('INVALID_ARGUMENT', `policy ${where} names unknown transaction ${name}`, { transaction: name });
    }
  }
}

/** Parses and validates a policy document; INVALID_ARGUMENT with the offending part otherwise. */
export function parsePolicy(json: string): AccessPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    fail('INVALID_ARGUMENT', 'policy is not valid JSON');
  }
  if (doc === null || typeof doc !== 'object') fail('INVALID_ARGUMENT', 'policy must be a JSON object');
  const { public: pub, roles, roleMsps } = doc as Record<string, unknown>;
  if (!isStringArray(pub)) fail('INVALID_ARGUMENT', 'policy.public must be an array of transaction names');
  checkNames(pub, 'public');
  if (roles === null || typeof roles !== 'object') fail('INVALID_ARGUMENT', 'policy.roles must be an object');
  const outRoles: Record<string, string[]> = {};
  for (const [role, names] of Object.entries(roles)) {
    if (!isStringArray(names)) fail('INVALID_ARGUMENT', `policy.roles.${role} must be an array`, { role });
    checkNames(names, `roles.${role}`);
    outRoles[role] = names;
  }
  if (roleMsps === undefined) return { public: pub, roles: outRoles };
  if (roleMsps === null || typeof roleMsps !== 'object') fail('INVALID_ARGUMENT', 'policy.roleMsps must be an object');
  const outMsps: Record<string, string[]> = {};
  for (const [role, msps] of Object.entries(roleMsps)) {
    if (!isStringArray(msps)) fail('INVALID_ARGUMENT', `policy.roleMsps.${role} must be an array`, { role });
    outMsps[role] = msps;
  }
  return { public: pub, roles: outRoles, roleMsps: outMsps };
}

/** Process-level configuration of the chaincode, read once at start-up. */
export interface ChaincodeConfig {
  readonly bootstrapPolicy: AccessPolicy;
}

/** Reads {@link ChaincodeConfig} from an environment map (`DVP_CHAINCODE_POLICY`). */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): ChaincodeConfig {
  const raw = env['DVP_CHAINCODE_POLICY'];
  if (raw === undefined || raw.trim() === '') return { bootstrapPolicy: DEFAULT_POLICY };
  try {
    return { bootstrapPolicy: parsePolicy(raw) };
  } catch (err) {
    throw new Error(`DVP_CHAINCODE_POLICY is invalid: ${(err as Error).message}`, { cause: err });
  }
}

/** The roles of `caller` that `policy` honours (role restricted to other MSPs are dropped). */
function effectiveRoles(policy: AccessPolicy, caller: Caller): string[] {
  return caller.roles.filter((role) => {
    const msps = policy.roleMsps?.[role];
    return msps === undefined || msps.includes(caller.mspId);
  });
}

/** Throws NOT_AUTHORIZED unless `caller` may call `transaction` under `policy`. */
export function authorize(policy: AccessPolicy, caller: Caller, transaction: string): void {
  if (policy.public.includes('*') || policy.public.includes(transaction)) return;
  for (const role of effectiveRoles(policy, caller)) {
    const allowed = policy.roles[role];
    if (allowed !== undefined && (allowed.includes('*') || allowed.includes(transaction))) return;
  }
  fail('NOT_AUTHORIZED', `no role of the caller may call ${transaction}`, {
    transaction,
    mspId: caller.mspId,
    roles: caller.roles.join(','),
  });
}
