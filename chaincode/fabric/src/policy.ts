/**
 * Access policy: which roles may call which transactions, and which MSPs govern the policy
 * itself. Pure configuration; no org name or MSP id appears in code. Sources, first match wins:
 * the policy stored on the ledger (adopted through `ProposePolicy`/`ApprovePolicy`, see
 * governance.ts), else `DVP_CHAINCODE_POLICY` (JSON) given to the chaincode process, else
 * {@link DEFAULT_POLICY}.
 */
import type { Caller } from './identity';
import { fail } from './errors';

/** Every transaction name the policy may mention. */
export const TRANSACTIONS = [
  'ProposePolicy',
  'ApprovePolicy',
  'GetPolicy',
  'GetPolicyProposal',
  'CreateInstrument',
  'Instrument',
  'TotalSupply',
  'SupplyBreakdown',
  'Positions',
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
  'EscrowApprove',
  'EscrowRelease',
  'EscrowReturn',
  'GetEscrow',
  'History',
] as const;

/** A transaction name. */
export type TransactionName = (typeof TRANSACTIONS)[number];

/**
 * Transactions of earlier versions, replaced by the proposal flow. Still accepted in a policy
 * (they name nothing, a call is NOT_FOUND) so a policy stored by an earlier version parses.
 */
const RETIRED: readonly string[] = ['InitLedger', 'SetPolicy'];

/** The role whose holders, from the governing MSPs, approve policy changes. */
export const ADMIN_ROLE = 'admin';

/** Role-based access policy. `'*'` in a role's list means every transaction. */
export interface AccessPolicy {
  /** Transactions any enrolled identity may call (`'*'`: all). */
  readonly public: readonly string[];
  /** role → transactions that role may call. */
  readonly roles: Readonly<Record<string, readonly string[]>>;
  /** Optional: role → MSP ids from which that role is honoured (others ignore the role). */
  readonly roleMsps?: Readonly<Record<string, readonly string[]>>;
  /**
   * Optional: MSP ids whose admins must ALL approve a change of this policy. Defaults to
   * `roleMsps.admin`; with neither, one honoured admin suffices (development only).
   */
  readonly governors?: readonly string[];
}

const HOLDER: readonly TransactionName[] = [
  'OpenAccount',
  'Transfer',
  'LockHTLC',
  'ClaimHTLC',
  'RefundHTLC',
  'EscrowDeposit',
  'EscrowApprove',
  'EscrowRelease',
  'EscrowReturn',
];

/** Used when neither the ledger nor the environment supplies a policy. */
export const DEFAULT_POLICY: AccessPolicy = {
  public: [
    'GetPolicy',
    'GetPolicyProposal',
    'Instrument',
    'TotalSupply',
    'Account',
    'BalanceOf',
    'Holdings',
    'GetHTLC',
    'GetEscrow',
  ],
  roles: {
    admin: ['ProposePolicy', 'ApprovePolicy'],
    issuer: ['CreateInstrument', 'Issue', 'Redeem', ...HOLDER],
    client: HOLDER,
    auditor: ['History', 'SupplyBreakdown', 'Positions'],
  },
};

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const MSP_ID = /^[A-Za-z0-9._-]{1,128}$/;

function checkNames(names: readonly string[], where: string): void {
  for (const name of names) {
    if (name !== '*' && !(TRANSACTIONS as readonly string[]).includes(name) && !RETIRED.includes(name)) {
      fail('INVALID_ARGUMENT', `policy ${where} names unknown transaction ${name}`, { transaction: name });
    }
  }
}

/** An object of string lists (`roles`, `roleMsps`), each list checked by `check`. */
function stringLists(
  value: unknown,
  field: string,
  check: (list: string[], where: string) => void,
): Record<string, string[]> {
  if (!isObject(value)) fail('INVALID_ARGUMENT', `policy.${field} must be an object`);
  const out: Record<string, string[]> = {};
  for (const [role, list] of Object.entries(value)) {
    if (!isStringArray(list)) fail('INVALID_ARGUMENT', `policy.${field}.${role} must be an array`, { role });
    check(list, `${field}.${role}`);
    out[role] = list;
  }
  return out;
}

/** `governors`: a non-empty list of distinct MSP ids, each honoured as admin when roleMsps.admin is set. */
function parseGovernors(value: unknown, roleMsps: AccessPolicy['roleMsps']): string[] {
  if (!isStringArray(value) || value.length === 0 || !value.every((m) => MSP_ID.test(m))) {
    fail('INVALID_ARGUMENT', 'policy.governors must be a non-empty array of MSP ids');
  }
  const admins = roleMsps?.[ADMIN_ROLE];
  value.forEach((mspId, i) => {
    if (value.indexOf(mspId) !== i) fail('INVALID_ARGUMENT', 'policy.governors lists an MSP twice', { mspId });
    // A governor whose admins the policy ignores could never approve: the policy would be frozen.
    if (admins !== undefined && !admins.includes(mspId)) {
      fail('INVALID_ARGUMENT', 'policy.governors names an MSP not in roleMsps.admin', { mspId });
    }
  });
  return value;
}

/** Parses and validates a policy document; INVALID_ARGUMENT with the offending part otherwise. */
export function parsePolicy(json: string): AccessPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    fail('INVALID_ARGUMENT', 'policy is not valid JSON');
  }
  if (!isObject(doc)) fail('INVALID_ARGUMENT', 'policy must be a JSON object');
  const { public: pub, roles, roleMsps, governors } = doc;
  if (!isStringArray(pub)) fail('INVALID_ARGUMENT', 'policy.public must be an array of transaction names');
  checkNames(pub, 'public');
  const policy: AccessPolicy = {
    public: pub,
    roles: stringLists(roles, 'roles', checkNames),
    ...(roleMsps === undefined ? {} : { roleMsps: stringLists(roleMsps, 'roleMsps', () => undefined) }),
  };
  return governors === undefined ? policy : { ...policy, governors: parseGovernors(governors, policy.roleMsps) };
}

/**
 * The MSP ids whose admins must all approve a change of `policy`: `governors`, else
 * `roleMsps.admin`; undefined when neither is set (any one honoured admin suffices).
 */
export function governorsOf(policy: AccessPolicy): readonly string[] | undefined {
  return policy.governors ?? policy.roleMsps?.[ADMIN_ROLE];
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
export function effectiveRoles(policy: AccessPolicy, caller: Caller): string[] {
  return caller.roles.filter((role) => {
    const msps = policy.roleMsps?.[role];
    return msps === undefined || msps.includes(caller.mspId);
  });
}

/** True when `policy` lets holders of `role` (or everyone) call `transaction`. */
export function roleMayCall(policy: AccessPolicy, role: string, transaction: string): boolean {
  const allowed = [...policy.public, ...(policy.roles[role] ?? [])];
  return allowed.includes('*') || allowed.includes(transaction);
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
