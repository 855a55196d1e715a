// SPDX-License-Identifier: MIT
pragma solidity ^0.8.25;

import {IERC7802} from "./IERC7802.sol";

/// @title SuperchainToken
/// @notice An ERC-20 that the superchain bridge mints and burns (ERC-7802). It sits at the same
///         predeploy address on every chain of the set.
contract SuperchainToken is IERC7802 {
    /// @notice The bridge predeploy, the only caller of crosschainMint and crosschainBurn.
    address public constant BRIDGE = 0x4200000000000000000000000000000000000100;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    error NotBridge();
    error InsufficientBalance();
    error InsufficientAllowance();

    /// @notice Balances, slot 0.
    mapping(address => uint256) public balanceOf;
    /// @notice Allowances, slot 1.
    mapping(address => mapping(address => uint256)) public allowance;
    /// @notice Total supply on this chain, slot 2.
    uint256 public totalSupply;

    string public constant name = "Lockstep Superchain Token";
    string public constant symbol = "LST";
    uint8 public constant decimals = 18;

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < value) revert InsufficientAllowance();
            allowance[from][msg.sender] = allowed - value;
        }
        _move(from, to, value);
        return true;
    }

    function crosschainMint(address to, uint256 amount) external {
        if (msg.sender != BRIDGE) revert NotBridge();
        balanceOf[to] += amount;
        totalSupply += amount;
        emit Transfer(address(0), to, amount);
        emit CrosschainMint(to, amount, msg.sender);
    }

    function crosschainBurn(address from, uint256 amount) external {
        if (msg.sender != BRIDGE) revert NotBridge();
        if (balanceOf[from] < amount) revert InsufficientBalance();
        balanceOf[from] -= amount;
        totalSupply -= amount;
        emit Transfer(from, address(0), amount);
        emit CrosschainBurn(from, amount, msg.sender);
    }

    function _move(address from, address to, uint256 value) internal {
        if (balanceOf[from] < value) revert InsufficientBalance();
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
