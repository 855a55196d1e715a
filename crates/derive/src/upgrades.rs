//! The network upgrade transactions: deposits that a fork's activation block carries after
//! its L1 info deposit and user deposits, to deploy and switch to the fork's predeploys
//! (Ecotone, Fjord, Isthmus and Jovian derivation specs, "Network upgrade automation transactions";
//! Karst's from its network upgrade transaction bundle).
//!
//! Each is a deposit with no mint and no value, not a system transaction, whose source hash
//! is the upgrade domain's over its intent. The deployment bytecode is the specs'
//! (`bytecode/`, from `specs/static/bytecode` of ethereum-optimism/specs); Karst's 31 come from
//! the monorepo's `karst_nut_bundle.json` (`bundles/`), whose sha256 the tests hold to the
//! monorepo's `fork_lock.toml`.

use crate::{attributes::deposit_bytes, l1_block_info::upgrade_source_hash, DeriveError};
use alloy_primitives::{address, hex, Address, Bytes, TxKind, U256};
use lockstep_chainspec::RollupConfig;
use op_alloy_consensus::TxDeposit;
use serde::Deserialize;
use std::{borrow::Cow, sync::LazyLock};

/// One upgrade transaction, as the spec lists it.
#[derive(Debug, Clone)]
pub struct Upgrade {
    /// The intent its source hash is taken over.
    pub intent: Cow<'static, str>,
    /// The sender.
    pub from: Address,
    /// The callee, or `None` for a contract creation.
    pub to: Option<Address>,
    /// The gas limit.
    pub gas: u64,
    /// The calldata or init code, as hex.
    pub data: &'static str,
}

const L1_BLOCK_PROXY: Address = address!("0x4200000000000000000000000000000000000015");
const GAS_PRICE_ORACLE_PROXY: Address = address!("0x420000000000000000000000000000000000000F");
const OPERATOR_FEE_VAULT_PROXY: Address = address!("0x420000000000000000000000000000000000001B");
const DEPOSITOR: Address = address!("0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001");

/// Ecotone's six.
pub const ECOTONE: [Upgrade; 6] = [
    Upgrade {
        intent: Cow::Borrowed("Ecotone: L1 Block Deployment"),
        from: address!("0x4210000000000000000000000000000000000000"),
        to: None,
        gas: 375_000,
        data: include_str!("../bytecode/ecotone-l1-block-deployment.txt"),
    },
    Upgrade {
        intent: Cow::Borrowed("Ecotone: Gas Price Oracle Deployment"),
        from: address!("0x4210000000000000000000000000000000000001"),
        to: None,
        gas: 1_000_000,
        data: include_str!("../bytecode/ecotone-gas-price-oracle-deployment.txt"),
    },
    Upgrade {
        intent: Cow::Borrowed("Ecotone: L1 Block Proxy Update"),
        from: Address::ZERO,
        to: Some(L1_BLOCK_PROXY),
        gas: 50_000,
        data: "0x3659cfe600000000000000000000000007dbe8500fc591d1852b76fee44d5a05e13097ff",
    },
    Upgrade {
        intent: Cow::Borrowed("Ecotone: Gas Price Oracle Proxy Update"),
        from: Address::ZERO,
        to: Some(GAS_PRICE_ORACLE_PROXY),
        gas: 50_000,
        data: "0x3659cfe6000000000000000000000000b528d11cc114e026f138fe568744c6d45ce6da7a",
    },
    Upgrade {
        intent: Cow::Borrowed("Ecotone: Gas Price Oracle Set Ecotone"),
        from: DEPOSITOR,
        to: Some(GAS_PRICE_ORACLE_PROXY),
        gas: 80_000,
        data: "0x22b90ab3",
    },
    Upgrade {
        intent: Cow::Borrowed("Ecotone: beacon block roots contract deployment"),
        from: address!("0x0B799C86a49DEeb90402691F1041aa3AF2d3C875"),
        to: None,
        gas: 0x3d090,
        data: "0x60618060095f395ff33373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500",
    },
];

/// Fjord's three.
pub const FJORD: [Upgrade; 3] = [
    Upgrade {
        intent: Cow::Borrowed("Fjord: Gas Price Oracle Deployment"),
        from: address!("0x4210000000000000000000000000000000000002"),
        to: None,
        gas: 1_450_000,
        data: include_str!("../bytecode/fjord-gas-price-oracle-deployment.txt"),
    },
    Upgrade {
        intent: Cow::Borrowed("Fjord: Gas Price Oracle Proxy Update"),
        from: Address::ZERO,
        to: Some(GAS_PRICE_ORACLE_PROXY),
        gas: 50_000,
        data: "0x3659cfe6000000000000000000000000a919894851548179a0750865e7974da599c0fac7",
    },
    Upgrade {
        intent: Cow::Borrowed("Fjord: Gas Price Oracle Set Fjord"),
        from: DEPOSITOR,
        to: Some(GAS_PRICE_ORACLE_PROXY),
        gas: 90_000,
        data: "0x8e98b106",
    },
];

