/**
 * The schemas of the orchestrated escrow's operations (openapi-escrow.ts): an escrow manager's
 * trades, a notary's approval requests and an observer's log, as the routes put them on the wire
 * (routes/escrow.ts, routes/approvals.ts, routes/observations.ts). Amounts are decimal strings.
 */
import type { ApprovalState, ManagedState } from '../core/escrow';
import { RECORD_STEPS } from '../settlement/observer/record';
import { INVALID_STEP } from '../settlement/observer/observer';
import { obj, ref, type JsonSchema } from './openapi-schemas';

/** Every managed state, in protocol order (a state missing here does not compile). */
export const MANAGED_STATES = Object.keys({
  instructed: 0,
  verified: 0,
  approving: 0,
  decided: 0,
  settled: 0,
  aborted: 0,
} satisfies Record<ManagedState, 0>) as ManagedState[];

/** Every approval state (a state missing here does not compile). */
export const APPROVAL_STATES = Object.keys({ pending: 0, approved: 0, refused: 0 } satisfies Record<
  ApprovalState,
  0
>) as ApprovalState[];

const STRING_MAP: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } };
const UNIX_SECONDS = (description: string): JsonSchema => ({
  type: 'integer',
  description: `${description} Unix seconds.`,
});
const HASH: JsonSchema = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lower-case hex.' };
const LEG = { enum: ['securities', 'cash'] };
const LEDGER = { enum: ['fabric', 'evm'] };
const INTEGER = { type: 'integer' };
const TEXT = { type: 'string' };

const DEPOSIT: JsonSchema = {
  ...obj(['verified'], {
    verified: { type: 'boolean', description: 'The manager read the deposit on its ledger and found it right.' },
    escrowId: { ...TEXT, description: 'The escrow the manager verified (its own derivation, on the ledger).' },
    txId: { ...TEXT, description: 'The deposit’s transaction, as the depositing bank reported it.' },
  }),
  description: 'One leg’s deposit as the manager knows it.',
};

const LEDGER_ACTION: JsonSchema = {
  ...obj(['leg', 'ledger', 'kind', 'state', 'attempts', 'updatedAt'], {
    leg: LEG,
    ledger: LEDGER,
    kind: { enum: ['release', 'return'] },
    state: { enum: ['intent', 'prepared', 'done', 'failed'], description: 'Journal state of the action.' },
    escrowId: TEXT,
    txId: TEXT,
    block: { ...TEXT, description: 'Block number, decimal.' },
    attempts: INTEGER,
    updatedAt: ref('Timestamp'),
  }),
  description: 'A release (commit) or return (abort) the manager sent, journaled before it was sent.',
};

const MANAGED_TRADE_FIELDS: Record<string, JsonSchema> = {
  tradeId: ref('TradeId'),
  state: ref('ManagedState'),
  terms: { ...STRING_MAP, description: 'The matching terms both banks registered.' },
  termsHash: HASH,
  buyer: ref('PartyId'),
  seller: ref('PartyId'),
  notary: ref('PartyId'),
  observer: ref('PartyId'),
  hashlock: {
    type: 'string',
    pattern: '^0x[0-9a-fA-F]{64}$',
    description: 'SHA-256 of the manager’s secret, the hashlock of both escrows. The secret itself is never shown.',
  },
  decisionDeadline: UNIX_SECONDS('The manager commits only before it.'),
  expiry: UNIX_SECONDS('Both escrows’ expiry.'),
  deposits: obj(['securities', 'cash'], { securities: DEPOSIT, cash: DEPOSIT }),
  approval: {
    ...obj(['verdict', 'approvals'], {
      verdict: { enum: ['approve', 'refuse'] },
      reason: TEXT,
      approvals: {
        ...obj([], { securities: TEXT, cash: TEXT }),
        description: 'Per leg: `onledger:<txId>` (Fabric EscrowApprove) or the EIP-712 signature (EVM).',
      },
    }),
    description: 'The notary’s answer, once received.',
  },
  decision: {
    ...obj(['outcome', 'reason', 'decidedAt'], {
      outcome: { enum: ['commit', 'abort'] },
      reason: TEXT,
      decidedAt: ref('Timestamp'),
    }),
    description: 'The manager’s one decision, once recorded.',
  },
  evidence: {
    ...STRING_MAP,
    description:
      'Everything the manager gathered: `securitiesEscrow`, `cashEscrow`, `securitiesDepositTx`, `cashDepositTx`, ' +
      '`notaryVerdict`, `notaryReason`, `securitiesApproval`, `cashApproval`.',
  },
  ledgerActions: { type: 'array', items: LEDGER_ACTION },
  createdAt: ref('Timestamp'),
  updatedAt: ref('Timestamp'),
};

const ESCROWS: JsonSchema = {
  ...obj([], { securities: TEXT, cash: TEXT }),
  description: 'The escrow ids the manager asked about, per leg.',
};

