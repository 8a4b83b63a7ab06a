//! Rust → JS delivery: the one way every Rust source hands events to JavaScript.
//!
//! A source pushes records (a `u32` tag, an `f64` number and/or a byte string: the columns are
//! fixed when the bridge is made) into a pending batch. The batch is handed to JS with **one**
//! threadsafe-function call when it reaches `max_batch` records, when `max_delay` has passed since
//! its first record, or on an explicit [`Bridge::flush`]. JS receives columns as typed arrays and a
//! Buffer (copied into JS-owned memory up to [`COPY_MAX_BYTES`] each, the Vecs then reused; larger
//! columns become external ArrayBuffers without a copy) and dispatches with `emit`.
//!
//! Bounded: `in_flight` counts records handed to the threadsafe function and not yet taken by JS.
//! A batch that would push it past `high_water_mark` is handled by the [`Overflow`] policy:
//! `Drop` discards it and counts the records (reported to JS with the next batch), `Wait` makes
//! async producers wait ([`Bridge::reserve`]) until JS catches up.
//!
//! Lifecycle: the threadsafe function is referenced (keeps Node alive) only while the owner asks
//! for it ([`Bridge::set_keep_alive`]). [`Bridge::close`] flushes and releases it; Node delivers
//! every batch already queued, then closes its handle, and the process may exit.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use tokio::sync::Notify;

/// What to do with a batch when JS is `high_water_mark` records behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Discard the batch, count its records in `dropped` and report them with the next batch.
    Drop,
    /// Deliver anyway; producers are expected to call [`Bridge::reserve`] before pushing, which
    /// waits for room. Memory stays bounded by `high_water_mark` + one batch per producer.
    Wait,
}

/// Which columns each record carries.
#[derive(Clone, Copy, Debug, Default)]
pub struct Columns {
    /// A `u32` per record (a connection id, a key index, a kind).
    pub tag: bool,
    /// An `f64` per record.
    pub number: bool,
    /// A byte string per record.
    pub bytes: bool,
}

/// How a bridge batches and bounds its deliveries.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct BridgeConfig {
    /// Deliver when a batch holds this many records. Default 4096.
    pub max_batch: usize,
    /// Deliver no later than this after a batch's first record. Default 1 ms.
    pub max_delay: Duration,
    /// Records handed to JS and not yet taken, beyond which `overflow` applies. Default 1,048,576.
    pub high_water_mark: usize,
    /// The full-queue policy. Default [`Overflow::Drop`].
    pub overflow: Overflow,
    /// The columns of each record.
    pub columns: Columns,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        BridgeConfig {
            max_batch: 4096,
            max_delay: Duration::from_millis(1),
            high_water_mark: 1 << 20,
            overflow: Overflow::Drop,
            columns: Columns::default(),
        }
    }
}

impl BridgeConfig {
    /// A config with the given columns and default limits.
    pub fn with_columns(columns: Columns) -> Self {
        BridgeConfig {
            columns,
            ..Default::default()
        }
    }
}

/// One batch of records, in columns.
#[derive(Default)]
pub struct Batch {
    tags: Vec<u32>,
    numbers: Vec<f64>,
    bytes: Vec<u8>,
    ends: Vec<u32>,
    len: usize,
    dropped: u64,
    last: bool,
}

impl Batch {
    /// A delivered batch made ready for new records: its cleared Vecs keep their memory, and a
    /// column that went to JS as an external array gets new room.
    fn reused(mut self, columns: Columns, n: usize) -> Self {
        if columns.tag {
            self.tags.reserve(n);
        }
        if columns.number {
            self.numbers.reserve(n);
        }
        if columns.bytes {
            self.ends.reserve(n);
        }
        debug_assert!(self.tags.is_empty() && self.numbers.is_empty() && self.ends.is_empty());
        self.bytes.clear();
        self.len = 0;
        self.dropped = 0;
        self.last = false;
        self
    }

    fn with_capacity(columns: Columns, n: usize) -> Self {
        Batch::default().reused(columns, n)
    }
}

/// The arguments of the JS batch callback:
/// `(tags: Uint32Array | null, numbers: Float64Array | null, bytes: Buffer | null,
///   ends: Uint32Array | null, dropped: number, last: boolean)`.
pub type BatchArgs = FnArgs<(
    Option<JsColumn>,
    Option<JsColumn>,
    Option<JsColumn>,
    Option<JsColumn>,
    f64,
    bool,
)>;

