//! `cargo fuzz run channel_bank`: [`lockstep_fuzz::derive::channel_bank`] under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_fuzz::derive::channel_bank(data));
