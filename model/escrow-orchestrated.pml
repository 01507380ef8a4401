/*
 * Escrow DvP, orchestrated (DESIGN.md 3.2; gateway/src/settlement/escrow-orchestrated), checked
 * with spin. The seller's bank deposits the securities on Fabric and the buyer's bank the cash on
 * the EVM chain, each hash-conditioned on H = SHA-256(s), each with the escrow manager as
 * controller and the counterparty as beneficiary, expiring at EXP = D + Δ (D: the decision
 * deadline). The manager reads both deposits on the ledgers, waits for the notary, decides once
 * (commit before D with both deposits right and approved; abort otherwise), tells both banks, and
 * carries the decision out: commit releases both escrows with s, abort returns both.
 *
 * Time runs in rounds, as in htlc.pml: in each round the ledgers include transactions broadcast
 * earlier (after 0..LAT rounds), the notary may answer, the manager's decision may reach each bank
 * (or never: loss, or the manager gone), and each gateway takes one step. Every clock is the round
 * plus its own offset of 0..SKEW. A gateway may crash at the start of a step or between journaling
 * an action and broadcasting it, is down DOWN rounds, then resumes its journal (a journaled action
 * neither included nor waiting is broadcast again, whatever the time); one that is not `reliable`
 * may never come back. The manager is honest (the banks trust it to decide by the rule and keep s
 * until it commits) but may crash or disappear; either bank may be a script that broadcasts any
 * transaction of its own at any time, and uses s as soon as it learns it.
 *
 * The ledgers' rules (both escrow contracts): a release with s is accepted strictly before the
 * escrow's expiry; the controller may return an escrow at any time, the depositor at or after its
 * expiry; each only while the escrow is held. A broadcast release makes s public whether it is
 * accepted or not.
 *
 * The gateways' rules that are modelled (bank-steps.ts, manager-steps.ts, protocol.ts):
 * - a bank deposits before D unless told of an abort;
 * - the manager aborts on a wrong deposit (here: too short an expiry, or wrong terms), at D
 *   without both deposits and the notary's approval, or on the notary's refusal; it commits with
 *   both right and approved before D, and tells both banks (the decision does not carry s);
 * - after the commit, the manager releases each escrow still held: the first release only while
 *   its clock + MARGIN < the expiry of every escrow still held (releaseAllowed; MARGIN is Δ/2 in
 *   the gateway), the other up to its escrow's expiry; after an abort it returns each one; a
 *   release journaled but never sent is decided again after a crash, not resumed (MANAGER_RESUME);
 * - a bank told of a commit, or from D on, looks for s on the ledgers; seeing an escrow released,
 *   it releases every escrow still held before its expiry (after GRACE rounds from the commit's
 *   arrival, which leaves the releases to the manager, unless an escrow is already released);
 * - a bank without s, told of an abort or at EXP, takes its deposit back from its expiry on,
 *   after a last look for s.
 * SECRET_IN_DECISION 1 models the rule the gateway had before this model: the commit carried s
 * to both banks (a bank knew it before any release, and a script in its place could use it).
 *
 * Checked at the end of every run, once every escrow has expired and every transaction is in:
 * - no principal loss: an honest bank that always comes back never gives its asset without
 *   receiving the other, and never ends with its own deposit still held;
 * - atomicity: with both banks honest and coming back, both escrows are released or neither.
 */

#ifndef DELTA
#define DELTA 4
#endif
#ifndef GRACE
#define GRACE 1
#endif
#ifndef SKEW
#define SKEW 1
#endif
#ifndef LAT
#define LAT 1
#endif
#ifndef DOWN
#define DOWN 1
#endif
#ifndef MDOWN
#define MDOWN DOWN           /* the manager's downtime after a crash */
#endif
#ifndef MAXCRASH
#define MAXCRASH 1
#endif
#ifndef MARGIN
#define MARGIN (DELTA / 2)
#endif
#ifndef SECRET_IN_DECISION
#define SECRET_IN_DECISION 0
#endif

#define D 2                  /* the decision deadline */
#define EXP (D + DELTA)      /* every escrow's expiry, as instructed */
#define TMAX (EXP + 2 * SKEW + MAXCRASH * DOWN + LAT + 3)  /* the manager's downtime only delays, within EXP */
#define NONE 255             /* no transaction waiting; or a gateway down for good */

#define SEC 0                /* the seller's deposit (securities, Fabric); the seller is bank 0 */
#define CASH 1               /* the buyer's deposit (cash, EVM); the buyer is bank 1 */
#define MGR 2                /* the manager's index in the per-gateway arrays */

