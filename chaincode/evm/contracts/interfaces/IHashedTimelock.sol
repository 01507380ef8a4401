// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IHashedTimelock
/// @notice Hashed timelock contract (HTLC) for any ERC-20. The hashlock is the SHA-256 of a
/// 32-byte preimage, the same rule as the securities chaincode, so one preimage opens both ledgers.
/// Claim is possible strictly before expiry, refund at or after it: the windows never overlap.
interface IHashedTimelock {
    /// @notice Lifecycle of a lock. `None` means the lock id is unknown.
    enum LockState {
        None,
        Locked,
        Claimed,
        Refunded
    }

    /// @notice A lock as stored on chain.
    struct Lock {
        address sender;
        address receiver;
        address token;
        uint64 expiry;
        LockState state;
        uint256 amount;
        bytes32 hashlock;
    }

    /// @notice `amount` was zero.
    error HtlcZeroAmount();
    /// @notice The receiver was the zero address.
    /// @param receiver The rejected receiver.
    error HtlcInvalidReceiver(address receiver);
    /// @notice The token was the zero address.
    /// @param token The rejected token.
    error HtlcInvalidToken(address token);
    /// @notice The hashlock was zero.
    error HtlcInvalidHashlock();
    /// @notice The expiry was not in the future.
    /// @param expiry The rejected expiry (unix seconds).
    /// @param timestamp The block timestamp.
    error HtlcInvalidExpiry(uint64 expiry, uint256 timestamp);
    /// @notice The token delivered a different amount than requested (fee-on-transfer or rebasing).
    /// @param token The token.
    /// @param expected The amount requested.
    /// @param received The balance increase observed.
    error HtlcTransferAmountMismatch(address token, uint256 expected, uint256 received);
    /// @notice The preimage was not exactly 32 bytes long.
    /// @param length The length received.
    error HtlcInvalidPreimageLength(uint256 length);
    /// @notice No lock has this id.
    /// @param lockId The unknown id.
    error HtlcLockNotFound(bytes32 lockId);
    /// @notice A lock with exactly these terms from the same sender already exists.
    /// @param lockId Its id.
    error HtlcLockExists(bytes32 lockId);
    /// @notice The lock was already claimed or refunded.
    /// @param lockId The lock.
    /// @param state Its current state.
    error HtlcAlreadySettled(bytes32 lockId, LockState state);
    /// @notice Claim at or after expiry.
    /// @param lockId The lock.
    /// @param expiry Its expiry.
    /// @param timestamp The block timestamp.
    error HtlcExpired(bytes32 lockId, uint64 expiry, uint256 timestamp);
    /// @notice Refund before expiry.
    /// @param lockId The lock.
    /// @param expiry Its expiry.
    /// @param timestamp The block timestamp.
    error HtlcNotExpired(bytes32 lockId, uint64 expiry, uint256 timestamp);
    /// @notice SHA-256 of the preimage is not the hashlock.
    /// @param lockId The lock.
    /// @param hashlock The expected digest.
    /// @param digest The digest of the preimage presented.
    error HtlcPreimageMismatch(bytes32 lockId, bytes32 hashlock, bytes32 digest);

    /// @notice `sender` locked `amount` of `token` for `receiver` under `hashlock` until `expiry`.
    event Locked(
        bytes32 indexed lockId,
        bytes32 indexed hashlock,
        address indexed receiver,
        address sender,
        address token,
        uint256 amount,
        uint64 expiry
    );

    /// @notice The lock was claimed: `amount` went to `receiver`; `preimage` is now public.
    event Claimed(
        bytes32 indexed lockId, bytes32 indexed hashlock, address indexed receiver, bytes32 preimage, uint256 amount
    );

    /// @notice The lock expired and `amount` went back to `sender`.
    event Refunded(bytes32 indexed lockId, address indexed sender, uint256 amount);

    /// @notice Locks `amount` of `token` (pulled from the caller, who must have approved this
    /// contract) for `receiver` until `expiry`.
    /// @param receiver Who receives the funds on claim; fixed for the life of the lock.
    /// @param token The ERC-20 to lock; fee-on-transfer tokens are rejected.
    /// @param amount The amount in the token's smallest unit, greater than zero.
    /// @param hashlock SHA-256 of the 32-byte preimage.
    /// @param expiry Unix seconds, strictly in the future.
    /// @return lockId The id derived by {computeLockId} from the sender and the terms.
    function lock(address receiver, address token, uint256 amount, bytes32 hashlock, uint64 expiry)
        external
        returns (bytes32 lockId);

    /// @notice Pays the lock to its receiver; anyone may call, strictly before expiry.
    /// @param lockId The lock.
    /// @param preimage Exactly 32 bytes whose SHA-256 is the hashlock.
    function claim(bytes32 lockId, bytes calldata preimage) external;

    /// @notice Returns the lock to its sender; anyone may call, at or after expiry.
    /// @param lockId The lock.
    function refund(bytes32 lockId) external;

    /// @notice Reads a lock; `state` is `None` for an unknown id.
    /// @param lockId The lock.
    /// @return The stored lock.
    function getLock(bytes32 lockId) external view returns (Lock memory);

    /// @notice The id a lock with these terms gets: deterministic, so a caller knows it before
    /// sending and a retry with the same terms finds the first lock ({HtlcLockExists}).
    /// @param sender The locking account.
    /// @param receiver The receiver.
    /// @param token The token.
    /// @param amount The amount.
    /// @param hashlock The hashlock.
    /// @param expiry The expiry.
    /// @return The lock id.
    function computeLockId(
        address sender,
        address receiver,
        address token,
        uint256 amount,
        bytes32 hashlock,
        uint64 expiry
    ) external view returns (bytes32);

    /// @notice Total amount of `token` currently held in open locks.
    /// @param token The token.
    /// @return The locked total.
    function totalLocked(address token) external view returns (uint256);
}
