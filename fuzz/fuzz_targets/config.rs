//! `cargo fuzz run config`: [`lockstep_fuzz::config::config`] under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_fuzz::config::config(data));
