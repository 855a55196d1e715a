//! The devnet's chains, keys, addresses and genesis.

use crate::contracts::{L1_BLOCK as L1_BLOCK_CODE, SUPERCHAIN_BRIDGE, SUPERCHAIN_TOKEN};
use alloy_eips::{eip2935, eip4788};
use alloy_genesis::{Genesis, GenesisAccount};
use alloy_primitives::{address, keccak256, Address, B256, U256};
use alloy_signer_local::{coins_bip39::English, MnemonicBuilder, PrivateKeySigner};
use lockstep_chainspec::ChainSpec;
use lockstep_chainspec::{
    BaseFeeConfig, ChainGenesis, GenesisSystemConfig as SystemConfig, RollupConfig,
};
use std::{collections::BTreeMap, path::Path};

/// The bridge predeploy, the same on every chain of the set.
pub const BRIDGE: Address = address!("0x4200000000000000000000000000000000000100");
/// The ERC-7802 token predeploy, the same on every chain of the set.
pub const TOKEN: Address = address!("0x4200000000000000000000000000000000000101");
/// The L1 attributes predeploy.
pub const L1_BLOCK: Address = address!("0x4200000000000000000000000000000000000015");
/// The deterministic deployment proxy's address (an OP Stack preinstall).
pub const CREATE2_DEPLOYER: Address = address!("0x4e59b44847b379578588920cA78FbF26c0B4956C");

/// Its runtime code: `create2(callvalue, calldata[32..], salt = calldata[..32])`, returning
/// the 20-byte address (Arachnid's deterministic-deployment-proxy).
const CREATE2_DEPLOYER_CODE: [u8; 69] = alloy_primitives::hex!(
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3"
);

/// The devnet L1's chain id.
pub const L1_CHAIN_ID: u64 = 900;
/// How many dev user accounts are funded (key indices `0..DEV_ACCOUNTS`).
pub const DEV_ACCOUNTS: u32 = 8;

/// The public test mnemonic that anvil and hardhat also use; these keys guard nothing.
const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Key index of the shared sequencer's system address (relays mints, posts commitments).
const SEQUENCER_INDEX: u32 = 8;
/// Key index of the L1 deployer of the deposit portals and the commitment contract.
const DEPLOYER_INDEX: u32 = 9;
/// Key index of the first chain's batcher; each further chain takes the next one.
const FIRST_BATCHER_INDEX: u32 = 10;

/// The dev key at `index` of the test mnemonic.
pub fn dev_key(index: u32) -> PrivateKeySigner {
    MnemonicBuilder::<English>::default()
        .phrase(DEV_MNEMONIC)
        .index(index)
        .and_then(|b| b.build())
        .unwrap_or_else(|err| panic!("dev key {index}: {err}"))
}

/// Errors writing the devnet configuration.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// One chain of the devnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevnetChain {
    /// Its short name.
    pub name: &'static str,
    /// Its chain id.
    pub chain_id: u64,
}

/// The devnet: its chains, timing, and the L1 addresses they use.
#[derive(Debug, Clone)]
pub struct DevnetConfig {
    /// The chains, in order.
    pub chains: Vec<DevnetChain>,
    /// The L2 genesis timestamp, shared by every chain.
    pub genesis_time: u64,
    /// The L2 block time in seconds.
    pub block_time: u64,
    /// The L2 gas limit.
    pub gas_limit: u64,
    /// The L1 block the chains start from (set by the L1 the devnet runs on).
    pub l1_origin: (u64, B256),
    /// `None`: every fork through Isthmus at genesis. `Some(gap)`: the chains start at Delta and
    /// activate Ecotone, Fjord, Granite, Holocene, Isthmus, Jovian and Karst `gap`, `2 gap`, ...
    /// seconds after genesis, so that one run crosses every activation block.
    pub fork_gap: Option<u64>,
    /// The sequencer window, in L1 blocks: past it without a batch, derivation makes an epoch's
    /// blocks from deposits alone. 3,600 (OP Mainnet's) unless a test wants it reached in seconds.
    pub seq_window_size: u64,
    /// The commitment window, in L1 blocks after the one that closes a batch (DESIGN.md 5.6).
    /// The devnet's sequencer commits in that very block; 4 leaves room and is reached fast.
    pub commitment_window: u64,
}

