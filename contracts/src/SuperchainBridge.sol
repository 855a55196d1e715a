// SPDX-License-Identifier: MIT
pragma solidity ^0.8.25;

import {IERC7802} from "./IERC7802.sol";

/// @title SuperchainBridge
/// @notice The bridge predeploy of every chain of a lockstep superchain set. A burn on a source
///         chain is paid out by a mint that the shared sequencer relays on the destination chain in
///         the same superchain batch. lockstep's verifier depends only on the two events below.
contract SuperchainBridge {
    /// @notice A successful burn of `amount` of `token` (address(0): the native asset) for
    ///         `destination`. `nonce` counts from 0 for each (source, destination) pair.
    event Burn(
        uint256 indexed destination,
        uint256 indexed nonce,
        address indexed token,
        address from,
        address to,
        uint256 amount
    );

    /// @notice The mint the shared sequencer relayed for burn `nonce` of chain `source`.
    event Mint(
        uint256 indexed source,
        uint256 indexed nonce,
        address indexed token,
        address from,
        address to,
        uint256 amount
    );

    error SameChain();
    error WrongValue();
    error ZeroAmount();
    error NotSequencer();
    error AlreadyRelayed(uint256 source, uint256 nonce);
    error NativePayoutFailed();

    /// @notice The shared sequencer's system address: the only caller allowed to relay.
    ///         Slot 0, set in the genesis.
    address public sequencer;

    /// @notice The next burn nonce towards each destination chain.
    mapping(uint256 => uint256) public nextNonce;

    /// @notice Whether burn `nonce` of chain `source` has been relayed here.
    mapping(uint256 => mapping(uint256 => bool)) public relayed;

    /// @notice Burns `amount` of `token` (address(0): the native asset, sent as value, which
    ///         goes into this contract's reserve) to be minted to `to` on `destination`.
    function burn(uint256 destination, address token, address to, uint256 amount)
        external
        payable
        returns (uint256 nonce)
    {
        if (destination == block.chainid) revert SameChain();
        if (amount == 0) revert ZeroAmount();
        if (token == address(0)) {
            if (msg.value != amount) revert WrongValue();
        } else {
            if (msg.value != 0) revert WrongValue();
            IERC7802(token).crosschainBurn(msg.sender, amount);
        }
        nonce = nextNonce[destination]++;
        emit Burn(destination, nonce, token, msg.sender, to, amount);
    }

    /// @notice Pays out burn `nonce` of chain `source`. Native mints come out of the reserve.
    function relay(
        uint256 source,
        uint256 nonce,
        address token,
        address from,
        address to,
        uint256 amount
    ) external {
        if (msg.sender != sequencer) revert NotSequencer();
        if (relayed[source][nonce]) revert AlreadyRelayed(source, nonce);
        relayed[source][nonce] = true;
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert NativePayoutFailed();
        } else {
            IERC7802(token).crosschainMint(to, amount);
        }
        emit Mint(source, nonce, token, from, to, amount);
    }
}
