/*
 * HTLC DvP (DESIGN.md 3.1) as the gateways implement it (gateway/src/settlement/htlc), checked
 * with spin. The seller's gateway leads (holds the secret, locks the securities on Fabric with
 * T_L); the buyer's gateway follows (locks the cash on the EVM chain with T_F).
 *
 * Time runs in rounds. In each round: the ledgers include transactions broadcast earlier (each
 * waits 0..LAT rounds, chosen by spin), the leader's notice may reach the follower (or never:
 * message loss), and each gateway takes one step. Every clock (each ledger's and each gateway's)
 * is the round plus its own offset of 0..SKEW, chosen at the start: any two clocks differ by up to
 * SKEW. A gateway may crash at the start of a step, or after journaling an action and before
 * broadcasting it (the journal survives, the broadcast is lost); it is down for DOWN rounds, then
 * resumes its journal as engine.resume does. A gateway that is not `reliable` may also never come
 * back; one that is not `honest` is replaced by a script that may broadcast anything at any time,
 * within what its ledger accepts.
 *
 * The ledgers' rules (both contracts): a claim is accepted strictly before the lock's expiry, a
 * refund at or after it, each only while the lock is open; a broadcast claim makes the preimage
 * public whether it is accepted or not (its arguments are on the chain, or seen by the endorsing
 * peers).
 *
 * Checked at the end of every run, once every lock has expired and every transaction is in:
 * - no principal loss: an honest gateway that always comes back never gives its asset without
 *   receiving the other, and never ends with its asset still locked;
 * - atomicity: with both gateways honest and coming back, both assets are delivered or neither.
 *
 * Parameters (spin -D...): DELTA (Δ), SKEW, LAT, DOWN, MAXCRASH (crashes per gateway), and
 * MARGIN: the leader claims only while its clock + MARGIN < the follower's expiry. The gateway's
 * rule is MARGIN = Δ (the default); MARGIN 0 is the rule it had before this model found that a
 * claim landing after the expiry shows the preimage for nothing (model/README.md).
 */

#ifndef DELTA
#define DELTA 4
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
#ifndef MAXCRASH
#define MAXCRASH 1
#endif
#ifndef MARGIN
#define MARGIN DELTA
#endif

#define TF 3                 /* the follower's timelock */
#define TL (TF + DELTA)      /* the leader's: the least the rule T_L >= T_F + delta allows */
#define DEADLINE 2           /* settlement deadline: nothing is locked at or after it */
#define TMAX (DEADLINE + TL + 2 * SKEW + DOWN + LAT + 3)
#define NONE 255             /* no transaction waiting; or a gateway down for good */

mtype = { OPEN, LOCKED, CLAIMED, REFUNDED };

/* the two locks on their ledgers */
mtype sec = OPEN;            /* OPEN: not locked yet */
mtype cash = OPEN;
byte secExp, cashExp;
bool cashWrong;              /* the cash lock's amount, receiver or hashlock is not the trade's */
bool revealed;               /* the preimage is public */

/* broadcast transactions not yet included: rounds waited so far, or NONE */
byte pSecLock = NONE, pSecClaim = NONE, pSecRefund = NONE;
byte pCashLock = NONE, pCashClaim = NONE, pCashRefund = NONE;
byte pSecExp, pCashExp;
bool pCashWrong;

byte t;
hidden byte go;                   /* scratch: see due() */
byte offF, offE, offL, offB; /* clock offsets: Fabric, the EVM chain, the leader, the follower */

bool honestL, honestB, reliableL, reliableB;
byte downL, downB;           /* rounds left down (NONE: for good) */
byte crashesL, crashesB;
bool resumeL, resumeB;       /* came back: resume the journal first */

/* the gateways' journals: actions recorded and not finished */
bool jSecLock, jClaim, jCashLock, jSecClaim;
byte jSecExp, jCashExp;
bool notice;                 /* the leader's lock notice reached the follower */