mtype = { EMPTY, HELD, RELEASED, RETURNED, COMMIT, ABORT, WAIT, YES, NO };

/* the escrows on their ledgers, by leg (leg b is bank b's deposit) */
mtype esc[2] = EMPTY;
byte exp[2];
bool bad[2];                 /* not the deposit instructed: the manager must refuse it */
bool revealed;               /* s is public */

/* broadcast transactions not yet included, by leg: rounds waited so far, or NONE */
byte pDep[2] = NONE, pRel[2] = NONE, pRetC[2] = NONE, pRetD[2] = NONE;
byte pExp[2];
bool pBad[2];

byte t;
hidden byte go;
byte offLedger[2];           /* clock offsets: each leg's ledger */
byte off[3];                 /* and each gateway's: seller, buyer, manager */

bool honest[2], reliable[3];
byte down[3], crashes[3];    /* rounds left down (NONE: for good), crashes so far */
bool resume[3];              /* came back: resume the journal first */

/* the journals: actions recorded and not finished */
bool jDep[2];                /* bank b's deposit */
bool jRel[6];                /* jRel[3 * leg + gateway]: a release of that leg */
bool jRet[3];                /* a return: jRet[b] by bank b of its own leg; the manager's: see jRetM */
bool jRetM[2];
bool sent[3];                /* gateway g has journaled a release: s may be public by its doing */

mtype decision = WAIT;       /* the manager's, durable */
mtype notary = WAIT;         /* the notary's answer */
mtype told[2] = WAIT;        /* the decision as each bank received it */
byte toldAt[2];              /* the bank's clock when it arrived */
bool seen[2];                /* bank b saw s on a ledger */

#define clockL(l) (t + offLedger[l])
#define clockG(g) (t + off[g])
#define up(g) (down[g] == 0)
#define knows(b) ((SECRET_IN_DECISION && told[b] == COMMIT) || seen[b])
#define released (esc[SEC] == RELEASED || esc[CASH] == RELEASED)
/* a release may be broadcast now by gateway g (MARGIN: see above) */
#define inTime(g, l) (clockG(g) < exp[l] && (released || sent[g] || \
  ((esc[SEC] != HELD || clockG(g) + MARGIN < exp[SEC]) && (esc[CASH] != HELD || clockG(g) + MARGIN < exp[CASH]))))

/* ---- the ledgers ---- */

inline due(p) {
  go = false;
  if
  :: p != NONE && p < LAT -> p++
  :: p != NONE -> go = true; p = NONE
  :: else -> skip
  fi
}

inline ledger(l) {
  due(pDep[l]);
  if :: go && esc[l] == EMPTY && clockL(l) < pExp[l] -> esc[l] = HELD; exp[l] = pExp[l]; bad[l] = pBad[l] :: else -> skip fi;
  due(pRel[l]);
  if :: go && esc[l] == HELD && clockL(l) < exp[l] -> esc[l] = RELEASED :: else -> skip fi;
  if :: go -> jRel[3 * l] = false; jRel[3 * l + 1] = false; jRel[3 * l + 2] = false :: else -> skip fi;
  due(pRetC[l]);
  if :: go && esc[l] == HELD -> esc[l] = RETURNED :: else -> skip fi;
  if :: go -> jRetM[l] = false :: else -> skip fi;
  due(pRetD[l]);
  if :: go && esc[l] == HELD && clockL(l) >= exp[l] -> esc[l] = RETURNED :: else -> skip fi;
  if :: go -> jRet[l] = false :: else -> skip fi
}

/* ---- crashes ---- */

inline crash(g) {
  crashes[g]++;
  resume[g] = true;
  if
  :: down[g] = (g == MGR -> MDOWN : DOWN)
  :: !reliable[g] -> down[g] = NONE
  fi
}

/* Broadcasts: sets `p` waiting (a release also makes s public), or gateway g crashes first. */
inline broadcast(g, p, reveal) {
  if
  :: p = 0; revealed = revealed || reveal
  :: crashes[g] < MAXCRASH -> crash(g)
  fi
}

/* ---- the banks ---- */

/* engine.resume: every journaled action neither included nor waiting is broadcast again */
inline resumeBank(b) {
  resume[b] = false;
  if :: jDep[b] && esc[b] == EMPTY && pDep[b] == NONE -> pDep[b] = 0; pExp[b] = EXP; pBad[b] = false :: else -> skip fi;
  if :: jRel[3 * SEC + b] && esc[SEC] == HELD && pRel[SEC] == NONE -> pRel[SEC] = 0; revealed = true :: else -> skip fi;
  if :: jRel[3 * CASH + b] && esc[CASH] == HELD && pRel[CASH] == NONE -> pRel[CASH] = 0; revealed = true :: else -> skip fi;
  if :: jRet[b] && esc[b] == HELD && pRetD[b] == NONE -> pRetD[b] = 0 :: else -> skip fi
}

