// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title ICashToken
/// @notice Tokenized cash (deposit token / wholesale CBDC): an ERC-20 minted and burned by an
/// issuer, optionally restricted to an allowlist of permitted holders.
interface ICashToken is IERC20 {
    /// @notice An account that is not on the allowlist tried to send or receive tokens.
    /// @param account The account that is not permitted.
    error CashHolderNotPermitted(address account);

    /// @notice The allowlist administrator changed whether `account` may hold tokens.
    /// @param account The holder whose permission changed.
    /// @param permitted The new permission.
    /// @param admin The administrator who made the change.
    event HolderPermissionChanged(address indexed account, bool permitted, address indexed admin);

    /// @notice Whether transfers are restricted to permitted holders (fixed at deployment).
    /// @return enforced True when the allowlist is enforced on every transfer, mint and burn.
    function allowlistEnforced() external view returns (bool enforced);

    /// @notice Whether `account` may hold tokens; always true when the allowlist is not enforced.
    /// @param account The account to check.
    /// @return permitted True when `account` may send and receive tokens.
    function isPermittedHolder(address account) external view returns (bool permitted);

    /// @notice Adds `account` to, or removes it from, the allowlist. Allowlist admin only.
    /// @param account The holder to update.
    /// @param permitted The new permission.
    function setPermittedHolder(address account, bool permitted) external;

    /// @notice Creates `amount` tokens for `to`. Issuer only.
    /// @param to The recipient (must be permitted when the allowlist is enforced).
    /// @param amount The amount in the smallest unit.
    function mint(address to, uint256 amount) external;

    /// @notice Destroys `amount` of the caller's own tokens (redemption). Issuer only.
    /// @param amount The amount in the smallest unit.
    function burn(uint256 amount) external;
}