#define clockF (t + offF)
#define clockE (t + offE)
#define clockL (t + offL)
#define clockB (t + offB)
#define upL (downL == 0)
#define upB (downB == 0)

/* ---- the ledgers ---- */

/* `go`: the transaction waiting in `p` is included in this round (after 0..LAT rounds) */
inline due(p) {
  go = false;
  if
  :: p != NONE && p < LAT -> p++
  :: p != NONE -> go = true; p = NONE
  :: else -> skip
  fi
}

inline ledgers() {
  due(pSecLock);
  if :: go && sec == OPEN -> sec = LOCKED; secExp = pSecExp :: else -> skip fi;
  due(pSecClaim);
  if :: go && sec == LOCKED && clockF < secExp -> sec = CLAIMED :: else -> skip fi;
  if :: go -> jSecClaim = false :: else -> skip fi;
  due(pSecRefund);
  if :: go && sec == LOCKED && clockF >= secExp -> sec = REFUNDED :: else -> skip fi;
  due(pCashLock);
  if :: go && cash == OPEN -> cash = LOCKED; cashExp = pCashExp; cashWrong = pCashWrong :: else -> skip fi;
  due(pCashClaim);
  if :: go && cash == LOCKED && clockE < cashExp -> cash = CLAIMED :: else -> skip fi;
  if :: go -> jClaim = false :: else -> skip fi;
  due(pCashRefund);
  if :: go && cash == LOCKED && clockE >= cashExp -> cash = REFUNDED :: else -> skip fi
}

/* ---- crashes ---- */

inline crash(down, reliable, crashes, resume) {
  crashes++;
  resume = true;
  if
  :: down = DOWN
  :: !reliable -> down = NONE
  fi
}

/* Broadcasts `p` (with `reveal` set: a claim, which makes the preimage public), or crashes first. */
inline broadcastL(p, reveal) {
  if
  :: p = 0; revealed = revealed || reveal
  :: crashesL < MAXCRASH -> crash(downL, reliableL, crashesL, resumeL)
  fi
}

inline broadcastB(p) {
  if
  :: p = 0
  :: crashesB < MAXCRASH -> crash(downB, reliableB, crashesB, resumeB)
  fi
}

/* ---- the leader (the seller's gateway) ---- */

/* engine.resume: finish every journaled action that is neither included nor waiting */
inline resumeLeader() {
  resumeL = false;
  if
  :: jSecLock && sec == OPEN && pSecLock == NONE -> pSecLock = 0; pSecExp = jSecExp
  :: else -> skip
  fi;
  if
  :: jClaim && cash == LOCKED && pCashClaim == NONE -> pCashClaim = 0; revealed = true /* whatever the time */
  :: else -> skip
  fi
}

/* the follower's lock as the leader verifies it on the follower's ledger */
#define followerLockGood (cash == LOCKED && !cashWrong && cashExp + DELTA <= secExp)

inline honestLeader() {
  if
  :: !jSecLock && clockL < DEADLINE ->
     jSecLock = true; jSecExp = clockL + TL; pSecExp = jSecExp; broadcastL(pSecLock, false)
  :: sec == LOCKED && followerLockGood && !jClaim && pCashClaim == NONE &&
     clockL < secExp && clockL + MARGIN < cashExp ->
     jClaim = true; broadcastL(pCashClaim, true)
  :: sec == LOCKED && clockL >= secExp && pSecRefund == NONE -> broadcastL(pSecRefund, false)
  :: else -> skip
  fi
}

/* a script in the leader's place: any transaction of its own at any time */
inline dishonestLeader() {
  if
  :: sec == OPEN && pSecLock == NONE -> pSecLock = 0;
     if :: pSecExp = clockL + 1 :: pSecExp = clockL + TF :: pSecExp = clockL + TL fi
  :: cash == LOCKED && pCashClaim == NONE -> pCashClaim = 0; revealed = true
  :: revealed = true
  :: sec == LOCKED && pSecRefund == NONE -> pSecRefund = 0
  :: skip
  fi
}