/// Isthmus's eight.
pub const ISTHMUS: [Upgrade; 8] = [
    Upgrade {
        intent: Cow::Borrowed("Isthmus: L1 Block Deployment"),
        from: address!("0x4210000000000000000000000000000000000003"),
        to: None,
        gas: 425_000,
        data: include_str!("../bytecode/isthmus-l1-block-deployment.txt"),
    },
    Upgrade {
        intent: Cow::Borrowed("Isthmus: Gas Price Oracle Deployment"),
        from: address!("0x4210000000000000000000000000000000000004"),
        to: None,
        gas: 1_625_000,
        data: include_str!("../bytecode/isthmus-gas-price-oracle-deployment.txt"),
    },
    Upgrade {
        intent: Cow::Borrowed("Isthmus: Operator Fee Vault Deployment"),
        from: address!("0x4210000000000000000000000000000000000005"),
        to: None,
        gas: 500_000,
        data: include_str!("../bytecode/isthmus-operator-fee-deployment.txt"),
    },
    Upgrade {
        intent: Cow::Borrowed("Isthmus: L1 Block Proxy Update"),
        from: Address::ZERO,
        to: Some(L1_BLOCK_PROXY),
        gas: 50_000,
        data: "0x3659cfe6000000000000000000000000ff256497d61dcd71a9e9ff43967c13fde1f72d12",
    },
    Upgrade {
        intent: Cow::Borrowed("Isthmus: Gas Price Oracle Proxy Update"),
        from: Address::ZERO,
        to: Some(GAS_PRICE_ORACLE_PROXY),
        gas: 50_000,
        data: "0x3659cfe600000000000000000000000093e57a196454cb919193fa9946f14943cf733845",
    },
    Upgrade {
        intent: Cow::Borrowed("Isthmus: Operator Fee Vault Proxy Update"),
        from: Address::ZERO,
        to: Some(OPERATOR_FEE_VAULT_PROXY),
        gas: 50_000,
        data: "0x3659cfe60000000000000000000000004fa2be8cd41504037f1838bce3bcc93bc68ff537",
    },
    Upgrade {
        intent: Cow::Borrowed("Isthmus: Gas Price Oracle Set Isthmus"),
        from: DEPOSITOR,
        to: Some(GAS_PRICE_ORACLE_PROXY),
        gas: 90_000,
        data: "0x291b0383",
    },
    Upgrade {
        intent: Cow::Borrowed("Isthmus: EIP-2935 Contract Deployment"),
        from: address!("0x3462413Af4609098e1E27A490f554f260213D685"),
        to: None,
        gas: 250_000,
        data: "0x60538060095f395ff33373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500",
    },
];

/// Jovian's five. The intents are the shipped clients' (op-node, kona): the spec's text writes
/// "L1Block" and "GasPriceOracle" without the space, which gives other source hashes.
pub const JOVIAN: [Upgrade; 5] = [
    Upgrade {
        intent: Cow::Borrowed("Jovian: L1 Block Deployment"),
        from: address!("0x4210000000000000000000000000000000000006"),
        to: None,
        gas: 447_315,
        data: include_str!("../bytecode/jovian-l1-block-deployment.txt"),
    },
    Upgrade {
        intent: Cow::Borrowed("Jovian: L1 Block Proxy Update"),
        from: Address::ZERO,
        to: Some(L1_BLOCK_PROXY),
        gas: 50_000,
        data: "0x3659cfe60000000000000000000000003ba4007f5c922fbb33c454b41ea7a1f11e83df2c",
    },
    Upgrade {
        intent: Cow::Borrowed("Jovian: Gas Price Oracle Deployment"),
        from: address!("0x4210000000000000000000000000000000000007"),
        to: None,
        gas: 1_750_714,
        data: include_str!("../bytecode/jovian-gas-price-oracle-deployment.txt"),
    },
    Upgrade {
        intent: Cow::Borrowed("Jovian: Gas Price Oracle Proxy Update"),
        from: Address::ZERO,
        to: Some(GAS_PRICE_ORACLE_PROXY),
        gas: 50_000,
        data: "0x3659cfe60000000000000000000000004f1db3c6abd250ba86e0928471a8f7db3afd88f1",
    },
    Upgrade {
        intent: Cow::Borrowed("Jovian: Gas Price Oracle Set Jovian"),
        from: DEPOSITOR,
        to: Some(GAS_PRICE_ORACLE_PROXY),
        gas: 90_000,
        data: "0xb3d72079",
    },
];

