//! A rollup config's forks in the form alloy-op-evm asks for them: each fork active from the
//! first time at which it, or any later fork, is scheduled (a later fork implies the earlier
//! ones, as the rollup config reads them).

use alloy_hardforks::{EthereumHardfork, EthereumHardforks, ForkCondition};
use alloy_op_hardforks::{OpHardfork, OpHardforks};
use lockstep_chainspec::RollupConfig;

/// A rollup config's forks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Forks<'a>(pub &'a RollupConfig);

fn first_of(times: &[Option<u64>]) -> ForkCondition {
    times.iter().flatten().min().map_or(ForkCondition::Never, |t| ForkCondition::Timestamp(*t))
}

impl OpHardforks for Forks<'_> {
    fn op_fork_activation(&self, fork: OpHardfork) -> ForkCondition {
        let h = &self.0.hardforks;
        let chain = [
            h.regolith_time,
            h.canyon_time,
            h.delta_time,
            h.ecotone_time,
            h.fjord_time,
            h.granite_time,
            h.holocene_time,
            h.isthmus_time,
            h.jovian_time,
            h.karst_time,
        ];
        match fork {
            OpHardfork::Bedrock => ForkCondition::Block(0),
            OpHardfork::Regolith => first_of(&chain),
            OpHardfork::Canyon => first_of(&chain[1..]),
            OpHardfork::Ecotone => first_of(&chain[3..]),
            OpHardfork::Fjord => first_of(&chain[4..]),
            OpHardfork::Granite => first_of(&chain[5..]),
            OpHardfork::Holocene => first_of(&chain[6..]),
            OpHardfork::Isthmus => first_of(&chain[7..]),
            OpHardfork::Jovian => first_of(&chain[8..]),
            OpHardfork::Karst => first_of(&chain[9..]),
            // lockstep refuses a config that schedules Interop (`check_rollup`); a fork added
            // to alloy-op-hardforks later is not scheduled by any config lockstep loads
            _ => first_of(&[h.interop_time]),
        }
    }
}

impl EthereumHardforks for Forks<'_> {
    fn ethereum_fork_activation(&self, fork: EthereumHardfork) -> ForkCondition {
        if fork <= EthereumHardfork::Paris {
            // every OP chain starts at Bedrock, which has every L1 fork through Paris
            ForkCondition::Block(0)
        } else if fork <= EthereumHardfork::Shanghai {
            self.op_fork_activation(OpHardfork::Canyon)
        } else if fork <= EthereumHardfork::Cancun {
            self.op_fork_activation(OpHardfork::Ecotone)
        } else if fork <= EthereumHardfork::Prague {
            self.op_fork_activation(OpHardfork::Isthmus)
        } else if fork <= EthereumHardfork::Osaka {
            // Karst brings Osaka's EIPs to L2
            self.op_fork_activation(OpHardfork::Karst)
        } else {
            ForkCondition::Never
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_is_active_from_itself_or_any_later_fork() {
        let mut rollup = RollupConfig::default();
        rollup.hardforks.canyon_time = Some(100);
        rollup.hardforks.isthmus_time = Some(50);
        let forks = Forks(&rollup);
        for t in [0, 49, 50, 99, 100, 1000] {
            assert_eq!(forks.is_canyon_active_at_timestamp(t), rollup.is_canyon_active(t), "{t}");
            assert_eq!(forks.is_regolith_active_at_timestamp(t), rollup.is_regolith_active(t));
            assert_eq!(forks.is_isthmus_active_at_timestamp(t), rollup.is_isthmus_active(t));
            assert_eq!(forks.is_prague_active_at_timestamp(t), rollup.is_isthmus_active(t));
        }
        assert!(!forks.op_fork_activation(OpHardfork::Jovian).active_at_timestamp(u64::MAX));
    }
}