/// A column of at most this many bytes is copied into an ordinary JS array; a larger one is
/// handed over as an external array (no copy; a finalizer frees the Vec when V8 collects it).
/// Making an external array and finalizing it later costs several µs (Node keeps a weak handle
/// and a finalizer record per array): with one or a few records per batch, that was about a sixth
/// of the server's CPU per echo round-trip at one connection. A copy of a few KiB costs far less,
/// and the Vec stays with the bridge for the next batch.
const COPY_MAX_BYTES: usize = 64 * 1024;

/// Delivered batches kept for their Vecs, per bridge: one, so an idle bridge holds at most two
/// batches of memory (the pending one and this).
const SPARE_BATCHES: usize = 1;

/// A column already made into a JS value (in the threadsafe function's callback, inside the
/// handle scope of the call that passes it to JS).
pub struct JsColumn(sys::napi_value);

impl ToNapiValue for JsColumn {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        Ok(val.0)
    }
}

/// `len` elements of `kind` over a new JS-owned ArrayBuffer holding a copy of `bytes`.
fn copied_array(
    env: sys::napi_env,
    kind: i32,
    bytes: &[u8],
    len: usize,
) -> Result<sys::napi_value> {
    let mut data = std::ptr::null_mut();
    let mut buffer = std::ptr::null_mut();
    let mut array = std::ptr::null_mut();
    // SAFETY: called on the JS thread with its env; `data` has `bytes.len()` writable bytes.
    unsafe {
        check_status!(sys::napi_create_arraybuffer(
            env,
            bytes.len(),
            &mut data,
            &mut buffer
        ))?;
        if !bytes.is_empty() {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), data.cast::<u8>(), bytes.len());
        }
        check_status!(sys::napi_create_typedarray(
            env, kind, len, buffer, 0, &mut array
        ))?;
    }
    Ok(array)
}

/// The bytes of a slice of plain numbers.
fn bytes_of<T: Copy>(v: &[T]) -> &[u8] {
    // SAFETY: u32 and f64 have no padding and every byte pattern is readable as u8.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

/// A column of numbers: a copy over a new ArrayBuffer when small (`v` is cleared and keeps its
/// memory), else `external(v)` (the Vec goes to JS).
fn number_column<T: Copy>(
    env: sys::napi_env,
    v: &mut Vec<T>,
    kind: i32,
    external: impl FnOnce(Vec<T>) -> Result<sys::napi_value>,
) -> Result<JsColumn> {
    if std::mem::size_of_val(v.as_slice()) <= COPY_MAX_BYTES {
        let array = copied_array(env, kind, bytes_of(v), v.len())?;
        v.clear();
        return Ok(JsColumn(array));
    }
    Ok(JsColumn(external(std::mem::take(v))?))
}

fn u32_column(env: sys::napi_env, v: &mut Vec<u32>) -> Result<JsColumn> {
    number_column(env, v, sys::TypedarrayType::uint32_array, |v| {
        // SAFETY: on the JS thread, with its env.
        unsafe { Uint32Array::to_napi_value(env, Uint32Array::new(v)) }
    })
}

fn f64_column(env: sys::napi_env, v: &mut Vec<f64>) -> Result<JsColumn> {
    number_column(env, v, sys::TypedarrayType::float64_array, |v| {
        // SAFETY: on the JS thread, with its env.
        unsafe { Float64Array::to_napi_value(env, Float64Array::new(v)) }
    })
}

fn bytes_column(env: sys::napi_env, v: &mut Vec<u8>) -> Result<JsColumn> {
    if v.len() <= COPY_MAX_BYTES {
        let mut data = std::ptr::null_mut();
        let mut buffer = std::ptr::null_mut();
        // SAFETY: on the JS thread, with its env; Node copies `v.len()` bytes from `v`.
        unsafe {
            check_status!(sys::napi_create_buffer_copy(
                env,
                v.len(),
                v.as_ptr().cast(),
                &mut data,
                &mut buffer
            ))?;
        }
        v.clear();
        return Ok(JsColumn(buffer));
    }
    // SAFETY: on the JS thread, with its env.
    let buffer = unsafe { Buffer::to_napi_value(env, Buffer::from(std::mem::take(v))) }?;
    Ok(JsColumn(buffer))
}

type Tsfn = ThreadsafeFunction<Batch, (), BatchArgs, Status, false, false, 0>;

/// Counters a bridge keeps; all are totals since it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BridgeStats {
    /// Records handed to JS.
    pub delivered: u64,
    /// Records discarded by the `Drop` policy.
    pub dropped: u64,
    /// Threadsafe-function calls made (one per batch).
    pub batches: u64,
}