/// Karst's bundle, as the monorepo embeds it in op-node and kona-node (`op-core/nuts/bundles`).
pub const KARST_BUNDLE: &str = include_str!("../bundles/karst_nut_bundle.json");

/// The one bundle format version the shipped clients take.
const BUNDLE_VERSION: &str = "1.0.0";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bundle<'a> {
    #[serde(borrow)]
    metadata: BundleMetadata<'a>,
    #[serde(borrow)]
    transactions: Vec<BundleTransaction<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleMetadata<'a> {
    version: &'a str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BundleTransaction<'a> {
    data: &'a str,
    from: Address,
    gas_limit: u64,
    intent: &'a str,
    to: Option<Address>,
}

/// The upgrade transactions of a network upgrade transaction bundle for `fork` (its name as the
/// intents write it, "Karst"): the file's transactions in its order, the `i`-th (from 0) with the
/// intent `"<fork> <i>: <intent>"` (op-node's and kona's qualification; the spec's prose says
/// otherwise, the clients win). Errors on a bundle of another version, an empty intent, or data
/// that is not hex.
pub fn parse_bundle(fork: &str, json: &'static str) -> Result<Vec<Upgrade>, DeriveError> {
    let bad = |reason: String| DeriveError::Bundle { fork: fork.to_string(), reason };
    let bundle: Bundle<'static> = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    if bundle.metadata.version != BUNDLE_VERSION {
        return Err(bad(format!(
            "version {} (only {BUNDLE_VERSION} is known)",
            bundle.metadata.version
        )));
    }
    bundle
        .transactions
        .into_iter()
        .enumerate()
        .map(|(i, tx)| {
            if tx.intent.is_empty() {
                return Err(bad(format!("transaction {i} has no intent")));
            }
            hex::decode(tx.data.trim())
                .map_err(|e| bad(format!("transaction {i}'s data is not hex: {e}")))?;
            Ok(Upgrade {
                intent: Cow::Owned(format!("{fork} {i}: {}", tx.intent)),
                from: tx.from,
                to: tx.to,
                gas: tx.gas_limit,
                data: tx.data,
            })
        })
        .collect()
}

static KARST_UPGRADES: LazyLock<Vec<Upgrade>> = LazyLock::new(|| {
    // the bundle is this crate's own constant, the same in every build: the tests parse it
    parse_bundle("Karst", KARST_BUNDLE).unwrap_or_default()
});

/// Karst's 31, from its bundle.
pub fn karst() -> &'static [Upgrade] {
    &KARST_UPGRADES
}

/// The gas the upgrade transactions of the block at `timestamp` add to its gas limit: Karst's
/// activation block takes the system config's gas limit plus the bundle's gas (op-node's
/// attributes builder; the forks before it add nothing).
pub fn upgrade_gas(rollup: &RollupConfig, timestamp: u64) -> u64 {
    if rollup.is_karst_activation_block(timestamp) {
        karst().iter().map(|u| u.gas).sum()
    } else {
        0
    }
}

impl Upgrade {
    /// The deposit.
    pub fn deposit(&self) -> TxDeposit {
        // the data is this crate's own constant: checked by the tests
        let input = hex::decode(self.data.trim()).unwrap_or_default();
        TxDeposit {
            source_hash: upgrade_source_hash(&self.intent),
            from: self.from,
            to: self.to.map_or(TxKind::Create, TxKind::Call),
            mint: 0,
            value: U256::ZERO,
            gas_limit: self.gas,
            is_system_transaction: false,
            input: input.into(),
        }
    }
}

/// The upgrades of the L2 block at `timestamp`: those of every fork it activates.
pub fn upgrades_at(rollup: &RollupConfig, timestamp: u64) -> Vec<Upgrade> {
    let mut out = Vec::new();
    if rollup.is_activation_block(timestamp, |t| rollup.is_ecotone_active(t)) {
        out.extend(ECOTONE);
    }
    if rollup.is_activation_block(timestamp, |t| rollup.is_fjord_active(t)) {
        out.extend(FJORD);
    }
    if rollup.is_activation_block(timestamp, |t| rollup.is_isthmus_active(t)) {
        out.extend(ISTHMUS);
    }
    if rollup.is_jovian_activation_block(timestamp) {
        out.extend(JOVIAN);
    }
    if rollup.is_karst_activation_block(timestamp) {
        out.extend_from_slice(karst());
    }
    out
}

/// The upgrade transactions of the L2 block at `timestamp`, encoded.
pub fn upgrade_transactions(rollup: &RollupConfig, timestamp: u64) -> Vec<Bytes> {
    upgrades_at(rollup, timestamp).iter().map(|u| deposit_bytes(u.deposit())).collect()
}