impl Default for DevnetConfig {
    fn default() -> Self {
        Self {
            chains: vec![
                DevnetChain { name: "op", chain_id: 901 },
                DevnetChain { name: "base", chain_id: 902 },
            ],
            genesis_time: 1_767_225_600,
            block_time: 2,
            gas_limit: 60_000_000,
            l1_origin: (0, B256::ZERO),
            fork_gap: None,
            seq_window_size: 3600,
            commitment_window: 4,
        }
    }
}

impl DevnetConfig {
    /// The shared sequencer's system address.
    pub fn sequencer(&self) -> Address {
        dev_key(SEQUENCER_INDEX).address()
    }

    /// The L1 account that deploys the devnet's L1 contracts.
    pub fn deployer(&self) -> Address {
        dev_key(DEPLOYER_INDEX).address()
    }

    /// The dev user accounts, funded on every chain.
    pub fn dev_accounts(&self) -> Vec<Address> {
        (0..DEV_ACCOUNTS).map(|i| dev_key(i).address()).collect()
    }

    /// Position of chain `chain_id` in the set.
    fn position(&self, chain_id: u64) -> usize {
        self.chains.iter().position(|c| c.chain_id == chain_id).unwrap_or(0)
    }

    /// The batcher key of chain `chain_id`.
    pub fn batcher_key(&self, chain_id: u64) -> PrivateKeySigner {
        dev_key(FIRST_BATCHER_INDEX + self.position(chain_id) as u32)
    }

    /// The batch inbox of chain `chain_id`: `0xff00…` followed by the chain id in decimal digits.
    pub fn batch_inbox(&self, chain_id: u64) -> Address {
        let digits = format!("{chain_id:0>38}");
        let mut bytes = [0u8; 20];
        bytes[0] = 0xff;
        for (i, pair) in digits.as_bytes().chunks(2).enumerate() {
            bytes[1 + i] = (pair[0] - b'0') << 4 | (pair[1] - b'0');
        }
        Address::from(bytes)
    }

    /// The L1 deposit portal of chain `chain_id`: the deployer's contract number `position`.
    pub fn deposit_portal(&self, chain_id: u64) -> Address {
        self.deployer().create(self.position(chain_id) as u64)
    }

    /// The L1 commitment contract, deployed after the portals.
    pub fn commitments(&self) -> Address {
        self.deployer().create(self.chains.len() as u64)
    }

    /// The rollup config of chain `chain_id`, with every hardfork up to Isthmus at genesis.
    pub fn rollup_config(&self, chain_id: u64) -> RollupConfig {
        let (l1_number, l1_hash) = self.l1_origin;
        let mut rollup = RollupConfig {
            genesis: ChainGenesis {
                l1: alloy_eips::BlockNumHash { number: l1_number, hash: l1_hash },
                l2: alloy_eips::BlockNumHash { number: 0, hash: B256::ZERO },
                l2_time: self.genesis_time,
                system_config: Some(SystemConfig {
                    batcher_address: self.batcher_key(chain_id).address(),
                    overhead: U256::ZERO,
                    // before Ecotone the scalar is a plain number (Bedrock's fee formula);
                    // version 0 reads the same from Ecotone on, so a chain that starts at
                    // Delta keeps the same L1 fee parameters across the activation
                    scalar: match self.fork_gap {
                        Some(_) => U256::from(1_000_000u64),
                        None => U256::from(1u64) << 248 | U256::from(1_000_000u64),
                    },
                    gas_limit: self.gas_limit,
                    base_fee_scalar: Some(0),
                    blob_base_fee_scalar: Some(0),
                    eip1559_denominator: Some(250),
                    eip1559_elasticity: Some(6),
                    operator_fee_scalar: Some(0),
                    operator_fee_constant: Some(0),
                    da_footprint_gas_scalar: None,
                    min_base_fee: None,
                }),
            },
            block_time: self.block_time,
            max_sequencer_drift: 600,
            seq_window_size: self.seq_window_size,
            channel_timeout: 300,
            granite_channel_timeout: 50,
            l1_chain_id: L1_CHAIN_ID,
            l2_chain_id: chain_id.into(),
            batch_inbox_address: self.batch_inbox(chain_id),
            deposit_contract_address: self.deposit_portal(chain_id),
            l1_system_config_address: address!("0x5000000000000000000000000000000000000000")
                .create(chain_id),
            protocol_versions_address: Address::ZERO,
            chain_op_config: BaseFeeConfig {
                eip1559_elasticity: 6,
                eip1559_denominator: 50,
                eip1559_denominator_canyon: 250,
            },
            ..Default::default()
        };
        lockstep_chainspec::activate_through_isthmus(&mut rollup);
        if let Some(gap) = self.fork_gap {
            let forks = &mut rollup.hardforks;
            let at = |n: u64| Some(self.genesis_time + n * gap);
            forks.ecotone_time = at(1);
            forks.fjord_time = at(2);
            forks.granite_time = at(3);
            forks.holocene_time = at(4);
            forks.isthmus_time = at(5);
            forks.jovian_time = at(6);
            forks.karst_time = at(7);
        }
        rollup
    }

