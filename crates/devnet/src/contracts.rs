//! The contracts' bytecode, compiled by `contracts/build.mjs` with the pinned solc-js and checked
//! in under `contracts/out/`, and their ABI for Rust callers.

use alloy_primitives::{hex, Bytes};

macro_rules! artifact {
    ($name:literal, $ext:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../contracts/out/", $name, $ext)
    };
}

/// A compiled contract: its init code and its deployed code.
#[derive(Debug, Clone, Copy)]
pub struct Artifact {
    /// The contract's name.
    pub name: &'static str,
    init_hex: &'static str,
    runtime_hex: &'static str,
}

impl Artifact {
    /// The init code (constructor arguments not appended).
    pub fn init_code(&self) -> Bytes {
        decode(self.name, self.init_hex)
    }

    /// The deployed code, as a predeploy holds it.
    pub fn runtime_code(&self) -> Bytes {
        decode(self.name, self.runtime_hex)
    }
}

fn decode(name: &str, text: &str) -> Bytes {
    // the files are produced by build.mjs and checked by a test; a bad file is a build defect
    hex::decode(text.trim())
        .unwrap_or_else(|err| panic!("contracts/out/{name} is not hex: {err}"))
        .into()
}

macro_rules! artifacts {
    ($($(#[$doc:meta])* $konst:ident = $name:literal;)*) => {$(
        $(#[$doc])*
        pub const $konst: Artifact = Artifact {
            name: $name,
            init_hex: include_str!(artifact!($name, ".bin")),
            runtime_hex: include_str!(artifact!($name, ".bin-runtime")),
        };
    )*
        /// Every artifact.
        pub const ALL: &[Artifact] = &[$($konst),*];
    };
}

artifacts! {
    /// The bridge predeploy (`contracts/src/SuperchainBridge.sol`).
    SUPERCHAIN_BRIDGE = "SuperchainBridge";
    /// The ERC-7802 token predeploy (`contracts/src/SuperchainToken.sol`).
    SUPERCHAIN_TOKEN = "SuperchainToken";
    /// The L1 attributes predeploy (`contracts/src/L1Block.sol`).
    L1_BLOCK = "L1Block";
    /// The L1 deposit contract of each chain (`contracts/src/DepositPortal.sol`).
    DEPOSIT_PORTAL = "DepositPortal";
    /// The L1 commitment contract (`contracts/src/BatchCommitments.sol`).
    BATCH_COMMITMENTS = "BatchCommitments";
}

/// The bridge's interface, defined once in `lockstep-crosschain`.
pub use lockstep_crosschain::bridge::{IBatchCommitments, ISuperchainBridge};

alloy_sol_types::sol! {
    /// The token's interface (ERC-20 and ERC-7802).
    #[derive(Debug)]
    interface ISuperchainToken {
        event Transfer(address indexed from, address indexed to, uint256 value);
        function transfer(address to, uint256 value) external returns (bool);
        function balanceOf(address owner) external view returns (uint256);
        function totalSupply() external view returns (uint256);
    }

    /// The deposit contract's interface (OptimismPortal's event, version 0).
    #[derive(Debug)]
    interface IDepositPortal {
        event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData);
        function depositTransaction(address to, uint256 value, uint64 gasLimit, bool isCreation, bytes data) external payable;
    }
}

/// Init code of a storage contract: its constructor sets slot 1 to 1, and its runtime
/// (`PUSH1 0x20 CALLDATALOAD PUSH1 0 CALLDATALOAD SSTORE STOP`) stores calldata word 1 at the
/// slot of word 0, so that a zero word deletes the slot.
pub(crate) const STORAGE_CONTRACT_INITCODE: &[u8] = &[
    0x60, 0x01, 0x60, 0x01, 0x55, // SSTORE(1, 1)
    0x60, 0x08, 0x80, 0x60, 0x10, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3, // return the runtime
    0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x55, 0x00, // the runtime
];

/// Init code that sets slot 1 and self-destructs to the caller in its constructor: since Cancun
/// the account is created and removed in the one transaction.
pub(crate) const SELF_DESTRUCT_INITCODE: &[u8] = &[0x60, 0x01, 0x60, 0x01, 0x55, 0x33, 0xff];