struct Shared {
    config: BridgeConfig,
    tsfn: Mutex<Option<Tsfn>>,
    pending: Mutex<Batch>,
    /// Delivered batches' Vecs (cleared; a column handed over as an external array is empty),
    /// reused for the next pending batch.
    spare: Arc<Mutex<Vec<Batch>>>,
    in_flight: Arc<AtomicUsize>,
    room: Arc<Notify>,
    wake: Arc<Notify>,
    /// Set while JS is dispatching a batch ([`Bridge::hold`]): the `max_delay` timer leaves
    /// the pending batch alone.
    held: AtomicBool,
    /// Listed in [`IDLE_FLUSH`] to be flushed when a runtime worker runs out of work.
    idle_flush: AtomicBool,
    closed: AtomicBool,
    unreported_drops: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    batches: AtomicU64,
}

/// A handle producers use to deliver records to one JS callback. Cheap to clone.
#[derive(Clone)]
pub struct Bridge {
    shared: Arc<Shared>,
}

impl Bridge {
    /// Makes a bridge that delivers to `callback`. Must run on the JS thread. The bridge keeps Node
    /// alive until [`Bridge::set_keep_alive`]`(false)` or [`Bridge::close`].
    pub fn new(env: &Env, callback: Function<BatchArgs, ()>, config: BridgeConfig) -> Result<Self> {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let room = Arc::new(Notify::new());
        let (cb_in_flight, cb_room) = (in_flight.clone(), room.clone());
        let spare: Arc<Mutex<Vec<Batch>>> = Arc::default();
        let cb_spare = spare.clone();
        let tsfn: Tsfn = callback
            .build_threadsafe_function::<Batch>()
            .callee_handled::<false>()
            .build_callback(move |ctx| {
                let mut b = ctx.value;
                cb_in_flight.fetch_sub(b.len, Ordering::AcqRel);
                cb_room.notify_waiters();
                let env = ctx.env.raw();
                let tags = (!b.tags.is_empty())
                    .then(|| u32_column(env, &mut b.tags))
                    .transpose()?;
                let numbers = (!b.numbers.is_empty())
                    .then(|| f64_column(env, &mut b.numbers))
                    .transpose()?;
                let (bytes, ends) = if b.ends.is_empty() {
                    (None, None)
                } else {
                    let bytes = bytes_column(env, &mut b.bytes)?;
                    (Some(bytes), Some(u32_column(env, &mut b.ends)?))
                };
                let (dropped, last) = (b.dropped as f64, b.last);
                let mut spare = cb_spare.lock().unwrap();
                if spare.len() < SPARE_BATCHES {
                    spare.push(b);
                }
                drop(spare);
                Ok(FnArgs::from((tags, numbers, bytes, ends, dropped, last)))
            })?;
        let _ = env;
        let shared = Arc::new(Shared {
            pending: Mutex::new(Batch::with_capacity(config.columns, config.max_batch)),
            spare,
            config,
            tsfn: Mutex::new(Some(tsfn)),
            in_flight,
            room,
            wake: Arc::new(Notify::new()),
            held: AtomicBool::new(false),
            idle_flush: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            unreported_drops: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            batches: AtomicU64::new(0),
        });
        let bridge = Bridge { shared };
        bridge.spawn_flusher();
        Ok(bridge)
    }

