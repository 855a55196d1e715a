// SPDX-License-Identifier: MIT
pragma solidity ^0.8.25;

/// @title BatchCommitments
/// @notice Where the shared sequencer commits, per superchain batch, every chain's output root
///         at the batch's end and every ordered pair's burn and mint roots. lockstep checks each
///         commitment against what it computed from L1 alone.
contract BatchCommitments {
    struct ChainOutput {
        uint256 chainId;
        uint64 l2Block;
        bytes32 outputRoot;
    }

    struct PairRoots {
        uint256 source;
        uint256 destination;
        bytes32 burnRoot;
        bytes32 mintRoot;
    }

    event Committed(uint256 indexed batch, ChainOutput[] outputs, PairRoots[] pairs);

    error NotSequencer();
    error AlreadyCommitted(uint256 batch);

    /// @notice The only address allowed to commit.
    address public immutable sequencer;

    /// @notice keccak256(abi.encode(outputs, pairs)) of each committed batch.
    mapping(uint256 => bytes32) public commitments;

    constructor(address sequencer_) {
        sequencer = sequencer_;
    }

    function commit(uint256 batch, ChainOutput[] calldata outputs, PairRoots[] calldata pairs)
        external
    {
        if (msg.sender != sequencer) revert NotSequencer();
        if (commitments[batch] != bytes32(0)) revert AlreadyCommitted(batch);
        commitments[batch] = keccak256(abi.encode(outputs, pairs));
        emit Committed(batch, outputs, pairs);
    }
}
