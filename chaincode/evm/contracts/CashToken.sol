// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ICashToken} from "./interfaces/ICashToken.sol";

/// @title CashToken
/// @notice ERC-20 cash token with configurable decimals (2 for cents), issuer-only mint and burn,
/// and an optional allowlist of permitted holders enforced in the single `_update` hook, so
/// transfers, mints and burns are all covered.
contract CashToken is ERC20, AccessControl, ICashToken {
    /// @notice Role allowed to mint and burn.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Role allowed to change the allowlist.
    bytes32 public constant ALLOWLIST_ADMIN_ROLE = keccak256("ALLOWLIST_ADMIN_ROLE");

    uint8 private immutable _decimals;
    bool private immutable _allowlistEnforced;
    mapping(address account => bool) private _permitted;

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param decimals_ Decimal places of the smallest unit (2 for cents).
    /// @param admin Receives the default admin, issuer and allowlist admin roles.
    /// @param allowlistEnforced_ Whether only permitted holders may send and receive.
    constructor(string memory name_, string memory symbol_, uint8 decimals_, address admin, bool allowlistEnforced_)
        ERC20(name_, symbol_)
    {
        _decimals = decimals_;
        _allowlistEnforced = allowlistEnforced_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, admin);
        _grantRole(ALLOWLIST_ADMIN_ROLE, admin);
    }

    /// @notice Decimal places of the smallest unit, fixed at deployment.
    /// @return The number of decimals.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc ICashToken
    function allowlistEnforced() external view returns (bool) {
        return _allowlistEnforced;
    }

    /// @inheritdoc ICashToken
    function isPermittedHolder(address account) public view returns (bool) {
        return !_allowlistEnforced || _permitted[account];
    }

    /// @inheritdoc ICashToken
    function setPermittedHolder(address account, bool permitted) external onlyRole(ALLOWLIST_ADMIN_ROLE) {
        _permitted[account] = permitted;
        emit HolderPermissionChanged(account, permitted, _msgSender());
    }

    /// @inheritdoc ICashToken
    function mint(address to, uint256 amount) external onlyRole(ISSUER_ROLE) {
        _mint(to, amount);
    }

    /// @inheritdoc ICashToken
    function burn(uint256 amount) external onlyRole(ISSUER_ROLE) {
        _burn(_msgSender(), amount);
    }

    /// @dev Every balance change passes here: enforce the allowlist on both non-zero ends.
    function _update(address from, address to, uint256 value) internal override {
        if (_allowlistEnforced) {
            if (from != address(0) && !_permitted[from]) revert CashHolderNotPermitted(from);
            if (to != address(0) && !_permitted[to]) revert CashHolderNotPermitted(to);
        }
        super._update(from, to, value);
    }
}
