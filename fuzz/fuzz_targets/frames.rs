//! `cargo fuzz run frames`: [`lockstep_fuzz::derive::frames`] under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_fuzz::derive::frames(data));
