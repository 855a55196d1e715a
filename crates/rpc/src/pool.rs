//! The bounded pool every JSON-RPC handler runs on, so that serving can never stop syncing.
//!
//! Handlers read the database and may execute the EVM: work that blocks. Each call waits for a
//! permit, runs on tokio's blocking threads (never on the workers that accept connections) and
//! holds its permit, and with it its one MDBX read transaction, until it is done. The number of
//! permits is what bounds the readers that serving can take from the database: at most
//! [`MAX_WORKERS`], which with the status server's connections stays within
//! [`lockstep_storage::SERVING_READERS`], so the sync loop always finds a reader slot. A call
//! that has not answered within the timeout gets error `-32002`; work that cannot be
//! interrupted finishes in the background, still holding its permit.

use crate::superchain::server_error;
use jsonrpsee::{
    types::{ErrorObjectOwned, Params},
    RpcModule,
};
use serde_json::Value;
use std::{sync::Arc, time::Duration};
use tokio::sync::Semaphore;

/// The most calls that may run at once, over every server of the process: the database's
/// serving budget less the status server's connections.
pub const MAX_WORKERS: usize =
    lockstep_storage::SERVING_READERS as usize - crate::status::MAX_CONNECTIONS;

/// The most calls that run at once by default.
pub const DEFAULT_WORKERS: usize = MAX_WORKERS;

/// How long a call may take by default, waiting for a permit included.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// `-32002`: the call did not finish in time (the code reth and geth give a timed-out request).
pub const TIMEOUT_CODE: i32 = -32002;

/// A handler: the server's context and the call's params in, the result out.
pub type Handler<C> = fn(&C, &Params<'_>) -> Result<Value, ErrorObjectOwned>;

/// The permits shared by every server of a process, and the per-call timeout.
#[derive(Debug, Clone)]
pub struct CallPool {
    permits: Arc<Semaphore>,
    workers: usize,
    timeout: Duration,
}

impl Default for CallPool {
    fn default() -> Self {
        Self::new(DEFAULT_WORKERS, DEFAULT_CALL_TIMEOUT)
    }
}

impl CallPool {
    /// A pool that runs at most `workers` calls at once (at least one, at most
    /// [`MAX_WORKERS`]), each answered within `timeout`.
    pub fn new(workers: usize, timeout: Duration) -> Self {
        let workers = workers.clamp(1, MAX_WORKERS);
        Self { permits: Arc::new(Semaphore::new(workers)), workers, timeout }
    }

    /// The most calls that run at once.
    pub const fn workers(&self) -> usize {
        self.workers
    }

    /// The per-call timeout.
    pub const fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `handler` on a blocking thread once a permit is free, within the timeout.
    pub async fn run<C: Send + Sync + 'static>(
        &self,
        context: Arc<C>,
        params: Params<'static>,
        handler: Handler<C>,
    ) -> Result<Value, ErrorObjectOwned> {
        let timeout = self.timeout;
        let work = async {
            let permit = Arc::clone(&self.permits)
                .acquire_owned()
                .await
                .map_err(|_| server_error("the server is shutting down"))?;
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                handler(&context, &params)
            })
            .await
            .map_err(|e| server_error(format!("the call failed: {e}")))?
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(ErrorObjectOwned::owned(
                TIMEOUT_CODE,
                format!("request timed out after {:.1} s", timeout.as_secs_f64()),
                None::<()>,
            )),
        }
    }

    /// Registers `handler` as method `name` of `module`, run on this pool.
    pub fn register<C: Send + Sync + 'static>(
        &self,
        module: &mut RpcModule<C>,
        name: &'static str,
        handler: Handler<C>,
    ) -> Result<(), crate::RpcError> {
        let pool = self.clone();
        module
            .register_async_method(name, move |params, context, _| {
                let pool = pool.clone();
                async move { pool.run(context, params, handler).await }
            })
            .map_err(crate::RpcError::Register)?;
        Ok(())
    }
}

/// How much lower than the sync loop the serving threads run by default, as a nice value
/// (`--rpc.niceness`): under load the kernel gives the sync loop the CPU first, so that no
/// client, however many, slows it much.
pub const SERVING_NICENESS: i32 = 10;

/// Lowers the calling thread's scheduling priority by [`SERVING_NICENESS`].
pub fn deprioritize_current_thread() {
    lower_thread_priority(SERVING_NICENESS);
}

/// Lowers the calling thread's scheduling priority by `niceness` (Linux keeps a nice value per
/// thread; 0 changes nothing). For every thread that serves JSON-RPC or the status page: the
/// async runtime's (`on_thread_start`) and the status server's. Best effort: where the system
/// refuses, the thread keeps its priority.
pub fn lower_thread_priority(niceness: i32) {
    if niceness <= 0 {
        return;
    }
    let tid = rustix::thread::gettid();
    let current = rustix::process::getpriority_process(Some(tid)).unwrap_or(0);
    let _ = rustix::process::setpriority_process(Some(tid), current + niceness);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Load {
        running: AtomicUsize,
        most: AtomicUsize,
    }

    fn slow(load: &Load, _: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let now = load.running.fetch_add(1, Ordering::SeqCst) + 1;
        load.most.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(100));
        load.running.fetch_sub(1, Ordering::SeqCst);
        Ok(Value::Bool(true))
    }

    #[test]
    fn no_more_calls_run_at_once_than_the_pool_has_workers_and_late_ones_time_out() {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let pool = CallPool::new(3, Duration::from_millis(1_000));
        let load = Arc::new(Load::default());
        let results = runtime.block_on(async {
            let calls = (0..60).map(|_| {
                let (pool, load) = (pool.clone(), load.clone());
                tokio::spawn(async move { pool.run(load, Params::new(None), slow).await })
            });
            let mut results = Vec::new();
            for call in calls.collect::<Vec<_>>() {
                results.push(call.await.unwrap());
            }
            results
        });
        assert_eq!(load.most.load(Ordering::SeqCst), 3, "never more than the workers at once");
        // 3 at a time, 100 ms each: about 30 finish within the second, the rest time out
        let done = results.iter().filter(|r| r.is_ok()).count();
        let timed_out =
            results.iter().filter(|r| r.as_ref().is_err_and(|e| e.code() == TIMEOUT_CODE));
        assert!((3..60).contains(&done), "{done} answered");
        assert_eq!(done + timed_out.count(), 60);
    }

    #[test]
    fn a_serving_thread_runs_below_the_priority_of_the_thread_that_started_it() {
        let before = rustix::process::getpriority_process(None).unwrap();
        let after = std::thread::spawn(|| {
            deprioritize_current_thread();
            rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(after, (before + SERVING_NICENESS).min(19));
        // and the thread that spawned it keeps its own
        let own = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        assert_eq!(own, before);
    }
}
