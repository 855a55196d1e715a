//! `cargo fuzz run l1_info`: [`lockstep_fuzz::derive::l1_info`] under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_fuzz::derive::l1_info(data));
