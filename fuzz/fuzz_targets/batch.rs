//! `cargo fuzz run batch`: [`lockstep_fuzz::derive::batch`] under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_fuzz::derive::batch(data));
