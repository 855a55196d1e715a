use crate::{spec::field_name, ChainSpec, ChainSpecError};
use alloy_primitives::Address;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One chain entry of the superchain-set file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuperchainChain {
    /// A short name for logs and the CLI, such as `op` or `base`.
    pub name: String,
    /// The chain's `rollup.json`, relative to the set file.
    pub rollup: PathBuf,
    /// The chain's `genesis.json`, relative to the set file.
    pub genesis: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetFile {
    name: String,
    bridge: Address,
    sequencer: Address,
    #[serde(default)]
    commitments: Option<Address>,
    #[serde(default = "default_commitment_window")]
    commitment_window: u64,
    #[serde(rename = "chain")]
    chains: Vec<SuperchainChain>,
}

/// The commitment window when the set file gives none: 300 L1 blocks, an hour at 12 s.
pub const DEFAULT_COMMITMENT_WINDOW: u64 = 300;

const fn default_commitment_window() -> u64 {
    DEFAULT_COMMITMENT_WINDOW
}

/// The chains one lockstep node follows together, read from a TOML file such as
/// `etc/devnet/superchain.toml`.
#[derive(Debug, Clone)]
pub struct SuperchainSet {
    /// The set's name.
    pub name: String,
    /// The bridge predeploy address, the same on every chain of the set.
    pub bridge: Address,
    /// The shared sequencer's system address, the only one allowed to relay mints.
    pub sequencer: Address,
    /// The L1 contract where the sequencer commits each batch (DESIGN.md 5.6); without it the
    /// commitments are not checked.
    pub commitments: Option<Address>,
    /// How many L1 blocks after the one that closes a batch its commitment may come in; past
    /// them the batch is flagged `MissingCommitment` (DESIGN.md 5.6).
    pub commitment_window: u64,
    /// The chains, in file order, with their loaded specs.
    pub chains: Vec<(SuperchainChain, ChainSpec)>,
}

impl SuperchainSet {
    /// Reads the set file and every chain's config files it names.
    pub fn load(path: &Path) -> Result<Self, ChainSpecError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ChainSpecError::Io { path: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// A set from the text of its file at `path`, whose chains' config files are read relative
    /// to `path`, checked as [`Self::load`] checks it.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ChainSpecError> {
        let deserializer =
            toml::Deserializer::parse(text).map_err(|err| ChainSpecError::Invalid {
                path: path.to_path_buf(),
                reason: format!("not valid TOML: {err}"),
            })?;
        let file: SetFile = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            ChainSpecError::Field {
                path: path.to_path_buf(),
                field: field_name(err.path().to_string()),
                message: err.into_inner().message().to_string(),
            }
        })?;
        let invalid = |reason: String| ChainSpecError::Invalid { path: path.to_path_buf(), reason };
        if file.chains.len() < 2 {
            return Err(invalid("a superchain set needs at least two [[chain]] entries".into()));
        }
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        let mut chains: Vec<(SuperchainChain, ChainSpec)> = Vec::with_capacity(file.chains.len());
        for chain in file.chains {
            let spec = ChainSpec::load(&base.join(&chain.rollup), &base.join(&chain.genesis))?;
            if let Some((other, _)) = chains.iter().find(|(_, s)| s.chain_id() == spec.chain_id()) {
                return Err(invalid(format!(
                    "chains `{}` and `{}` have the same chain id {}",
                    other.name,
                    chain.name,
                    spec.chain_id()
                )));
            }
            chains.push((chain, spec));
        }
        let (first_name, first) = (&chains[0].0.name, &chains[0].1);
        for (chain, spec) in &chains[1..] {
            if spec.rollup.block_time != first.rollup.block_time
                || spec.rollup.genesis.l2_time % spec.rollup.block_time
                    != first.rollup.genesis.l2_time % first.rollup.block_time
            {
                return Err(invalid(format!(
                    "chains `{first_name}` and `{}` must share a block time and aligned timestamps",
                    chain.name
                )));
            }
        }
        Ok(Self {
            name: file.name,
            bridge: file.bridge,
            sequencer: file.sequencer,
            commitments: file.commitments,
            commitment_window: file.commitment_window,
            chains,
        })
    }
}
