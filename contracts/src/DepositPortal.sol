// SPDX-License-Identifier: MIT
pragma solidity ^0.8.25;

/// @title DepositPortal
/// @notice The L1 entry point of one L2 chain's deposits. It emits OptimismPortal's
///         `TransactionDeposited` event in version 0, which OP derivation turns into deposit
///         transactions. ETH sent along is minted on L2 and held here.
contract DepositPortal {
    /// @notice Version 0 opaque data:
    ///         abi.encodePacked(mint, value, gasLimit, isCreation, data).
    event TransactionDeposited(
        address indexed from, address indexed to, uint256 indexed version, bytes opaqueData
    );

    error CreationNeedsZeroTarget();
    error GasLimitTooLow();

    uint160 private constant ALIAS_OFFSET = uint160(0x1111000000000000000000000000000000001111);
    uint64 public constant MINIMUM_GAS_LIMIT = 21_000;

    function depositTransaction(
        address to,
        uint256 value,
        uint64 gasLimit,
        bool isCreation,
        bytes calldata data
    ) external payable {
        if (isCreation && to != address(0)) revert CreationNeedsZeroTarget();
        if (gasLimit < MINIMUM_GAS_LIMIT) revert GasLimitTooLow();
        address from = msg.sender;
        if (msg.sender != tx.origin) {
            unchecked {
                from = address(uint160(msg.sender) + ALIAS_OFFSET);
            }
        }
        bytes memory opaqueData = abi.encodePacked(msg.value, value, gasLimit, isCreation, data);
        emit TransactionDeposited(from, to, 0, opaqueData);
    }

    receive() external payable {
        bytes memory opaqueData = abi.encodePacked(msg.value, msg.value, uint64(100_000), false, bytes(""));
        emit TransactionDeposited(msg.sender, msg.sender, 0, opaqueData);
    }
}
