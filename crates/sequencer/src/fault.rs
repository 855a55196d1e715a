//! Deliberate misbehaviour, for tests that prove the verifier catches it.

use std::{fmt, str::FromStr};

/// What to do wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// Leave out the mint of the first burn of the batch.
    DropMint,
    /// Relay the first burn's mint one batch late.
    DelayMint,
    /// Relay one mint one L2 block after its burn, still inside the batch: atomic per batch,
    /// not per timestamp (DESIGN.md 5.6).
    ShiftMint,
    /// Relay a mint that no burn backs.
    ForgeMint,
    /// Relay the first burn's mint with a different amount.
    AlterAmount,
    /// Relay the batch's first two mints to a chain in swapped order.
    ReorderMints,
    /// Commit a false output root for the batch.
    BadOutputRoot,
    /// Commit a false burn root for the batch.
    BadCommitment,
    /// Post no commitment for the batch.
    WithholdCommitment,
    /// Relay none of the mints of the batch's burns that came in as L1 deposits.
    Censor,
    /// Put a transaction that the engine must refuse in the first chain's batch.
    InvalidTx,
    /// Post the first chain's span batch with a parent check that breaks the batch rules (and
    /// never post its blocks again).
    BadBatch,
    /// Post nothing from the batch on, and build nothing, for longer than the sequencer
    /// window; then follow what L1 derived and go on.
    Offline,
}

impl FaultKind {
    /// Every kind, with its command-line name.
    pub const ALL: [(Self, &'static str); 13] = [
        (Self::DropMint, "drop-mint"),
        (Self::DelayMint, "delay-mint"),
        (Self::ShiftMint, "shift-mint"),
        (Self::ForgeMint, "forge-mint"),
        (Self::AlterAmount, "alter-amount"),
        (Self::ReorderMints, "reorder-mints"),
        (Self::BadOutputRoot, "bad-output-root"),
        (Self::BadCommitment, "bad-commitment"),
        (Self::WithholdCommitment, "withhold-commitment"),
        (Self::Censor, "censor"),
        (Self::InvalidTx, "invalid-tx"),
        (Self::BadBatch, "bad-batch"),
        (Self::Offline, "offline"),
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(k, _)| *k == self).map_or("?", |(_, n)| n)
    }
}

/// A fault at a superchain batch: `KIND@BATCH` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fault {
    /// What to do wrong.
    pub kind: FaultKind,
    /// In which batch (numbered from 0).
    pub batch: u64,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.kind.name(), self.batch)
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, batch) =
            s.split_once('@').ok_or_else(|| format!("`{s}`: expected KIND@BATCH"))?;
        let kind =
            FaultKind::ALL.iter().find(|(_, n)| *n == kind).map(|(k, _)| *k).ok_or_else(|| {
                let names: Vec<_> = FaultKind::ALL.iter().map(|(_, n)| *n).collect();
                format!("`{kind}`: unknown fault, expected one of {}", names.join(", "))
            })?;
        let batch = batch.parse().map_err(|_| format!("`{batch}`: batch must be a number"))?;
        Ok(Self { kind, batch })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (kind, name) in FaultKind::ALL {
            let fault: Fault = format!("{name}@7").parse().unwrap();
            assert_eq!(fault, Fault { kind, batch: 7 });
            assert_eq!(fault.to_string(), format!("{name}@7"));
        }
        assert!("drop-mint".parse::<Fault>().unwrap_err().contains("KIND@BATCH"));
        assert!("nope@1".parse::<Fault>().unwrap_err().contains("unknown fault"));
        assert!("drop-mint@x".parse::<Fault>().unwrap_err().contains("number"));
    }
}
