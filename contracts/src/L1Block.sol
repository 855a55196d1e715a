// SPDX-License-Identifier: MIT
pragma solidity ^0.8.25;

/// @title L1Block
/// @notice The L1 attributes predeploy (0x4200000000000000000000000000000000000015) of the devnet
///         chains, written for lockstep. Its storage layout is the OP Stack's, because the OP EVM
///         reads the L1 fee parameters straight from these slots; the first transaction of every
///         block, a deposit from the depositor account, calls `setL1BlockValuesIsthmus`.
contract L1Block {
    /// @notice The system account that sends the L1 info deposit.
    address public constant DEPOSITOR_ACCOUNT = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;

    uint64 public number; // slot 0
    uint64 public timestamp; // slot 0
    uint256 public basefee; // slot 1
    bytes32 public hash; // slot 2
    uint64 public sequenceNumber; // slot 3, bytes 24..32
    uint32 public blobBaseFeeScalar; // slot 3, bytes 20..24
    uint32 public baseFeeScalar; // slot 3, bytes 16..20
    bytes32 public batcherHash; // slot 4
    uint256 public l1FeeOverhead; // slot 5
    uint256 public l1FeeScalar; // slot 6
    uint256 public blobBaseFee; // slot 7
    uint64 public operatorFeeConstant; // slot 8, bytes 24..32
    uint32 public operatorFeeScalar; // slot 8, bytes 20..24

    error OnlyDepositor();
    error BadLength();

    /// @notice Sets the L1 attributes from the packed Isthmus calldata: baseFeeScalar (4),
    ///         blobBaseFeeScalar (4), sequenceNumber (8), timestamp (8), number (8), basefee (32),
    ///         blobBaseFee (32), hash (32), batcherHash (32), operatorFeeScalar (4),
    ///         operatorFeeConstant (8).
    function setL1BlockValuesIsthmus() external {
        if (msg.sender != DEPOSITOR_ACCOUNT) revert OnlyDepositor();
        if (msg.data.length != 176) revert BadLength();
        baseFeeScalar = uint32(bytes4(msg.data[4:8]));
        blobBaseFeeScalar = uint32(bytes4(msg.data[8:12]));
        sequenceNumber = uint64(bytes8(msg.data[12:20]));
        timestamp = uint64(bytes8(msg.data[20:28]));
        number = uint64(bytes8(msg.data[28:36]));
        basefee = uint256(bytes32(msg.data[36:68]));
        blobBaseFee = uint256(bytes32(msg.data[68:100]));
        hash = bytes32(msg.data[100:132]);
        batcherHash = bytes32(msg.data[132:164]);
        operatorFeeScalar = uint32(bytes4(msg.data[164:168]));
        operatorFeeConstant = uint64(bytes8(msg.data[168:176]));
    }
}
