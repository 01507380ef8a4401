/**
 * Changing the access policy. The policy governs every bank's securities, and the endorsement
 * policy cannot protect it: all peers run this same code, so a rule one org's admin can satisfy
 * alone would be endorsed by every peer. A change therefore needs an approval from an admin of
 * EVERY governing MSP (see {@link governorsOf}), each in its own transaction:
 *
 * 1. a governor's admin calls `ProposePolicy(policyJson)`; the proposal id is the SHA-256 of the
 *    parsed policy's canonical JSON and the proposer's MSP approves with it;
 * 2. the other governors' admins call `ApprovePolicy(proposalId)` (proposing the same policy
 *    again is the same as approving it);
 * 3. the transaction whose approval completes the set stores the policy, deletes the proposal
 *    and emits `PolicySet`.
 *
 * Approvals are counted against the policy IN FORCE when each approval is made: the approver's
 * MSP must be one of its governors and the proposal is adopted once the approvals cover all of
 * them. An approval recorded under an earlier governor set counts only while its MSP still governs.
 *
 * State: `config` ["proposal", id] → the proposal without `pending`/`status` (derived on read).
 */
import { createHash } from 'node:crypto';

import { canonicalJson } from './canonical';
import type { SecuritiesContext } from './context';
import { emit } from './events';
import { fail } from './errors';
import { PolicyApproval, PolicyProposal, record } from './model';
import type { AccessPolicy } from './policy';
import { ADMIN_ROLE, effectiveRoles, governorsOf, parsePolicy, roleMayCall } from './policy';

/** What is stored per pending proposal. */
type StoredProposal = Omit<PolicyProposal, 'pending' | 'status'>;

const PROPOSAL_ID = /^[0-9a-f]{64}$/;

/** Refuses the caller unless it holds the admin role honoured for its MSP and its MSP governs. */
function requireGovernor(ctx: SecuritiesContext, inForce: AccessPolicy): void {
  const { caller } = ctx;
  if (!effectiveRoles(inForce, caller).includes(ADMIN_ROLE)) {
    fail('NOT_AUTHORIZED', 'only an admin honoured for its MSP may propose or approve a policy', {
      mspId: caller.mspId,
      roles: caller.roles.join(','),
    });
  }
  const governors = governorsOf(inForce);
  if (governors !== undefined && !governors.includes(caller.mspId)) {
    fail('NOT_AUTHORIZED', 'the caller MSP is not a governor of the policy in force', {
      mspId: caller.mspId,
      governors: governors.join(','),
    });
  }
}

/**
 * Refuses a policy that could never be changed again (no admin could propose or approve), and
 * one without governors while the policy in force has them: that would let any one admin change
 * the policy alone afterwards, which no governor should be able to approve by mistake.
 */
function requireChangeable(policy: AccessPolicy, inForce: AccessPolicy): void {
  if (governorsOf(inForce) !== undefined && governorsOf(policy) === undefined) {
    fail('INVALID_ARGUMENT', 'the proposed policy names no governors (governors or roleMsps.admin)', {
      governors: (governorsOf(inForce) ?? []).join(','),
    });
  }
  for (const transaction of ['ProposePolicy', 'ApprovePolicy']) {
    if (!roleMayCall(policy, ADMIN_ROLE, transaction)) {
      fail('INVALID_ARGUMENT', `the proposed policy must let role ${ADMIN_ROLE} call ${transaction}`, { transaction });
    }
  }
  if (governorsOf(policy)?.length === 0) {
    fail('INVALID_ARGUMENT', 'the proposed policy honours the admin role from no MSP', { role: ADMIN_ROLE });
  }
}

/** Governors of the policy in force that have not approved `proposal` (none: adoptable). */
function pendingOf(proposal: StoredProposal, inForce: AccessPolicy): string[] {
  const approved = new Set(proposal.approvals.map((a) => a.mspId));
  return (governorsOf(inForce) ?? []).filter((mspId) => !approved.has(mspId));
}

function view(proposal: StoredProposal, inForce: AccessPolicy, adopted = false): PolicyProposal {
  const pending = adopted ? [] : pendingOf(proposal, inForce);
  return record(PolicyProposal, { ...proposal, pending, status: adopted ? 'ADOPTED' : 'PENDING' });
}