    fn spawn_flusher(&self) {
        let weak = Arc::downgrade(&self.shared);
        let wake = self.shared.wake.clone();
        let delay = self.shared.config.max_delay;
        crate::runtime::spawn(async move {
            loop {
                match weak.upgrade() {
                    Some(shared) if !shared.closed.load(Ordering::Acquire) => {}
                    _ => return,
                }
                wake.notified().await;
                // A producer that flushes right after pushing (JS idle) leaves nothing to wait
                // for: no timer then.
                match weak.upgrade() {
                    Some(shared) if shared.pending.lock().unwrap().len == 0 => continue,
                    Some(_) => {}
                    None => return,
                }
                tokio::time::sleep(delay).await;
                match weak.upgrade() {
                    // While JS is held, whoever releases it flushes (`hold(false)`).
                    Some(shared) if shared.held.load(Ordering::Acquire) => {}
                    Some(shared) => Bridge { shared }.flush(),
                    None => return,
                }
            }
        });
    }

    /// The bridge's configuration.
    pub fn config(&self) -> &BridgeConfig {
        &self.shared.config
    }

    /// Whether [`Bridge::close`] has run.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Appends one record. Fields for columns the bridge does not carry are ignored.
    /// Returns `false` (and stores nothing) once the bridge is closed.
    pub fn push(&self, tag: u32, number: f64, bytes: &[u8]) -> bool {
        if self.is_closed() {
            return false;
        }
        let cols = self.shared.config.columns;
        let mut p = self.shared.pending.lock().unwrap();
        if cols.tag {
            p.tags.push(tag);
        }
        if cols.number {
            p.numbers.push(number);
        }
        if cols.bytes {
            p.bytes.extend_from_slice(bytes);
            let end = p.bytes.len() as u32;
            p.ends.push(end);
        }
        p.len += 1;
        if p.len >= self.shared.config.max_batch {
            self.send_locked(&mut p, false);
        } else if p.len == 1 {
            self.shared.wake.notify_one();
        }
        true
    }

    /// Appends many numbers with one lock (a `number`-only bridge).
    pub fn push_numbers(&self, values: &[f64]) -> bool {
        if self.is_closed() {
            return false;
        }
        let max = self.shared.config.max_batch;
        let mut p = self.shared.pending.lock().unwrap();
        let was_empty = p.len == 0;
        let mut rest = values;
        while !rest.is_empty() {
            let take = (max - p.len).min(rest.len());
            p.numbers.extend_from_slice(&rest[..take]);
            p.len += take;
            rest = &rest[take..];
            if p.len >= max {
                self.send_locked(&mut p, false);
            }
        }
        if was_empty && p.len > 0 {
            self.shared.wake.notify_one();
        }
        true
    }

