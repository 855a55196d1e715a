//! `cargo fuzz run evidence`: [`lockstep_fuzz::evidence::evidence`] under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_fuzz::evidence::evidence(data));
