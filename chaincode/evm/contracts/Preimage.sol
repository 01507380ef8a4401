// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @dev The hashlock rule shared with the securities chaincode: SHA-256 over exactly this many
/// bytes, so one preimage opens both ledgers.
uint256 constant PREIMAGE_LENGTH = 32;
