//! `cargo fuzz run blob`: [`lockstep_fuzz::derive::blob`] under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_fuzz::derive::blob(data));