/*
 * lookForSecret (once told of a commit, or from D on, until EXP): a released escrow shows s, and
 * the bank goes on at once to release what is still held
 */
#define knowsNow(b) (knows(b) || (told[b] != ABORT && (clockG(b) >= D || told[b] == COMMIT) && clockG(b) < EXP && released))

/* commit: may bank b release now (after GRACE from the commit's arrival; at once from a ledger) */
#define mayRelease(b) (told[b] != COMMIT || clockG(b) >= toldAt[b] + GRACE || (!SECRET_IN_DECISION && released))
#define releasable(b, l) (esc[l] == HELD && !jRel[3 * l + b] && pRel[l] == NONE && inTime(b, l))

inline takeBack(b) {
  if
  :: esc[b] == HELD && clockG(b) >= exp[b] && clockG(b) >= EXP && !released && !jRet[b] && pRetD[b] == NONE ->
     jRet[b] = true; broadcast(b, pRetD[b], false)
  :: esc[b] == HELD && clockG(b) >= exp[b] && clockG(b) >= EXP && released -> seen[b] = true
  :: esc[b] == RELEASED -> seen[b] = true
  :: else -> skip
  fi
}

inline honestBank(b) {
  if
  :: !jDep[b] && told[b] != ABORT && clockG(b) < D ->
     jDep[b] = true; pExp[b] = EXP; pBad[b] = false; broadcast(b, pDep[b], false)
  :: jDep[b] && knowsNow(b) && mayRelease(b) && releasable(b, SEC) ->
     seen[b] = seen[b] || released; jRel[3 * SEC + b] = true; sent[b] = true; broadcast(b, pRel[SEC], true)
  :: jDep[b] && knowsNow(b) && mayRelease(b) && !releasable(b, SEC) && releasable(b, CASH) ->
     seen[b] = seen[b] || released; jRel[3 * CASH + b] = true; sent[b] = true; broadcast(b, pRel[CASH], true)
  :: jDep[b] && !knows(b) && (told[b] == ABORT || clockG(b) >= EXP) -> takeBack(b)
  :: else -> skip
  fi
}

/* a script in the bank's place: any transaction of its own at any time, s used once known */
inline dishonestBank(b) {
  if
  :: esc[b] == EMPTY && pDep[b] == NONE -> pDep[b] = 0;
     if :: pBad[b] = true :: pBad[b] = false fi;
     if :: pExp[b] = clockG(b) + 1 :: pExp[b] = EXP fi
  :: (revealed || (SECRET_IN_DECISION && told[b] == COMMIT)) && esc[1 - b] == HELD && pRel[1 - b] == NONE ->
     pRel[1 - b] = 0; revealed = true
  :: SECRET_IN_DECISION && told[b] == COMMIT -> revealed = true
  :: esc[b] == HELD && pRetD[b] == NONE -> pRetD[b] = 0
  :: esc[b] == HELD && bad[b] && pRetC[b] == NONE -> pRetC[b] = 0 /* a wrong deposit may name itself controller */
  :: skip
  fi
}

inline bank(b) {
  if
  :: down[b] != 0 && down[b] != NONE -> down[b]--
  :: up(b) && honest[b] && resume[b] -> resumeBank(b)
  :: up(b) && honest[b] && !resume[b] && crashes[b] < MAXCRASH -> crash(b)
  :: up(b) && honest[b] && !resume[b] -> honestBank(b)
  :: !honest[b] -> dishonestBank(b)
  :: else -> skip
  fi
}

/* ---- the escrow manager ---- */

#define good(l) (esc[l] == HELD && !bad[l] && exp[l] >= EXP)

inline resumeManager() {
  resume[MGR] = false;
  if :: jRel[3 * SEC + MGR] && esc[SEC] == HELD && pRel[SEC] == NONE -> pRel[SEC] = 0; revealed = true :: else -> skip fi;
  if :: jRel[3 * CASH + MGR] && esc[CASH] == HELD && pRel[CASH] == NONE -> pRel[CASH] = 0; revealed = true :: else -> skip fi;
  if :: jRetM[SEC] && esc[SEC] == HELD && pRetC[SEC] == NONE -> pRetC[SEC] = 0 :: else -> skip fi;
  if :: jRetM[CASH] && esc[CASH] == HELD && pRetC[CASH] == NONE -> pRetC[CASH] = 0 :: else -> skip fi
}

