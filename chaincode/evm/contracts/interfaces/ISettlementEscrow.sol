// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ISettlementEscrow
/// @notice Escrow for the cash leg of an escrow-mode DvP. The controller (escrow manager) releases
/// to the beneficiary, fully or in parts, or returns to the depositor; anyone presenting the
/// preimage may release when a hashlock is set; the depositor may take back what remains at or
/// after expiry. An optional notary must co-sign every release (EIP-712, per-escrow nonce).
/// Escrow ids are not chosen by the caller: each is derived from the depositor and the trade
/// ({computeEscrowId}), so a depositor has at most one escrow per trade and nobody can take
/// another depositor's id first.
interface ISettlementEscrow {
    /// @notice Lifecycle of an escrow. `None` means the escrow id is unknown.
    enum EscrowState {
        None,
        Held,
        Released,
        Returned
    }

    /// @notice An escrow as stored on chain. `released` is the total already paid out.
    struct Escrow {
        bytes32 tradeId;
        address token;
        address depositor;
        address beneficiary;
        address controller;
        address notary;
        uint64 expiry;
        EscrowState state;
        uint64 releaseNonce;
        uint256 amount;
        uint256 released;
        bytes32 hashlock;
    }

    /// @notice `amount` was zero.
    error EscrowZeroAmount();
    /// @notice An address argument was zero.
    /// @param field Which argument: "token", "beneficiary" or "controller".
    error EscrowInvalidAddress(string field);
    /// @notice The expiry was not in the future.
    /// @param expiry The rejected expiry.
    /// @param timestamp The block timestamp.
    error EscrowInvalidExpiry(uint64 expiry, uint256 timestamp);
    /// @notice The token delivered a different amount than requested (fee-on-transfer or rebasing).
    /// @param token The token.
    /// @param expected The amount requested.
    /// @param received The balance increase observed.
    error EscrowTransferAmountMismatch(address token, uint256 expected, uint256 received);
    /// @notice The depositor already has an escrow for this trade.
    /// @param escrowId Its id, {computeEscrowId} of the depositor and the trade.
    error EscrowAlreadyExists(bytes32 escrowId);
    /// @notice No escrow has this id.
    /// @param escrowId The id.
    error EscrowNotFound(bytes32 escrowId);
    /// @notice The escrow was already fully released or returned.
    /// @param escrowId The escrow.
    /// @param state Its current state.
    error EscrowAlreadySettled(bytes32 escrowId, EscrowState state);
    /// @notice `caller` may not do this to the escrow.
    /// @param escrowId The escrow.
    /// @param caller The rejected caller.
    error EscrowUnauthorized(bytes32 escrowId, address caller);
    /// @notice Release at or after expiry.
    /// @param escrowId The escrow.
    /// @param expiry Its expiry.
    /// @param timestamp The block timestamp.
    error EscrowExpired(bytes32 escrowId, uint64 expiry, uint256 timestamp);
    /// @notice Return by the depositor before expiry.
    /// @param escrowId The escrow.
    /// @param expiry Its expiry.
    /// @param timestamp The block timestamp.
    error EscrowNotExpired(bytes32 escrowId, uint64 expiry, uint256 timestamp);
    /// @notice Release of more than what remains.
    /// @param escrowId The escrow.
    /// @param requested The amount asked for.
    /// @param remaining The amount still in escrow.
    error EscrowExceedsRemaining(bytes32 escrowId, uint256 requested, uint256 remaining);
    /// @notice A preimage was presented but the escrow has no hashlock.
    /// @param escrowId The escrow.
    error EscrowNoHashlock(bytes32 escrowId);
    /// @notice The preimage was not exactly 32 bytes long.
    /// @param length The length received.
    error EscrowInvalidPreimageLength(uint256 length);
    /// @notice SHA-256 of the preimage is not the hashlock.
    /// @param escrowId The escrow.
    /// @param hashlock The expected digest.
    /// @param digest The digest of the preimage presented.
    error EscrowPreimageMismatch(bytes32 escrowId, bytes32 hashlock, bytes32 digest);
    /// @notice The notary's signature over (escrowId, amount, nonce) is missing or invalid.
    /// @param escrowId The escrow.
    /// @param notary The notary whose signature was expected.
    /// @param nonce The nonce the signature had to cover.
    error EscrowInvalidNotarySignature(bytes32 escrowId, address notary, uint64 nonce);