    /// The L2 time of each fork the chains activate after genesis, by name.
    pub fn activations(&self) -> Vec<(&'static str, u64)> {
        let rollup = self.rollup_config(self.chains.first().map_or(0, |c| c.chain_id));
        let forks = rollup.hardforks;
        [
            ("Ecotone", forks.ecotone_time),
            ("Fjord", forks.fjord_time),
            ("Granite", forks.granite_time),
            ("Holocene", forks.holocene_time),
            ("Isthmus", forks.isthmus_time),
            ("Jovian", forks.jovian_time),
            ("Karst", forks.karst_time),
        ]
        .into_iter()
        .filter_map(|(name, t)| t.filter(|t| *t > self.genesis_time).map(|t| (name, t)))
        .collect()
    }

    /// The genesis of chain `chain_id`: dev accounts, the sequencer, the predeploys, and the
    /// bridge with its native reserve.
    pub fn genesis(&self, chain_id: u64) -> Genesis {
        let ether = U256::from(10u128.pow(18));
        let mut alloc = BTreeMap::new();
        let token_balance = U256::from(1_000_000u64) * ether;
        let mut token_storage = BTreeMap::new();
        for account in self.dev_accounts() {
            alloc.insert(
                account,
                GenesisAccount::default().with_balance(U256::from(10_000u64) * ether),
            );
            // balanceOf is mapping slot 0 of SuperchainToken
            let slot = keccak256([account.into_word().0, [0u8; 32]].concat());
            token_storage.insert(slot, B256::from(token_balance));
        }
        let supply = token_balance * U256::from(self.dev_accounts().len());
        token_storage.insert(B256::with_last_byte(2), B256::from(supply));
        alloc.insert(
            self.sequencer(),
            GenesisAccount::default().with_balance(U256::from(1_000u64) * ether),
        );
        alloc.insert(
            BRIDGE,
            GenesisAccount::default()
                .with_code(Some(SUPERCHAIN_BRIDGE.runtime_code()))
                .with_balance(U256::from(1_000_000u64) * ether)
                .with_storage(Some(BTreeMap::from([(B256::ZERO, self.sequencer().into_word())]))),
        );
        alloc.insert(
            TOKEN,
            GenesisAccount::default()
                .with_code(Some(SUPERCHAIN_TOKEN.runtime_code()))
                .with_storage(Some(token_storage)),
        );
        alloc.insert(
            L1_BLOCK,
            GenesisAccount::default().with_code(Some(L1_BLOCK_CODE.runtime_code())),
        );
        // the deterministic deployment proxy, an OP Stack preinstall, through which Karst's
        // bundle deploys its ConditionalDeployer
        alloc.insert(
            CREATE2_DEPLOYER,
            GenesisAccount::default().with_code(Some(CREATE2_DEPLOYER_CODE.into())),
        );
        // Cancun's and Prague's system contracts: with Ecotone or Isthmus at genesis no upgrade
        // transaction installs them, so the genesis must hold them
        let rollup = self.rollup_config(chain_id);
        if rollup.is_ecotone_active(self.genesis_time) {
            alloc.insert(
                eip4788::BEACON_ROOTS_ADDRESS,
                GenesisAccount::default().with_code(Some(eip4788::BEACON_ROOTS_CODE.clone())),
            );
        }
        if rollup.is_isthmus_active(self.genesis_time) {
            alloc.insert(
                eip2935::HISTORY_STORAGE_ADDRESS,
                GenesisAccount::default().with_code(Some(eip2935::HISTORY_STORAGE_CODE.clone())),
            );
        }
        // Holocene's extra data (version 0, denominator, elasticity), from Jovian version 1 with
        // a minimum base fee of 0; empty before Holocene
        let mut extra = Vec::new();
        if rollup.is_holocene_active(self.genesis_time) {
            extra.push(u8::from(rollup.is_jovian_active(self.genesis_time)));
            extra.extend_from_slice(&250u32.to_be_bytes());
            extra.extend_from_slice(&6u32.to_be_bytes());
            if rollup.is_jovian_active(self.genesis_time) {
                extra.extend_from_slice(&0u64.to_be_bytes());
            }
        }
        Genesis {
            timestamp: self.genesis_time,
            gas_limit: self.gas_limit,
            extra_data: extra.into(),
            base_fee_per_gas: Some(1_000_000),
            coinbase: address!("0x4200000000000000000000000000000000000011"),
            // identical allocs would give the chains identical genesis blocks
            mix_hash: keccak256([b"lockstep devnet ".as_slice(), &chain_id.to_be_bytes()].concat()),
            alloc,
            config: alloy_genesis::ChainConfig { chain_id, ..Default::default() },
            ..Default::default()
        }
    }

