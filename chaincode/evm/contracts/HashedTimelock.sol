// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IHashedTimelock} from "./interfaces/IHashedTimelock.sol";
import {PREIMAGE_LENGTH} from "./Preimage.sol";

/// @title HashedTimelock
/// @notice HTLC for any ERC-20 with SHA-256 over exactly 32 bytes. See {IHashedTimelock}.
contract HashedTimelock is IHashedTimelock, ReentrancyGuard {
    using SafeERC20 for IERC20;

    mapping(bytes32 lockId => Lock) private _locks;
    mapping(address token => uint256) private _totalLocked;

    /// @inheritdoc IHashedTimelock
    function lock(address receiver, address token, uint256 amount, bytes32 hashlock, uint64 expiry)
        external
        nonReentrant
        returns (bytes32 lockId)
    {
        if (amount == 0) revert HtlcZeroAmount();
        if (receiver == address(0)) revert HtlcInvalidReceiver(receiver);
        if (token == address(0)) revert HtlcInvalidToken(token);
        if (hashlock == bytes32(0)) revert HtlcInvalidHashlock();
        if (expiry <= block.timestamp) revert HtlcInvalidExpiry(expiry, block.timestamp);

        lockId = computeLockId(msg.sender, receiver, token, amount, hashlock, expiry);
        // The same terms twice are a retry of the same lock, never a second one: a gateway that
        // does not know whether its first attempt was mined can always send it again safely.
        if (_locks[lockId].state != LockState.None) revert HtlcLockExists(lockId);
        // Effects before the external call.
        _locks[lockId] = Lock({
            sender: msg.sender,
            receiver: receiver,
            token: token,
            expiry: expiry,
            state: LockState.Locked,
            amount: amount,
            hashlock: hashlock
        });
        _totalLocked[token] += amount;

        uint256 received = _pull(IERC20(token), msg.sender, amount);
        if (received != amount) revert HtlcTransferAmountMismatch(token, amount, received);

        emit Locked(lockId, hashlock, receiver, msg.sender, token, amount, expiry);
    }

    /// @inheritdoc IHashedTimelock
    function claim(bytes32 lockId, bytes calldata preimage) external nonReentrant {
        if (preimage.length != PREIMAGE_LENGTH) revert HtlcInvalidPreimageLength(preimage.length);
        Lock storage l = _openLock(lockId);
        if (block.timestamp >= l.expiry) revert HtlcExpired(lockId, l.expiry, block.timestamp);
        bytes32 digest = sha256(preimage);
        if (digest != l.hashlock) revert HtlcPreimageMismatch(lockId, l.hashlock, digest);

        l.state = LockState.Claimed;
        _release(l.token, l.amount);
        IERC20(l.token).safeTransfer(l.receiver, l.amount);
        emit Claimed(lockId, l.hashlock, l.receiver, bytes32(preimage), l.amount);
    }

    /// @inheritdoc IHashedTimelock
    function refund(bytes32 lockId) external nonReentrant {
        Lock storage l = _openLock(lockId);
        if (block.timestamp < l.expiry) revert HtlcNotExpired(lockId, l.expiry, block.timestamp);

        l.state = LockState.Refunded;
        _release(l.token, l.amount);
        IERC20(l.token).safeTransfer(l.sender, l.amount);
        emit Refunded(lockId, l.sender, l.amount);
    }

    /// @inheritdoc IHashedTimelock
    function getLock(bytes32 lockId) external view returns (Lock memory) {
        return _locks[lockId];
    }

    /// @inheritdoc IHashedTimelock
    function totalLocked(address token) external view returns (uint256) {
        return _totalLocked[token];
    }

    /// @inheritdoc IHashedTimelock
    function computeLockId(
        address sender,
        address receiver,
        address token,
        uint256 amount,
        bytes32 hashlock,
        uint64 expiry
    ) public view returns (bytes32) {
        // Chain id and contract address make ids unique across deployments and chains.
        return keccak256(
            abi.encode(block.chainid, address(this), sender, receiver, token, amount, hashlock, expiry)
        );
    }

    function _openLock(bytes32 lockId) private view returns (Lock storage l) {
        l = _locks[lockId];
        if (l.state == LockState.None) revert HtlcLockNotFound(lockId);
        if (l.state != LockState.Locked) revert HtlcAlreadySettled(lockId, l.state);
    }

    function _release(address token, uint256 amount) private {
        // Cannot underflow: `amount` was added to this token's total when the lock was created
        // and each lock leaves the Locked state (and is subtracted) exactly once.
        unchecked {
            _totalLocked[token] -= amount;
        }
    }

    /// @dev Pulls `amount` and returns the balance increase actually observed.
    function _pull(IERC20 token, address from, uint256 amount) private returns (uint256) {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(from, address(this), amount);
        return token.balanceOf(address(this)) - before;
    }
}