    /// @notice `depositor` put `amount` of `token` in escrow for trade `tradeId`, with the terms
    /// a counterparty needs to verify the deposit without a further read.
    event Deposited(
        bytes32 indexed escrowId,
        bytes32 indexed tradeId,
        address indexed depositor,
        address token,
        uint256 amount,
        address beneficiary,
        address controller,
        uint64 expiry,
        bytes32 hashlock,
        address notary
    );

    /// @notice `amount` went to `beneficiary`; `remaining` stays in escrow. `preimage` is zero
    /// unless the release was made by presenting it.
    event Released(
        bytes32 indexed escrowId,
        address indexed beneficiary,
        address indexed caller,
        uint256 amount,
        uint256 remaining,
        bytes32 preimage
    );

    /// @notice The remaining `amount` went back to `depositor`.
    event Returned(bytes32 indexed escrowId, address indexed depositor, address indexed caller, uint256 amount);

    /// @notice Puts `amount` of `token` (pulled from the caller, who must have approved this
    /// contract) in escrow for trade `tradeId`, under the id {computeEscrowId} derives from the
    /// caller and the trade. A second deposit by the same caller for the same trade reverts with
    /// {EscrowAlreadyExists}; another depositor for the same trade gets an escrow of its own.
    /// @param tradeId The trade this escrow belongs to (e.g. keccak256 of the business id).
    /// @param token The ERC-20; fee-on-transfer tokens are rejected.
    /// @param amount The amount in the token's smallest unit, greater than zero.
    /// @param beneficiary Who receives released funds.
    /// @param controller Who may release and return (the escrow manager).
    /// @param expiry Unix seconds, strictly in the future; from then on the depositor may reclaim.
    /// @param hashlock SHA-256 of a 32-byte preimage that also authorizes release; zero for none.
    /// @param notary Who must co-sign every release; zero for none.
    /// @return escrowId The id derived by {computeEscrowId} from the caller and `tradeId`.
    function deposit(
        bytes32 tradeId,
        address token,
        uint256 amount,
        address beneficiary,
        address controller,
        uint64 expiry,
        bytes32 hashlock,
        address notary
    ) external returns (bytes32 escrowId);

    /// @notice Releases `amount` to the beneficiary; controller only, strictly before expiry.
    /// @param escrowId The escrow.
    /// @param amount Part or all of what remains.
    /// @param notarySignature The notary's EIP-712 `Release` signature; empty when no notary.
    function release(bytes32 escrowId, uint256 amount, bytes calldata notarySignature) external;

    /// @notice Releases `amount` to the beneficiary for anyone presenting the preimage, strictly
    /// before expiry. The preimage is published in {Released}.
    /// @param escrowId The escrow.
    /// @param amount Part or all of what remains.
    /// @param preimage Exactly 32 bytes whose SHA-256 is the escrow's hashlock.
    /// @param notarySignature The notary's EIP-712 `Release` signature; empty when no notary.
    function releaseWithPreimage(
        bytes32 escrowId,
        uint256 amount,
        bytes calldata preimage,
        bytes calldata notarySignature
    ) external;

    /// @notice Returns what remains to the depositor: by the controller at any time while held,
    /// or by the depositor at or after expiry.
    /// @param escrowId The escrow.
    function returnFunds(bytes32 escrowId) external;

    /// @notice Reads an escrow; `state` is `None` for an unknown id.
    /// @param escrowId The escrow.
    /// @return The stored escrow.
    function getEscrow(bytes32 escrowId) external view returns (Escrow memory);

    /// @notice The id of `depositor`'s escrow for `tradeId`: keccak256(abi.encode(depositor,
    /// tradeId)). Deterministic, so the depositor (and a counterparty verifying the deposit) knows
    /// it before sending, and a retried deposit finds the first escrow ({EscrowAlreadyExists}).
    /// Unlike a lock id it needs neither the chain nor this contract: it only keys this
    /// contract's storage, and a notary's approval is bound to both by its EIP-712 domain.
    /// @param depositor The depositing account.
    /// @param tradeId The trade.
    /// @return The escrow id.
    function computeEscrowId(address depositor, bytes32 tradeId) external pure returns (bytes32);

    /// @notice The EIP-712 digest the notary signs to approve a release.
    /// @param escrowId The escrow.
    /// @param amount The amount to release.
    /// @param nonce The escrow's current `releaseNonce`.
    /// @return The digest.
    function releaseDigest(bytes32 escrowId, uint256 amount, uint64 nonce) external view returns (bytes32);

    /// @notice Total amount of `token` currently held in escrows.
    /// @param token The token.
    /// @return The escrowed total.
    function totalEscrowed(address token) external view returns (uint256);
}
