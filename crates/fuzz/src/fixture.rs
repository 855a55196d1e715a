//! What the targets run against, built once per process: the devnet's config files, and a
//! short devnet run (embedded L1, sequencer and verifier databases) whose RPC modules serve the
//! `rpc` target in-process.

use jsonrpsee::RpcModule;
use lockstep_chainspec::RollupConfig;
use lockstep_devnet::{Devnet, DevnetConfig, DevnetOptions};
use std::{
    path::PathBuf,
    sync::{Arc, OnceLock},
};

/// The devnet's first chain, 901.
pub(crate) const CHAIN: u64 = 901;

/// The devnet's config files, written once to a directory that lives as long as the process.
pub(crate) struct Configs {
    /// `superchain.toml` and the chains' directories.
    pub(crate) dir: PathBuf,
    /// Chain 901's `rollup.json` and `genesis.json`, as written.
    pub(crate) rollup_json: Vec<u8>,
    pub(crate) genesis_json: Vec<u8>,
    /// Chain 901's rollup config.
    pub(crate) rollup: RollupConfig,
    _dir: tempfile::TempDir,
}

pub(crate) fn configs() -> &'static Configs {
    static CONFIGS: OnceLock<Configs> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let config = DevnetConfig::default();
        config.write(tmp.path()).expect("the devnet's config files");
        let read = |rel: &str| std::fs::read(tmp.path().join(rel)).expect("a written config");
        Configs {
            dir: tmp.path().to_path_buf(),
            rollup_json: read("op/rollup.json"),
            genesis_json: read("op/genesis.json"),
            rollup: config.rollup_config(CHAIN),
            _dir: tmp,
        }
    })
}

/// The RPC modules of a node and a sequencer that have run a few devnet batches, one with a
/// fault so that a batch is flagged.
pub(crate) struct Servers {
    pub(crate) runtime: tokio::runtime::Runtime,
    /// The node's `superchain_` module.
    pub(crate) superchain: RpcModule<()>,
    /// The node's `eth_` module of chain 901.
    pub(crate) eth: RpcModule<()>,
    /// The sequencer's module of chain 901 (`eth_sendRawTransaction` and the reads).
    pub(crate) sequencer: RpcModule<()>,
    /// Kept for the databases the modules read.
    _dir: tempfile::TempDir,
}

pub(crate) fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let options = DevnetOptions {
            blocks_per_batch: 6,
            txs_per_block: 4,
            faults: vec!["alter-amount@2".parse().expect("a fault")],
            ..DevnetOptions::default()
        };
        let mut devnet =
            Devnet::start(&tmp.path().join("sequencer"), options).expect("the devnet starts");
        let config = devnet.config().clone();
        let specs = config.chains.iter().map(|c| config.chain_spec(c.chain_id)).collect();
        let settings = lockstep_node::CheckSettings {
            bridge: lockstep_devnet::BRIDGE,
            sequencer: config.sequencer(),
            commitments: Some(config.commitments()),
            commitment_window: config.commitment_window,
        };
        let mut node = lockstep_node::Node::open(&tmp.path().join("node"), specs, settings)
            .expect("the node opens");
        for _ in 0..4 {
            devnet.step().expect("a devnet step");
            node.sync(&devnet.l1).expect("the node syncs");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let pool = lockstep_rpc::CallPool::default();
        let live = Arc::new(lockstep_rpc::LiveStatus::default());
        let env = node.shared_database();
        let superchain = lockstep_rpc::superchain_module(env.clone(), live.clone(), &pool)
            .expect("the superchain_ module");
        let eth = lockstep_rpc::eth_module(
            env,
            live,
            CHAIN,
            Arc::new(config.rollup_config(CHAIN)),
            lockstep_rpc::EthLimits::default(),
            &pool,
        )
        .expect("the eth_ module");
        let sequencer = lockstep_sequencer::rpc::module(devnet.sequencer(), CHAIN, &pool)
            .expect("the sequencer's module");
        Servers { runtime, superchain, eth, sequencer, _dir: tmp }
    })
}
