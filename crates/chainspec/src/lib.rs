//! Chain configuration in the formats operators already have.
//!
//! - op-node's `rollup.json`, read into [`RollupConfig`], or a chain's TOML as the superchain
//!   registry writes it, read into the same;
//! - geth's `genesis.json` (plain or gzip), read into alloy's [`Genesis`];
//! - lockstep's superchain-set TOML, which lists the chains of a set ([`SuperchainSet`]).
//!
//! Every parse error names the file and the field that was wrong.
//!
//! Good starting points: [`ChainSpec::load`], [`ChainSpec::genesis_header`] and
//! [`SuperchainSet::load`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod error;
mod registry;
mod rollup;
mod spec;
mod superchain;

pub use alloy_genesis::Genesis;
pub use error::ChainSpecError;
pub use rollup::{
    BaseFeeConfig, ChainGenesis, GenesisSystemConfig, HardForks, L2ChainId, RollupConfig,
    FJORD_MAX_SEQUENCER_DRIFT, GRANITE_CHANNEL_TIMEOUT,
};
pub use spec::{
    activate_through_isthmus, check_rollup, load_rollup, parse_registry, ChainSpec,
    L2_TO_L1_MESSAGE_PASSER,
};
pub use superchain::{SuperchainChain, SuperchainSet, DEFAULT_COMMITMENT_WINDOW};
