//! The one tokio runtime inside the addon.
//!
//! Started on first use, sized to the machine (one worker per available core), shared by every
//! Node environment (main thread and worker threads) that loads the addon, and shut down when the
//! last of them is torn down. Runtime threads are not libuv handles: they never keep Node's event
//! loop alive. What keeps it alive is a source's threadsafe function (see `bridge.rs`), and only
//! while that source is open.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::runtime::{Builder, Handle, Runtime};

struct State {
    runtime: Option<Runtime>,
    envs: usize,
}

static STATE: Mutex<State> = Mutex::new(State {
    runtime: None,
    envs: 0,
});
static HANDLE: OnceLock<Handle> = OnceLock::new();

/// How long shutdown waits for runtime tasks to finish at exit before abandoning them.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(250);

fn build() -> Runtime {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("ferrocast-rt")
        .on_thread_start(lower_priority)
        .on_thread_park(crate::bridge::flush_idle_bridges)
        .enable_all()
        .build()
        .expect("ferrocast: cannot start the tokio runtime")
}

/// How much nicer than the process the runtime's threads run: where they compete with the JS
/// thread for a core, the event loop comes first, and the runtime takes what it leaves.
const WORKER_NICENESS: i32 = 5;

/// Lowers the calling worker thread's scheduling priority by [`WORKER_NICENESS`] (Linux sets
/// niceness per thread). Best effort: a failure leaves the thread as it was.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread's own id.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, tid);
        if nice != -1 || *libc::__errno_location() == 0 {
            libc::setpriority(libc::PRIO_PROCESS, tid, (nice + WORKER_NICENESS).min(19));
        }
    }
}

/// The runtime's handle, starting the runtime on first use.
pub fn handle() -> &'static Handle {
    HANDLE.get_or_init(|| {
        let mut state = STATE.lock().unwrap();
        let rt = state.runtime.get_or_insert_with(build);
        rt.handle().clone()
    })
}

/// Spawns a future on the addon's runtime.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    handle().spawn(future)
}

/// Number of worker threads the runtime runs.
pub fn worker_count() -> usize {
    handle().metrics().num_workers()
}

fn release_env() {
    let runtime = {
        let mut state = STATE.lock().unwrap();
        state.envs = state.envs.saturating_sub(1);
        if state.envs == 0 {
            state.runtime.take()
        } else {
            None
        }
    };
    if let Some(rt) = runtime {
        rt.shutdown_timeout(SHUTDOWN_GRACE);
    }
}

#[napi(module_exports)]
pub fn init(_exports: Object, env: Env) -> Result<()> {
    STATE.lock().unwrap().envs += 1;
    handle();
    env.add_env_cleanup_hook((), |_| release_env())?;
    Ok(())
}

/// Facts about the runtime, for diagnostics.
#[napi(object)]
pub struct RuntimeInfo {
    /// Worker threads in the runtime (the machine's available parallelism).
    pub workers: u32,
    /// Tasks alive on the runtime now.
    pub alive_tasks: u32,
}

/// Describes the addon's tokio runtime.
#[napi]
pub fn runtime_info() -> RuntimeInfo {
    let metrics = handle().metrics();
    RuntimeInfo {
        workers: metrics.num_workers() as u32,
        alive_tasks: metrics.num_alive_tasks() as u32,
    }
}