    /// The chain spec of chain `chain_id`, its rollup config naming the genesis block hash.
    pub fn chain_spec(&self, chain_id: u64) -> ChainSpec {
        let mut spec =
            ChainSpec { rollup: self.rollup_config(chain_id), genesis: self.genesis(chain_id) };
        spec.rollup.genesis.l2.hash = lockstep_execution::genesis_header(&spec).hash_slow();
        spec
    }

    /// The arguments anvil needs to serve as this devnet's L1: its chain id, the test
    /// mnemonic's first 16 accounts funded, its genesis one L1 block before the L2 genesis,
    /// mining only when asked, and Cancun rules (blobs).
    pub fn anvil_args(&self) -> Vec<String> {
        let genesis = self.genesis_time - crate::l1::L1_BLOCK_TIME;
        [
            "--chain-id",
            &L1_CHAIN_ID.to_string(),
            "--accounts",
            "16",
            "--timestamp",
            &genesis.to_string(),
            "--no-mining",
            "--hardfork",
            "cancun",
        ]
        .map(str::to_string)
        .to_vec()
    }

    /// The chains as the shared sequencer takes them.
    pub fn sequenced_chains(&self) -> Vec<lockstep_sequencer::SequencedChain> {
        self.chains
            .iter()
            .map(|c| lockstep_sequencer::SequencedChain {
                name: c.name.to_string(),
                spec: std::sync::Arc::new(self.chain_spec(c.chain_id)),
            })
            .collect()
    }

    /// The superchain-set TOML naming each chain's files under `<name>/`.
    pub fn superchain_toml(&self) -> String {
        let mut out = format!(
            "# The lockstep devnet: generated by `lockstep-devnet` (DevnetConfig::default).\n\
             name = \"devnet\"\nbridge = \"{BRIDGE}\"\nsequencer = \"{}\"\n\
             # the L1 contract where the sequencer commits every batch, and the L1 blocks after\n\
             # the one closing a batch within which its commitment is due (DESIGN.md 5.6)\n\
             commitments = \"{}\"\ncommitment_window = {}\n",
            self.sequencer(),
            self.commitments(),
            self.commitment_window
        );
        for chain in &self.chains {
            out.push_str(&format!(
                "\n[[chain]]\nname = \"{0}\"\nrollup = \"{0}/rollup.json\"\ngenesis = \"{0}/genesis.json\"\n",
                chain.name
            ));
        }
        out
    }

    /// Every generated file, by path relative to the devnet directory.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut files = vec![("superchain.toml".to_string(), self.superchain_toml())];
        for chain in &self.chains {
            let spec = self.chain_spec(chain.chain_id);
            let rollup =
                serde_json::to_string_pretty(&spec.rollup).expect("a rollup config serialises");
            let genesis =
                serde_json::to_string_pretty(&spec.genesis).expect("a genesis serialises");
            files.push((format!("{}/rollup.json", chain.name), rollup + "\n"));
            files.push((format!("{}/genesis.json", chain.name), genesis + "\n"));
        }
        files
    }

    /// Writes [`Self::files`] under `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), DevnetError> {
        for (rel, text) in self.files() {
            let path = dir.join(rel);
            let io = |source| DevnetError::Io { path: path.clone(), source };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::write(&path, text).map_err(io)?;
        }
        Ok(())
    }
}
