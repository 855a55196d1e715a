// SPDX-License-Identifier: MIT
pragma solidity ^0.8.25;

/// @title IERC7802
/// @notice Cross-chain mint and burn of a token by its bridge (ERC-7802).
interface IERC7802 {
    event CrosschainMint(address indexed to, uint256 amount, address indexed sender);
    event CrosschainBurn(address indexed from, uint256 amount, address indexed sender);

    function crosschainMint(address to, uint256 amount) external;
    function crosschainBurn(address from, uint256 amount) external;
}