const APPROVAL_FIELDS: Record<string, JsonSchema> = {
  tradeId: ref('TradeId'),
  manager: { ...ref('PartyId'), description: 'The escrow manager that asked.' },
  state: ref('ApprovalState'),
  terms: STRING_MAP,
  termsHash: HASH,
  escrows: ESCROWS,
  reason: TEXT,
  decidedBy: { ...TEXT, description: '`rule`, or the certificate fingerprint of the operator who answered.' },
  approvals: {
    ...obj([], { securities: TEXT, cash: TEXT }),
    description: 'The ledger approvals given, per leg: `onledger:<txId>` (Fabric) or the EIP-712 signature (EVM).',
  },
  answered: { type: 'boolean', description: 'True once the answer was delivered to the manager.' },
  createdAt: ref('Timestamp'),
  updatedAt: ref('Timestamp'),
};

const OBSERVATION_FIELDS: Record<string, JsonSchema> = {
  seq: INTEGER,
  receivedAt: ref('Timestamp'),
  from: { ...ref('PartyId'), description: 'The party that sent (and signed) the record.' },
  tradeId: ref('TradeId'),
  step: {
    enum: [...RECORD_STEPS, INVALID_STEP],
    description: `\`${INVALID_STEP}\`: a signed record outside the vocabulary, kept as evidence (see \`problem\`).`,
  },
  problem: { ...TEXT, description: 'Why the stored envelope holds no record.' },
  envelopeHash: HASH,
  hash: { ...HASH, description: 'This entry’s link of the hash chain.' },
  termsHash: HASH,
  leg: LEG,
  ledger: LEDGER,
  escrowId: TEXT,
  txId: TEXT,
  block: TEXT,
  amount: ref('Amount'),
  beneficiary: TEXT,
  depositor: TEXT,
  state: { enum: ['held', 'released', 'returned'] },
  decision: { enum: ['commit', 'abort'] },
  reason: TEXT,
  at: { ...ref('Timestamp'), description: 'When the step happened at the sender.' },
};

const CHECK = (required: readonly string[], more: Record<string, JsonSchema>, description: string): JsonSchema => ({
  ...obj(['ok', 'checked', ...required], { ok: { type: 'boolean' }, checked: INTEGER, ...more }),
  description,
});

const VERIFICATION: JsonSchema = obj(['chain', 'signatures', 'records'], {
  chain: CHECK([], { firstBadSeq: INTEGER }, 'The whole log’s hash chain, not just the entries returned.'),
  signatures: CHECK(
    ['bad'],
    { bad: { type: 'array', items: INTEGER, description: 'Seqs whose signed envelope does not verify.' } },
    'The signature of each entry returned.',
  ),
  records: {
    ...obj(['ok', 'invalid'], {
      ok: { type: 'boolean' },
      invalid: { type: 'array', items: INTEGER, description: 'Seqs whose envelope holds no valid record.' },
    }),
    description: 'Whether each entry returned is a record of the vocabulary.',
  },
  ledgers: CHECK(
    ['mismatches'],
    { mismatches: { type: 'array', items: obj(['seq', 'reason'], { seq: INTEGER, reason: TEXT }) } },
    'Each returned record that names an escrow, checked on its ledger; only with `verifyLedgers=true`.',
  ),
});

/** The schemas of these operations, merged into `components.schemas`. */
export const ESCROW_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  ManagedState: { enum: MANAGED_STATES },
  ManagedTrade: {
    ...obj(
      [
        'tradeId',
        'state',
        'terms',
        'termsHash',
        'buyer',
        'seller',
        'hashlock',
        'decisionDeadline',
        'expiry',
        'deposits',
        'evidence',
        'ledgerActions',
        'createdAt',
        'updatedAt',
      ],
      MANAGED_TRADE_FIELDS,
    ),
    description: 'A trade as its escrow manager manages it.',
  },
  ManagedTradeList: obj(['trades'], { trades: { type: 'array', items: ref('ManagedTrade') } }),
  ApprovalState: { enum: APPROVAL_STATES },
  Approval: {
    ...obj(
      [
        'tradeId',
        'manager',
        'state',
        'terms',
        'termsHash',
        'escrows',
        'approvals',
        'answered',
        'createdAt',
        'updatedAt',
      ],
      APPROVAL_FIELDS,
    ),
    description: 'A notary’s approval request and its answer.',
  },
  ApprovalList: obj(['approvals'], { approvals: { type: 'array', items: ref('Approval') } }),
  RefusalRequest: obj(['reason'], {
    reason: {
      type: 'string',
      minLength: 1,
      maxLength: 500,
      pattern: '\\S',
      description: 'Why; recorded and sent to the manager.',
    },
  }),
  Observation: {
    ...obj(['seq', 'receivedAt', 'from', 'tradeId', 'step', 'envelopeHash', 'hash'], OBSERVATION_FIELDS),
    description: 'One logged record; the record’s own fields are missing when its stored envelope no longer parses.',
  },
  ObservationPage: obj(['entries', 'verification'], {
    entries: { type: 'array', items: ref('Observation') },
    verification: VERIFICATION,
  }),
};