    /// Waits until fewer than `high_water_mark` records are in flight to JS (the `Wait` policy),
    /// so a producer that then pushes a chunk of `n` records keeps memory within
    /// `high_water_mark + n`. Returns at once under `Drop`, or when the bridge closes.
    pub async fn reserve(&self) {
        let s = &self.shared;
        if s.config.overflow != Overflow::Wait {
            return;
        }
        loop {
            let notified = s.room.notified();
            if s.in_flight.load(Ordering::Acquire) < s.config.high_water_mark || self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    /// Records handed to JS and not yet taken by it.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::Acquire)
    }

    /// Hands the pending batch to JS when the runtime worker that calls this runs out of work
    /// (and JS is idle then), instead of now: a worker that reads many sockets in one round
    /// sends one batch for the round, not one per read, while a lone event still goes at once
    /// (the worker parks right after). Off the runtime, it is [`Bridge::flush_if_idle`].
    pub fn flush_when_worker_idle(&self) {
        if tokio::runtime::Handle::try_current().is_err() {
            self.flush_if_idle();
            return;
        }
        if !self.shared.idle_flush.swap(true, Ordering::AcqRel) {
            IDLE_FLUSH
                .lock()
                .unwrap()
                .push(Arc::downgrade(&self.shared));
        }
    }

    /// Hands the pending batch to JS now if JS has taken every earlier batch and is not held
    /// ([`Bridge::hold`]), so a lone event is not held for `max_delay`; otherwise leaves it to grow (it goes at `max_batch`, at
    /// `max_delay`, or at the next call that finds JS idle). Latency stays low when traffic is
    /// light and batches grow when it is heavy.
    pub fn flush_if_idle(&self) {
        if self.shared.in_flight.load(Ordering::Acquire) == 0
            && !self.shared.held.load(Ordering::Acquire)
        {
            self.flush();
        }
    }

    /// Holds (`true`) or releases (`false`) the pending batch while JS dispatches the previous
    /// one: no timer flush meanwhile, so records that arrive during a long dispatch go as one
    /// batch when it ends instead of queueing one batch per `max_delay`, which Node would then
    /// run back to back without returning to its event loop. Releasing flushes if JS is idle.
    /// The holder must release.
    pub fn hold(&self, on: bool) {
        self.shared.held.store(on, Ordering::Release);
        if !on {
            self.flush_if_idle();
        }
    }

    /// Hands the pending batch (if any) to JS now.
    pub fn flush(&self) {
        let mut p = self.shared.pending.lock().unwrap();
        if p.len > 0 {
            self.send_locked(&mut p, false);
        }
    }

    fn send_locked(&self, p: &mut Batch, last: bool) {
        let s = &self.shared;
        let cols = s.config.columns;
        let next = match s.spare.lock().unwrap().pop() {
            Some(b) => b.reused(cols, s.config.max_batch),
            None => Batch::with_capacity(cols, s.config.max_batch),
        };
        let mut batch = std::mem::replace(p, next);
        let n = batch.len;
        if n > 0
            && !last
            && s.config.overflow == Overflow::Drop
            && s.in_flight.load(Ordering::Acquire) + n > s.config.high_water_mark
        {
            s.dropped.fetch_add(n as u64, Ordering::Relaxed);
            s.unreported_drops.fetch_add(n as u64, Ordering::Relaxed);
            return;
        }
        batch.dropped = s.unreported_drops.swap(0, Ordering::Relaxed);
        batch.last = last;
        let n = batch.len;
        let guard = s.tsfn.lock().unwrap();
        let Some(tsfn) = guard.as_ref() else { return };
        s.in_flight.fetch_add(n, Ordering::AcqRel);
        let status = tsfn.call(batch, ThreadsafeFunctionCallMode::NonBlocking);
        if status == Status::Ok {
            s.delivered.fetch_add(n as u64, Ordering::Relaxed);
            s.batches.fetch_add(1, Ordering::Relaxed);
        } else {
            // Node is tearing the environment down: nobody is left to receive the batch.
            s.in_flight.fetch_sub(n, Ordering::AcqRel);
            s.dropped.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// Whether the bridge keeps Node's event loop alive. Must run on the JS thread.
    pub fn set_keep_alive(&self, env: &Env, on: bool) -> Result<()> {
        let guard = self.shared.tsfn.lock().unwrap();
        if let Some(tsfn) = guard.as_ref() {
            let raw = tsfn.raw();
            let status = unsafe {
                if on {
                    napi::sys::napi_ref_threadsafe_function(env.raw(), raw)
                } else {
                    napi::sys::napi_unref_threadsafe_function(env.raw(), raw)
                }
            };
            if status != napi::sys::Status::napi_ok {
                return Err(Error::new(
                    Status::GenericFailure,
                    "cannot change the bridge's keep-alive",
                ));
            }
        }
        Ok(())
    }

    /// Flushes what is pending as a final batch (`last = true`, delivered even when empty) and
    /// releases the threadsafe function. Idempotent. Node delivers every queued batch before the
    /// handle closes, so nothing is lost.
    pub fn close(&self) {
        if self.shared.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let mut p = self.shared.pending.lock().unwrap();
            self.send_locked(&mut p, true);
        }
        self.shared.tsfn.lock().unwrap().take();
        self.shared.wake.notify_one();
        self.shared.room.notify_waiters();
    }

    /// The bridge's counters.
    pub fn stats(&self) -> BridgeStats {
        let s = &self.shared;
        BridgeStats {
            delivered: s.delivered.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
            batches: s.batches.load(Ordering::Relaxed),
        }
    }
}

/// Bridges waiting for a runtime worker to run out of work ([`Bridge::flush_when_worker_idle`]).
static IDLE_FLUSH: Mutex<Vec<std::sync::Weak<Shared>>> = Mutex::new(Vec::new());

/// Flushes the bridges that asked for it (the runtime calls this when a worker is about to park).
pub fn flush_idle_bridges() {
    let list = std::mem::take(&mut *IDLE_FLUSH.lock().unwrap());
    for weak in list {
        if let Some(shared) = weak.upgrade() {
            // Cleared first: a record pushed from here on registers the bridge again.
            shared.idle_flush.store(false, Ordering::Release);
            Bridge { shared }.flush_if_idle();
        }
    }
}

/// A `Float64Array` over `len` f64s at `ptr`, memory that JS and Rust share without a crossing
/// per access. `owner` keeps the memory alive until V8 collects the view. Fails, naming `who`,
/// where the runtime forbids external ArrayBuffers (it would copy, and sharing would break).
///
/// # Safety
/// `ptr` must point at `len` f64s that stay valid for as long as `owner` lives.
pub unsafe fn external_f64_view<'env, T: 'env>(
    env: &'env Env,
    ptr: *mut f64,
    len: usize,
    owner: T,
    who: &str,
) -> Result<Float64ArraySlice<'env>> {
    let view = unsafe { Float64ArraySlice::from_external(env, ptr, len, owner, |_, o| drop(o)) }?;
    if !std::ptr::eq(view.as_ptr(), ptr) {
        return Err(Error::new(
            Status::GenericFailure,
            format!("this runtime does not allow external ArrayBuffers, which {who} needs"),
        ));
    }
    Ok(view)
}

/// Bridge options as JS passes them to native sources.
#[napi_derive::napi(object)]
#[derive(Default)]
pub struct BridgeOptions {
    /// Deliver when a batch holds this many records. Default 4096.
    pub max_batch: Option<u32>,
    /// Deliver no later than this many milliseconds after a batch's first record. Default 1.
    pub max_delay: Option<f64>,
    /// Records handed to JS and not yet taken, beyond which `overflow` applies. Default 1048576.
    pub high_water_mark: Option<u32>,
    /// `'drop'` (default) discards and counts a batch when JS is behind; `'wait'` makes the
    /// source wait for JS.
    pub overflow: Option<String>,
}

impl BridgeOptions {
    /// Turns JS options into a config with the given columns. JS has validated the values.
    pub fn into_config(self, columns: Columns) -> BridgeConfig {
        let d = BridgeConfig::default();
        BridgeConfig {
            max_batch: self.max_batch.map_or(d.max_batch, |v| v.max(1) as usize),
            max_delay: self.max_delay.map_or(d.max_delay, |ms| {
                Duration::from_secs_f64(ms.max(0.0) / 1000.0)
            }),
            high_water_mark: self
                .high_water_mark
                .map_or(d.high_water_mark, |v| v.max(1) as usize),
            overflow: match self.overflow.as_deref() {
                Some("wait") => Overflow::Wait,
                _ => Overflow::Drop,
            },
            columns,
        }
    }
}

/// Bridge counters as JS sees them.
#[napi_derive::napi(object)]
pub struct JsBridgeStats {
    /// Records handed to JS.
    pub delivered: f64,
    /// Records discarded by the `'drop'` policy.
    pub dropped: f64,
    /// Threadsafe-function calls made (one per batch).
    pub batches: f64,
}

impl From<BridgeStats> for JsBridgeStats {
    fn from(s: BridgeStats) -> Self {
        JsBridgeStats {
            delivered: s.delivered as f64,
            dropped: s.dropped as f64,
            batches: s.batches as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_fill_defaults() {
        let c = BridgeOptions::default().into_config(Columns::default());
        assert_eq!(c.max_batch, 4096);
        assert_eq!(c.max_delay, Duration::from_millis(1));
        assert_eq!(c.high_water_mark, 1 << 20);
        assert_eq!(c.overflow, Overflow::Drop);
    }

    #[test]
    fn options_convert_units_and_policy() {
        let c = BridgeOptions {
            max_batch: Some(10),
            max_delay: Some(2.5),
            high_water_mark: Some(100),
            overflow: Some("wait".into()),
        }
        .into_config(Columns {
            number: true,
            ..Default::default()
        });
        assert_eq!(c.max_batch, 10);
        assert_eq!(c.max_delay, Duration::from_micros(2500));
        assert_eq!(c.high_water_mark, 100);
        assert_eq!(c.overflow, Overflow::Wait);
        assert!(c.columns.number && !c.columns.bytes);
    }

    #[test]
    fn batch_allocates_only_its_columns() {
        let b = Batch::with_capacity(
            Columns {
                bytes: true,
                ..Default::default()
            },
            64,
        );
        assert_eq!(b.tags.capacity(), 0);
        assert_eq!(b.numbers.capacity(), 0);
        assert!(b.ends.capacity() >= 64);
    }
}
