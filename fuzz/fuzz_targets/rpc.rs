//! `cargo fuzz run rpc`: [`lockstep_fuzz::rpc::rpc`] under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_fuzz::rpc::rpc(data));
