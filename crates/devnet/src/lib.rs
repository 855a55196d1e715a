//! lockstep's devnet: the contracts, the dev keys, and the configuration of a two-chain
//! superchain set ("op", 901, and "base", 902) with Isthmus active at genesis.
//!
//! The Solidity sources live in `contracts/src/`; `contracts/build.mjs` compiles them with the
//! pinned solc-js into `contracts/out/`, which [`contracts`] embeds. [`DevnetConfig`] builds each
//! chain's `rollup.json` and `genesis.json` and the superchain-set TOML; the generated files are
//! checked in under `etc/devnet/`.
//!
//! Good starting points: [`DevnetConfig::default`] and [`DevnetConfig::write`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod config;
pub mod contracts;
pub mod l1;
mod run;

pub use config::{
    dev_key, DevnetChain, DevnetConfig, DevnetError, BRIDGE, CREATE2_DEPLOYER, DEV_ACCOUNTS,
    L1_BLOCK, L1_CHAIN_ID, TOKEN,
};
pub use run::{deposits_in, Devnet, DevnetOptions, DevnetRunError, Junk, PostedBatch};