async function readProposal(ctx: SecuritiesContext, proposalId: string): Promise<StoredProposal | undefined> {
  if (!PROPOSAL_ID.test(proposalId)) {
    fail('INVALID_ARGUMENT', 'proposalId must be 64 lower-case hex characters', { proposalId });
  }
  const raw = await ctx.ledger.readRaw('config', 'proposal', proposalId);
  return raw === undefined ? undefined : (JSON.parse(raw) as StoredProposal);
}

/** The proposal with the caller's MSP approval added (unchanged if that MSP already approved). */
function withApproval(ctx: SecuritiesContext, proposal: StoredProposal): StoredProposal {
  const { caller, ledger } = ctx;
  if (proposal.approvals.some((a) => a.mspId === caller.mspId)) return proposal;
  const approval = record(PolicyApproval, { approvedAt: ledger.now, approver: caller.account, mspId: caller.mspId });
  const approvals = [...proposal.approvals, approval].sort((a, b) => (a.mspId < b.mspId ? -1 : 1));
  return { ...proposal, approvals };
}

/**
 * Records the caller's approval; adopts the proposal when it then covers every governor of the
 * policy in force. `stored` tells whether the proposal is already on the ledger.
 */
async function approve(
  ctx: SecuritiesContext,
  inForce: AccessPolicy,
  before: StoredProposal,
  stored: boolean,
): Promise<PolicyProposal> {
  const { ledger, caller } = ctx;
  const proposal = withApproval(ctx, before);
  if (pendingOf(proposal, inForce).length > 0) {
    if (proposal !== before || !stored) await ledger.write('config', ['proposal', proposal.proposalId], proposal);
    const result = view(proposal, inForce);
    emit(ctx, stored ? 'PolicyApproved' : 'PolicyProposed', { ...result, by: caller.account });
    return result;
  }
  const policy = parsePolicy(proposal.policy);
  await ledger.write('config', ['policy'], policy);
  if (stored) await ledger.remove('config', 'proposal', proposal.proposalId);
  const { approvals, proposalId } = proposal;
  emit(ctx, 'PolicySet', { policy, by: caller.account, proposalId, approvals });
  return view(proposal, inForce, true);
}

/** Proposes `policyJson` (caller: a governor's admin), approving it for the caller's MSP. */
export async function proposePolicy(
  ctx: SecuritiesContext,
  inForce: AccessPolicy,
  policyJson: string,
): Promise<PolicyProposal> {
  requireGovernor(ctx, inForce);
  const policy = parsePolicy(policyJson);
  requireChangeable(policy, inForce);
  const canonical = canonicalJson(policy);
  const proposalId = createHash('sha256').update(canonical, 'utf8').digest('hex');
  const existing = await readProposal(ctx, proposalId);
  if (existing !== undefined) return approve(ctx, inForce, existing, true);
  const fresh: StoredProposal = {
    approvals: [],
    createdAt: ctx.ledger.now,
    policy: canonical,
    proposalId,
    proposer: ctx.caller.account,
  };
  return approve(ctx, inForce, fresh, false);
}

/** Approves a pending proposal for the caller's MSP (caller: a governor's admin). */
export async function approvePolicy(
  ctx: SecuritiesContext,
  inForce: AccessPolicy,
  proposalId: string,
): Promise<PolicyProposal> {
  requireGovernor(ctx, inForce);
  const proposal = await readProposal(ctx, proposalId);
  if (proposal === undefined) fail('NOT_FOUND', 'no such pending policy proposal', { proposalId });
  return approve(ctx, inForce, proposal, true);
}

/** A pending proposal, with the governors of the policy in force still to approve it. */
export async function getPolicyProposal(
  ctx: SecuritiesContext,
  inForce: AccessPolicy,
  proposalId: string,
): Promise<PolicyProposal> {
  const proposal = await readProposal(ctx, proposalId);
  if (proposal === undefined) fail('NOT_FOUND', 'no such pending policy proposal', { proposalId });
  return view(proposal, inForce);
}
