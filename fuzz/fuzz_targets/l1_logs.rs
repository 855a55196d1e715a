//! `cargo fuzz run l1_logs`: [`lockstep_fuzz::derive::l1_logs`] under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_fuzz::derive::l1_logs(data));
