//! Retries with exponential backoff around any [`L1Source`].

use crate::{L1Block, L1Error, L1Source};
use alloy_primitives::B256;
use std::time::Duration;

/// How long to wait between attempts, and when to give up.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait; each wait doubles up to this.
    pub max: Duration,
    /// Attempts before the error is returned; `None` retries forever.
    pub attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { initial: Duration::from_millis(100), max: Duration::from_secs(10), attempts: None }
    }
}

/// An [`L1Source`] that retries temporary errors ([`L1Error::is_temporary`]) with backoff and
/// logs each failure at WARN. Lasting errors are returned at once.
#[derive(Debug, Clone)]
pub struct Retrying<S> {
    inner: S,
    backoff: Backoff,
}

impl<S: L1Source> Retrying<S> {
    /// Wraps `inner`.
    pub const fn new(inner: S, backoff: Backoff) -> Self {
        Self { inner, backoff }
    }

    /// The wrapped source.
    pub const fn inner(&self) -> &S {
        &self.inner
    }

    fn retry<T>(&self, what: &str, f: impl Fn() -> Result<T, L1Error>) -> Result<T, L1Error> {
        let mut wait = self.backoff.initial;
        let mut attempt = 0u32;
        loop {
            match f() {
                Err(err) if err.is_temporary() => {
                    attempt += 1;
                    if self.backoff.attempts.is_some_and(|max| attempt >= max) {
                        return Err(err);
                    }
                    tracing::warn!(target: "lockstep::l1", %err, attempt, retry_in = ?wait, "{what} failed; retrying");
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(self.backoff.max);
                }
                other => return other,
            }
        }
    }
}

impl<S: L1Source> L1Source for Retrying<S> {
    fn chain_id(&self) -> u64 {
        self.inner.chain_id()
    }

    fn head_number(&self) -> Result<u64, L1Error> {
        self.retry("reading the L1 head", || self.inner.head_number())
    }

    fn block(&self, number: u64) -> Result<Option<L1Block>, L1Error> {
        // a block that does not hold together is asked for again
        self.retry("reading an L1 block", || {
            let block = self.inner.block(number)?;
            if let Some(block) = &block {
                block.check()?;
            }
            Ok(block)
        })
    }

    fn blobs(
        &self,
        block: &L1Block,
        hashes: &[B256],
    ) -> Result<Vec<Box<alloy_eips::eip4844::Blob>>, L1Error> {
        self.retry("reading blobs", || self.inner.blobs(block, hashes))
    }

    fn finalized_number(&self) -> Result<Option<u64>, L1Error> {
        self.retry("reading the L1's finalized block", || self.inner.finalized_number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Fails `failures` times with a temporary error, then answers.
    struct Flaky {
        failures: Cell<u32>,
        lasting: bool,
    }

    impl L1Source for Flaky {
        fn chain_id(&self) -> u64 {
            1
        }
        fn head_number(&self) -> Result<u64, L1Error> {
            if self.lasting {
                return Err(L1Error::BadResponse("nonsense".into()));
            }
            match self.failures.get() {
                0 => Ok(7),
                n => {
                    self.failures.set(n - 1);
                    Err(L1Error::Unreachable("connection refused".into()))
                }
            }
        }
        fn block(&self, _: u64) -> Result<Option<L1Block>, L1Error> {
            Ok(None)
        }
        fn blobs(
            &self,
            _: &L1Block,
            _: &[B256],
        ) -> Result<Vec<Box<alloy_eips::eip4844::Blob>>, L1Error> {
            Ok(Vec::new())
        }
    }

    fn quick(attempts: Option<u32>) -> Backoff {
        Backoff { initial: Duration::from_millis(1), max: Duration::from_millis(2), attempts }
    }

    #[test]
    fn temporary_errors_are_retried_until_the_l1_answers() {
        let source = Retrying::new(Flaky { failures: Cell::new(3), lasting: false }, quick(None));
        assert_eq!(source.head_number().unwrap(), 7);
        assert_eq!(source.inner().failures.get(), 0);
    }

    #[test]
    fn retries_stop_at_the_attempt_limit_and_lasting_errors_are_not_retried() {
        let source =
            Retrying::new(Flaky { failures: Cell::new(5), lasting: false }, quick(Some(2)));
        assert!(source.head_number().unwrap_err().is_temporary());
        assert_eq!(source.inner().failures.get(), 3, "two attempts, then the error");
        let source = Retrying::new(Flaky { failures: Cell::new(0), lasting: true }, quick(None));
        assert!(!source.head_number().unwrap_err().is_temporary());
    }
}
