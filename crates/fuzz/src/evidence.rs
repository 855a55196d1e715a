//! The target for evidence a challenger is handed: a block's stateless evidence (what `lockstep
//! stateless` executes) and a batch's verdict (what `lockstep evidence export` and
//! `superchain_getEvidence` give).

use lockstep_crosschain::BatchVerdict;
use lockstep_execution::{execute_stateless, StatelessBlock};

/// The input as a stateless block, executed if it parses; and as a batch verdict, which
/// serializes back to itself.
pub fn evidence(data: &[u8]) {
    if let Ok(block) = StatelessBlock::from_slice(data) {
        let _ = execute_stateless(&block);
    }
    if let Ok(verdict) = serde_json::from_slice::<BatchVerdict>(data) {
        let json = serde_json::to_vec(&verdict).expect("a verdict serializes");
        let again = serde_json::from_slice::<BatchVerdict>(&json).ok();
        assert_eq!(again, Some(verdict), "a verdict reads back as written");
    }
}
