// SPDX-License-Identifier: MIT
pragma solidity ^0.8.25;

/// @title BatchCommitments
/// @notice Where the shared sequencer commits, per superchain batch, every chain's output root
///         at the batch's end and every ordered pair's burn and mint roots. lockstep checks each
///         commitment against what it computed from L1 alone.
/// @dev    The contract keeps no rules of its own: anyone may post, any number of times. The
///         verifier decides (DESIGN.md 5.6): only commitments whose `committer` is the set's
///         sequencer count, and a second, different one for the same batch is itself evidence
///         of a lying sequencer (`ConflictingCommitment`), which a contract that refused it
///         would hide.
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

    event Committed(
        uint256 indexed batch, address indexed committer, ChainOutput[] outputs, PairRoots[] pairs
    );

    function commit(uint256 batch, ChainOutput[] calldata outputs, PairRoots[] calldata pairs)
        external
    {
        emit Committed(batch, msg.sender, outputs, pairs);
    }
}
