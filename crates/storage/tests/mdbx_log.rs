//! MDBX's own messages reach lockstep's log: with `LOCKSTEP_MDBX_DEBUG` set, a failing MDBX
//! call is logged (target `mdbx`) with the libmdbx function that failed and its error code.

use lockstep_storage::{DatabaseEnv, DatabaseMode, MDBX_DEBUG_ENV};
use std::{
    io::Write,
    sync::{Arc, Mutex},
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_mdbx_call_is_logged_with_the_function_that_failed() {
    // this test binary holds only this test: the variable is set before any environment opens
    std::env::set_var(MDBX_DEBUG_ENV, "1");
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // opening an environment installs the forwarder
    let _env = DatabaseEnv::open(dir.path(), DatabaseMode::ReadWrite).unwrap();
    // a call libmdbx refuses (no environment): EINVAL. (A refused key size would do too, but a
    // debug build of libmdbx asserts on it before it returns.)
    // SAFETY: libmdbx checks the null environment first and returns; nothing is dereferenced.
    let rc = unsafe {
        mdbx_sys::mdbx_env_set_option(std::ptr::null_mut(), mdbx_sys::MDBX_opt_sync_bytes, 0)
    };
    assert_eq!(rc, mdbx_sys::MDBX_EINVAL);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("mdbx_env_set_option"))
        .unwrap_or_else(|| panic!("no mdbx_env_set_option line in the log:\n{log}"));
    assert!(line.contains("ERROR") && line.contains("mdbx:"), "{line}");
    assert!(line.contains("error 22 (Invalid argument)"), "the error is named: {line}");
}
