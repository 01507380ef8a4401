/** `IHashedTimelock.LockState` as returned by `getLock` (`state` field). */
export const lockState = { None: 0, Locked: 1, Claimed: 2, Refunded: 3 } as const;

/** `ISettlementEscrow.EscrowState` as returned by `getEscrow` (`state` field). */
export const escrowState = { None: 0, Held: 1, Released: 2, Returned: 3 } as const;

/** Every preimage is exactly this many bytes; the hashlock is SHA-256 over them. */
export const PREIMAGE_LENGTH = 32;
