// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ISettlementEscrow} from "./interfaces/ISettlementEscrow.sol";
import {PREIMAGE_LENGTH} from "./Preimage.sol";

/// @title SettlementEscrow
/// @notice Escrow for the cash leg of a DvP. See {ISettlementEscrow}.
contract SettlementEscrow is ISettlementEscrow, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice EIP-712 type the notary signs to approve one release.
    bytes32 public constant RELEASE_TYPEHASH = keccak256("Release(bytes32 escrowId,uint256 amount,uint64 nonce)");

    mapping(bytes32 escrowId => Escrow) private _escrows;
    mapping(address token => uint256) private _totalEscrowed;

    /// @notice Fixes the EIP-712 domain notaries sign under: name "SettlementEscrow", version "1".
    constructor() EIP712("SettlementEscrow", "1") {}

    /// @inheritdoc ISettlementEscrow
    function deposit(
        bytes32 tradeId,
        address token,
        uint256 amount,
        address beneficiary,
        address controller,
        uint64 expiry,
        bytes32 hashlock,
        address notary
    ) external nonReentrant returns (bytes32 escrowId) {
        if (amount == 0) revert EscrowZeroAmount();
        if (token == address(0)) revert EscrowInvalidAddress("token");
        if (beneficiary == address(0)) revert EscrowInvalidAddress("beneficiary");
        if (controller == address(0)) revert EscrowInvalidAddress("controller");
        if (expiry <= block.timestamp) revert EscrowInvalidExpiry(expiry, block.timestamp);

        escrowId = computeEscrowId(msg.sender, tradeId);
        // One escrow per depositor and trade: a second deposit is a retry (or a mistake), never a
        // second escrow, and since the id includes the depositor nobody can occupy it first.
        if (_escrows[escrowId].state != EscrowState.None) revert EscrowAlreadyExists(escrowId);

        Escrow storage e = _escrows[escrowId];
        e.tradeId = tradeId;
        e.token = token;
        e.depositor = msg.sender;
        e.beneficiary = beneficiary;
        e.controller = controller;
        e.notary = notary;
        e.expiry = expiry;
        e.state = EscrowState.Held;
        e.amount = amount;
        e.hashlock = hashlock;
        _totalEscrowed[token] += amount;

        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert EscrowTransferAmountMismatch(token, amount, received);

        emit Deposited(escrowId, tradeId, msg.sender, token, amount, beneficiary, controller, expiry, hashlock, notary);
    }

    /// @inheritdoc ISettlementEscrow
    function release(bytes32 escrowId, uint256 amount, bytes calldata notarySignature) external nonReentrant {
        Escrow storage e = _heldEscrow(escrowId);
        if (msg.sender != e.controller) revert EscrowUnauthorized(escrowId, msg.sender);
        _requireNotExpired(escrowId, e);
        _release(escrowId, e, amount, notarySignature, bytes32(0));
    }

    /// @inheritdoc ISettlementEscrow
    function releaseWithPreimage(
        bytes32 escrowId,
        uint256 amount,
        bytes calldata preimage,
        bytes calldata notarySignature
    ) external nonReentrant {
        if (preimage.length != PREIMAGE_LENGTH) revert EscrowInvalidPreimageLength(preimage.length);
        Escrow storage e = _heldEscrow(escrowId);
        if (e.hashlock == bytes32(0)) revert EscrowNoHashlock(escrowId);
        // Expiry before the digest, as in the HTLC and the chaincode: at or after expiry any
        // preimage, right or wrong, gets EscrowExpired.
        _requireNotExpired(escrowId, e);
        bytes32 digest = sha256(preimage);
        if (digest != e.hashlock) revert EscrowPreimageMismatch(escrowId, e.hashlock, digest);
        _release(escrowId, e, amount, notarySignature, bytes32(preimage));
    }

    /// @inheritdoc ISettlementEscrow
    function returnFunds(bytes32 escrowId) external nonReentrant {
        Escrow storage e = _heldEscrow(escrowId);
        if (msg.sender != e.controller) {
            if (msg.sender != e.depositor) revert EscrowUnauthorized(escrowId, msg.sender);
            if (block.timestamp < e.expiry) revert EscrowNotExpired(escrowId, e.expiry, block.timestamp);
        }
        uint256 remaining;
        // Cannot underflow: `released` only grows through {_release}, which caps it at `amount`.
        unchecked {
            remaining = e.amount - e.released;
        }
        e.state = EscrowState.Returned;
        _debit(e.token, remaining);
        IERC20(e.token).safeTransfer(e.depositor, remaining);
        emit Returned(escrowId, e.depositor, msg.sender, remaining);
    }

    /// @inheritdoc ISettlementEscrow
    function getEscrow(bytes32 escrowId) external view returns (Escrow memory) {
        return _escrows[escrowId];
    }

    /// @inheritdoc ISettlementEscrow
    function computeEscrowId(address depositor, bytes32 tradeId) public pure returns (bytes32) {
        return keccak256(abi.encode(depositor, tradeId));
    }

    /// @inheritdoc ISettlementEscrow
    function releaseDigest(bytes32 escrowId, uint256 amount, uint64 nonce) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(RELEASE_TYPEHASH, escrowId, amount, nonce)));
    }

    /// @inheritdoc ISettlementEscrow
    function totalEscrowed(address token) external view returns (uint256) {
        return _totalEscrowed[token];
    }

    function _heldEscrow(bytes32 escrowId) private view returns (Escrow storage e) {
        e = _escrows[escrowId];
        if (e.state == EscrowState.None) revert EscrowNotFound(escrowId);
        if (e.state != EscrowState.Held) revert EscrowAlreadySettled(escrowId, e.state);
    }

    /// @dev Releases are allowed strictly before expiry (the depositor's return window starts at it).
    function _requireNotExpired(bytes32 escrowId, Escrow storage e) private view {
        if (block.timestamp >= e.expiry) revert EscrowExpired(escrowId, e.expiry, block.timestamp);
    }

    /// @dev Shared tail of both release paths, after the caller was authorized before expiry.
    function _release(bytes32 escrowId, Escrow storage e, uint256 amount, bytes calldata sig, bytes32 preimage)
        private
    {
        if (amount == 0) revert EscrowZeroAmount();
        uint256 remaining;
        // Cannot underflow: `released` never exceeds `amount` (checked below before it grows).
        unchecked {
            remaining = e.amount - e.released;
        }
        if (amount > remaining) revert EscrowExceedsRemaining(escrowId, amount, remaining);
        if (e.notary != address(0)) _useNotaryApproval(escrowId, e, amount, sig);

        // Cannot overflow or underflow: amount <= remaining = e.amount - e.released.
        unchecked {
            e.released += amount;
            remaining -= amount;
        }
        if (remaining == 0) e.state = EscrowState.Released;
        _debit(e.token, amount);
        IERC20(e.token).safeTransfer(e.beneficiary, amount);
        emit Released(escrowId, e.beneficiary, msg.sender, amount, remaining, preimage);
    }

    /// @dev Checks the notary's signature over the current nonce, then burns the nonce so the same
    /// approval cannot be replayed for a second partial release.
    function _useNotaryApproval(bytes32 escrowId, Escrow storage e, uint256 amount, bytes calldata sig) private {
        uint64 nonce = e.releaseNonce;
        bytes32 digest = releaseDigest(escrowId, amount, nonce);
        if (!SignatureChecker.isValidSignatureNowCalldata(e.notary, digest, sig)) {
            revert EscrowInvalidNotarySignature(escrowId, e.notary, nonce);
        }
        e.releaseNonce = nonce + 1;
    }

    function _debit(address token, uint256 amount) private {
        // Cannot underflow: every amount debited was credited to this token's total at deposit,
        // and the per-escrow accounting never pays out more than was deposited.
        unchecked {
            _totalEscrowed[token] -= amount;
        }
    }
}