/* A release: sent (s public), or the manager dies first; a release never sent is not resumed
 * (MANAGER_RESUME): the manager's loop decides again, by the same rule. */
inline releaseM(l) {
  if
  :: pRel[l] = 0; revealed = true; jRel[3 * l + MGR] = true; sent[MGR] = true
  :: crashes[MGR] < MAXCRASH -> crash(MGR)
  fi
}

#define mReleasable(l) (esc[l] == HELD && !jRel[3 * l + MGR] && pRel[l] == NONE && inTime(MGR, l))
#define mReturnable(l) (esc[l] == HELD && !bad[l] && !jRetM[l] && pRetC[l] == NONE)

inline honestManager() {
  if
  :: decision == WAIT && ((esc[SEC] == HELD && !good(SEC)) || (esc[CASH] == HELD && !good(CASH))) -> decision = ABORT
  :: decision == WAIT && clockG(MGR) >= D -> decision = ABORT
  :: decision == WAIT && clockG(MGR) < D && good(SEC) && good(CASH) && notary == YES -> decision = COMMIT
  :: decision == WAIT && clockG(MGR) < D && good(SEC) && good(CASH) && notary == NO -> decision = ABORT
  :: decision == COMMIT && mReleasable(SEC) -> releaseM(SEC)
  :: decision == COMMIT && !mReleasable(SEC) && mReleasable(CASH) -> releaseM(CASH)
  :: decision == ABORT && mReturnable(SEC) -> jRetM[SEC] = true; broadcast(MGR, pRetC[SEC], false)
  :: decision == ABORT && !mReturnable(SEC) && mReturnable(CASH) -> jRetM[CASH] = true; broadcast(MGR, pRetC[CASH], false)
  :: else -> skip
  fi
}

inline manager() {
  if
  :: down[MGR] != 0 && down[MGR] != NONE -> down[MGR]--
  :: up(MGR) && resume[MGR] -> resumeManager()
  :: up(MGR) && !resume[MGR] && crashes[MGR] < MAXCRASH -> crash(MGR)
  :: up(MGR) && !resume[MGR] -> honestManager()
  :: else -> skip
  fi
}

/* ---- messages and the notary ---- */

/* the decision reaches bank b (up, or a script) in any round after it is made, or never */
inline tell(b) {
  if
  :: decision != WAIT && told[b] == WAIT && (up(b) || !honest[b]) -> told[b] = decision; toldAt[b] = clockG(b)
  :: skip
  fi
}

inline notaryAnswers() {
  if
  :: notary == WAIT && good(SEC) && good(CASH) -> notary = YES
  :: notary == WAIT && good(SEC) && good(CASH) -> notary = NO
  :: skip
  fi
}

/* ---- the run ---- */

inline offset(o) {
  if
  :: o = 0
  :: SKEW >= 1 -> o = 1
  :: SKEW >= 2 -> o = 2
  fi
}

#define waiting (pDep[0] != NONE || pRel[0] != NONE || pRetC[0] != NONE || pRetD[0] != NONE || \
                 pDep[1] != NONE || pRel[1] != NONE || pRetC[1] != NONE || pRetD[1] != NONE)
#define keeps(b) (honest[b] && reliable[b])

active proctype dvp() {
  if
  :: honest[0] = true; honest[1] = true
  :: honest[0] = true; honest[1] = false
  :: honest[0] = false; honest[1] = true
  fi;
  if :: reliable[0] = true :: reliable[0] = false fi;
  if :: reliable[1] = true :: reliable[1] = false fi;
  if :: reliable[MGR] = true :: reliable[MGR] = false fi;
  offset(offLedger[0]); offset(offLedger[1]); offset(off[0]); offset(off[1]); offset(off[MGR]);

  do
  :: t < TMAX || waiting ->
     atomic {
       ledger(SEC);
       ledger(CASH);
       notaryAnswers();
       tell(0);
       tell(1);
       manager();
       bank(0);
       bank(1);
       if :: t < TMAX -> t++ :: else -> skip fi
     }
  :: else -> break
  od;

  /* no principal loss for an honest bank that always comes back (the seller, then the buyer) */
  assert(!keeps(0) || !(esc[SEC] == RELEASED && esc[CASH] != RELEASED));
  assert(!keeps(0) || esc[SEC] != HELD);
  assert(!keeps(1) || !(esc[CASH] == RELEASED && esc[SEC] != RELEASED));
  assert(!keeps(1) || esc[CASH] != HELD);
  /* atomicity when both banks are honest and come back */
  assert(!(keeps(0) && keeps(1)) || ((esc[SEC] == RELEASED) == (esc[CASH] == RELEASED)))
}
