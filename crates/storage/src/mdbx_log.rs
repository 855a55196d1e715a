//! MDBX's own log, forwarded to lockstep's (`tracing`, target `mdbx`).
//!
//! libmdbx writes its messages to stderr and, left at its default, only its fatal ones. Here its
//! warnings and errors (a failed `msync`, a lock it could not take, a geometry it had to adjust)
//! go to the node's log with the function and line that wrote them. Setting the environment
//! variable `LOCKSTEP_MDBX_DEBUG` (to anything but `0`) raises libmdbx's level to `debug`, at
//! which every failing MDBX call also logs its function, line and error code (at `error`; a
//! lookup that finds nothing, at `trace`): the way to find where an MDBX error such as
//! `Invalid argument` comes from. It costs a formatted message per failed lookup, so it is a
//! diagnostic, not a setting to run with.

use std::{
    ffi::{c_char, c_int, c_uint, CStr},
    sync::Once,
};

/// The environment variable that turns on libmdbx's error-site logging.
pub const MDBX_DEBUG_ENV: &str = "LOCKSTEP_MDBX_DEBUG";

static SETUP: Once = Once::new();

/// The buffer libmdbx formats each message into before it calls [`forward`]; libmdbx writes it
/// only under its own logging lock.
static mut BUFFER: [c_char; 1024] = [0; 1024];

/// Installs the forwarder, once per process, before the first environment opens.
pub(crate) fn install() {
    SETUP.call_once(|| {
        let debug = std::env::var(MDBX_DEBUG_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        let level = if debug { mdbx_sys::MDBX_LOG_DEBUG } else { mdbx_sys::MDBX_LOG_WARN };
        // SAFETY: the buffer is static and handed to libmdbx alone, which writes it and calls
        // `forward` under its logging mutex; `forward` only reads the `length` bytes it is given.
        unsafe {
            let buffer = &raw mut BUFFER;
            mdbx_sys::mdbx_setup_debug_nofmt(
                level,
                mdbx_sys::MDBX_DBG_DONTCHANGE,
                Some(forward),
                buffer.cast::<c_char>(),
                (*buffer).len(),
            );
        }
    });
}

/// Receives one formatted message from libmdbx.
unsafe extern "C" fn forward(
    level: mdbx_sys::MDBX_log_level_t,
    function: *const c_char,
    line: c_int,
    msg: *const c_char,
    length: c_uint,
) {
    let text = if msg.is_null() {
        String::new()
    } else {
        // SAFETY: libmdbx passes the `length` bytes it just formatted into the buffer.
        let bytes = unsafe { std::slice::from_raw_parts(msg.cast::<u8>(), length as usize) };
        String::from_utf8_lossy(bytes).trim_end().to_string()
    };
    let function = if function.is_null() {
        "?".into()
    } else {
        // SAFETY: libmdbx passes its `__func__`, a NUL-terminated static string.
        unsafe { CStr::from_ptr(function) }.to_string_lossy()
    };
    match level {
        mdbx_sys::MDBX_LOG_FATAL | mdbx_sys::MDBX_LOG_ERROR => {
            tracing::error!(target: "mdbx", %function, line, "{text}")
        }
        mdbx_sys::MDBX_LOG_WARN => tracing::warn!(target: "mdbx", %function, line, "{text}"),
        mdbx_sys::MDBX_LOG_NOTICE => tracing::info!(target: "mdbx", %function, line, "{text}"),
        // a failed lookup's "condition" (not found), one per miss: trace, below the error sites
        mdbx_sys::MDBX_LOG_VERBOSE => tracing::trace!(target: "mdbx", %function, line, "{text}"),
        _ => tracing::debug!(target: "mdbx", %function, line, "{text}"),
    }
}