inline leader() {
  if
  :: downL != 0 && downL != NONE -> downL--
  :: upL && resumeL -> resumeLeader()
  :: upL && !resumeL && crashesL < MAXCRASH -> crash(downL, reliableL, crashesL, resumeL)
  :: upL && !resumeL && honestL -> honestLeader()
  :: upL && !resumeL && !honestL -> dishonestLeader()
  :: else -> skip
  fi
}

/* ---- the follower (the buyer's gateway) ---- */

inline resumeFollower() {
  resumeB = false;
  if
  :: jCashLock && cash == OPEN && pCashLock == NONE -> pCashLock = 0; pCashExp = jCashExp; pCashWrong = false
  :: else -> skip
  fi;
  if
  :: jSecClaim && sec == LOCKED && pSecClaim == NONE -> pSecClaim = 0
  :: else -> skip
  fi
}

inline honestFollower() {
  if
  :: notice && sec == LOCKED && !jCashLock && clockB < DEADLINE && secExp >= clockB + TF + DELTA ->
     jCashLock = true; jCashExp = clockB + TF; pCashExp = jCashExp; pCashWrong = false; broadcastB(pCashLock)
  :: cash == CLAIMED && sec == LOCKED && clockB < secExp && pSecClaim == NONE ->
     jSecClaim = true; broadcastB(pSecClaim)
  :: cash == LOCKED && clockB >= cashExp && pCashRefund == NONE -> broadcastB(pCashRefund)
  :: else -> skip
  fi
}

inline dishonestFollower() {
  if
  :: cash == OPEN && pCashLock == NONE -> pCashLock = 0;
     if :: pCashWrong = true :: pCashWrong = false fi;
     if :: pCashExp = clockB + 1 :: pCashExp = clockB + TF :: pCashExp = clockB + TL fi
  :: revealed && sec == LOCKED && pSecClaim == NONE -> pSecClaim = 0
  :: cash == LOCKED && pCashRefund == NONE -> pCashRefund = 0
  :: skip
  fi
}

inline follower() {
  if
  :: downB != 0 && downB != NONE -> downB--
  :: upB && resumeB -> resumeFollower()
  :: upB && !resumeB && crashesB < MAXCRASH -> crash(downB, reliableB, crashesB, resumeB)
  :: upB && !resumeB && honestB -> honestFollower()
  :: upB && !resumeB && !honestB -> dishonestFollower()
  :: else -> skip
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

#define waiting (pSecLock != NONE || pSecClaim != NONE || pSecRefund != NONE || \
                 pCashLock != NONE || pCashClaim != NONE || pCashRefund != NONE)
#define keeps(h, r) (h && r)

active proctype dvp() {
  if
  :: honestL = true; honestB = true
  :: honestL = true; honestB = false
  :: honestL = false; honestB = true
  fi;
  if :: reliableL = true :: reliableL = false fi;
  if :: reliableB = true :: reliableB = false fi;
  offset(offF); offset(offE); offset(offL); offset(offB);

  do
  :: t < TMAX || waiting ->
     atomic {
       ledgers();
       if :: sec != OPEN && !notice -> notice = true :: skip fi; /* delivered, delayed or lost */
       leader();
       follower();
       if :: t < TMAX -> t++ :: else -> skip fi
     }
  :: else -> break
  od;

  /* no principal loss for an honest gateway that always comes back */
  assert(!keeps(honestL, reliableL) || !(sec == CLAIMED && cash != CLAIMED));
  assert(!keeps(honestL, reliableL) || sec != LOCKED);
  assert(!keeps(honestB, reliableB) || !(cash == CLAIMED && sec != CLAIMED));
  assert(!keeps(honestB, reliableB) || cash != LOCKED);
  /* atomicity when both are honest and come back */
  assert(!(keeps(honestL, reliableL) && keeps(honestB, reliableB)) || (sec == CLAIMED) == (cash == CLAIMED))
}
