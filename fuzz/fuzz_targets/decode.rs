//! `cargo fuzz run decode`: [`lockstep_fuzz::derive::decode_input`] under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_fuzz::derive::decode_input(data));
