//! lockstep's fuzz targets. Each is a function of arbitrary bytes that must never panic: the
//! bytes stand for what a hostile batcher puts on L1, what a hostile operator or registry
//! writes in a config, what a challenger is handed as evidence, or what a client sends to the
//! JSON-RPC servers. Where a decoder has an encoder, the target also checks that what it
//! decodes encodes back to itself.
//!
//! The same functions run three ways:
//! - under libFuzzer with `cargo fuzz` (`fuzz/`, driven by `scripts/fuzz.sh`);
//! - over the regression corpus `fuzz/regressions/<target>/` in the ordinary test suite;
//! - over their seeds ([`seeds`]) in the same test, so that each target is known to reach
//!   past its first check on real inputs.
//!
//! Good starting point: [`TARGETS`].

pub mod config;
pub mod derive;
pub mod evidence;
mod fixture;
pub mod rpc;
pub mod seeds;

/// A fuzz target: takes any bytes, panics only on a defect.
pub type Target = fn(&[u8]);

/// Every target by name (the name of its `cargo fuzz` binary and of its corpus directories).
pub const TARGETS: &[(&str, Target)] = &[
    ("frames", derive::frames),
    ("channel_bank", derive::channel_bank),
    ("channel", derive::channel),
    ("batch", derive::batch),
    ("decode", derive::decode_input),
    ("l1_info", derive::l1_info),
    ("blob", derive::blob),
    ("l1_logs", derive::l1_logs),
    ("config", config::config),
    ("evidence", evidence::evidence),
    ("rpc", rpc::rpc),
];

/// The target named `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
