//! `cargo fuzz run channel`: [`lockstep_fuzz::derive::channel`] under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_fuzz::derive::channel(data));
