// SPDX-License-Identifier: MIT
pragma solidity ^0.8.25;

/// @title L1Block
/// @notice The L1 attributes predeploy (0x4200000000000000000000000000000000000015) of the devnet
///         chains, written for lockstep. Its storage layout is the OP Stack's, because the OP EVM
///         reads the L1 fee parameters straight from these slots; the first transaction of every
///         block, a deposit from the depositor account, calls the setter of the block's fork:
///         `setL1BlockValues` (Bedrock's ABI), `setL1BlockValuesEcotone`,
///         `setL1BlockValuesIsthmus` or `setL1BlockValuesJovian` (packed).
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
    uint16 public daFootprintGasScalar; // slot 8, bytes 18..20

    error OnlyDepositor();
    error BadLength();

    /// @notice Sets the L1 attributes before Ecotone.
    function setL1BlockValues(
        uint64 _number,
        uint64 _timestamp,
        uint256 _basefee,
        bytes32 _hash,
        uint64 _sequenceNumber,
        bytes32 _batcherHash,
        uint256 _l1FeeOverhead,
        uint256 _l1FeeScalar
    ) external {
        if (msg.sender != DEPOSITOR_ACCOUNT) revert OnlyDepositor();
        number = _number;
        timestamp = _timestamp;
        basefee = _basefee;
        hash = _hash;
        sequenceNumber = _sequenceNumber;
        batcherHash = _batcherHash;
        l1FeeOverhead = _l1FeeOverhead;
        l1FeeScalar = _l1FeeScalar;
    }

    /// @notice Sets the L1 attributes from the packed Ecotone calldata: the Isthmus layout
    ///         without the operator fee (164 bytes).
    function setL1BlockValuesEcotone() external {
        if (msg.sender != DEPOSITOR_ACCOUNT) revert OnlyDepositor();
        if (msg.data.length != 164) revert BadLength();
        setPacked();
    }

    function setPacked() private {
        baseFeeScalar = uint32(bytes4(msg.data[4:8]));
        blobBaseFeeScalar = uint32(bytes4(msg.data[8:12]));
        sequenceNumber = uint64(bytes8(msg.data[12:20]));
        timestamp = uint64(bytes8(msg.data[20:28]));
        number = uint64(bytes8(msg.data[28:36]));
        basefee = uint256(bytes32(msg.data[36:68]));
        blobBaseFee = uint256(bytes32(msg.data[68:100]));
        hash = bytes32(msg.data[100:132]);
        batcherHash = bytes32(msg.data[132:164]);
    }

    /// @notice Sets the L1 attributes from the packed Isthmus calldata: baseFeeScalar (4),
    ///         blobBaseFeeScalar (4), sequenceNumber (8), timestamp (8), number (8), basefee (32),
    ///         blobBaseFee (32), hash (32), batcherHash (32), operatorFeeScalar (4),
    ///         operatorFeeConstant (8).
    function setL1BlockValuesIsthmus() external {
        if (msg.sender != DEPOSITOR_ACCOUNT) revert OnlyDepositor();
        if (msg.data.length != 176) revert BadLength();
        setPacked();
        operatorFeeScalar = uint32(bytes4(msg.data[164:168]));
        operatorFeeConstant = uint64(bytes8(msg.data[168:176]));
    }

    /// @notice Sets the L1 attributes from the packed Jovian calldata: the Isthmus layout and
    ///         daFootprintGasScalar (2), 178 bytes.
    function setL1BlockValuesJovian() external {
        if (msg.sender != DEPOSITOR_ACCOUNT) revert OnlyDepositor();
        if (msg.data.length != 178) revert BadLength();
        setPacked();
        operatorFeeScalar = uint32(bytes4(msg.data[164:168]));
        operatorFeeConstant = uint64(bytes8(msg.data[168:176]));
        daFootprintGasScalar = uint16(bytes2(msg.data[176:178]));
    }
}
