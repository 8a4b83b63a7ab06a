//! EventBuffer: the timing policy of a debounced event buffer, on the tokio runtime.
//!
//! # Who holds what
//! The buffered values stay where they were produced, and only the *decision* of when to flush
//! is native:
//!
//! - **JS-fed buffers** ([`NativeEventBuffer`], behind `lib/event-buffer.js`): a JS value cannot
//!   cross into Rust cheaply, so the events stay in a JS array. `add()` pushes to the array and
//!   bumps an add counter in a small block of memory that Rust owns and JS sees as a
//!   `Float64Array` (an external ArrayBuffer). No call crosses into Rust per event: JS crosses
//!   only when a burst starts ([`NativeEventBuffer::activate`]) and when the array goes empty ↔
//!   non-empty ([`NativeEventBuffer::hold`], which refs/unrefs the event loop).
//! - **Rust-fed buffers** ([`RustBuffer`]): a Rust source (the WebSocket server's inbound
//!   messages, for one) owns a `RustBuffer<T>` and calls [`RustBuffer::push`] per item; the flushed
//!   `Vec<T>` goes to the sink closure it gave (typically pushing the batch through a
//!   [`crate::bridge::Bridge`]). Nothing crosses into JS per item.
//!
//! Both use the same [`Tracker`] (the policy, a pure state machine) driven by one timer task per
//! buffer that samples the add counter every millisecond while a burst is on and sleeps otherwise.
//!
//! # The policy
//! A *burst* starts with the first add after the buffer went quiet. Each add restarts the quiet
//! timer: when `delay` passes with no add, a *quiet* signal flushes every event added up to that
//! moment and ends the burst. With `max_wait`, a *max-wait* signal flushes no later than
//! `max_wait` after the oldest unflushed event, even while adds keep coming (lodash's `maxWait`).
//! `max_size` and `leading` are decided synchronously by the feeding side (JS or [`RustBuffer`]),
//! which knows its own length and whether a burst is on.
//!
//! Signals carry `upto`, the total number of adds the decision covers: the feeding side flushes
//! exactly the events it has not flushed yet among the first `upto`, so an event is never flushed
//! twice or lost, whichever of the timer, `max_size` or an explicit flush gets there first.
//!
//! Precision: the counter is sampled every millisecond (tokio's timer resolution). After each
//! sample Rust raises a flag in the shared block; the next add sees it and reports the count back
//! from a microtask (one crossing per sample at most, none per add), which dates the end of each
//! synchronous run of adds precisely. The last stretch before a deadline is slept precisely, so
//! a quiet flush fires just after `delay` (never before: an add seen only at a sample is dated
//! at that sample).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::sync::Notify;

use crate::bridge::{BatchArgs, Bridge, BridgeConfig, Columns, Overflow};

/// How often a running burst samples the add counter.
const SAMPLE: Duration = Duration::from_millis(1);
/// A deadline closer than `SAMPLE` + this is waited for with a precise sleep.
const PRECISE_MARGIN: Duration = Duration::from_micros(200);
/// The end of a precise sleep is spun, not slept.
const SPIN: Duration = Duration::from_micros(250);

/// The timing policy of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BufferConfig {
    /// Quiet time after the last add that flushes and ends a burst. Default 100 ms.
    pub delay: Duration,
    /// Longest an event waits while adds keep coming. Default `None` (no limit).
    pub max_wait: Option<Duration>,
    /// Flush as soon as this many events are held. Default `usize::MAX` (no limit).
    pub max_size: usize,
    /// Emit the first event of a burst at once, alone. Default `false`.
    pub leading: bool,
}

impl Default for BufferConfig {
    fn default() -> Self {
        BufferConfig {
            delay: Duration::from_millis(100),
            max_wait: None,
            max_size: usize::MAX,
            leading: false,
        }
    }
}

/// A flush decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal {
    /// Identifies the signal; the feeding side acknowledges a max-wait signal with it.
    pub id: u32,
    /// Flush every not-yet-flushed event among the first `upto` ever added.
    pub upto: u64,
    /// `true`: the burst went quiet (it ends); `false`: `max_wait` expired (the burst goes on).
    pub quiet: bool,
}

/// The policy as a pure state machine over explicit instants (unit-tested without a clock).
#[derive(Debug)]
pub struct Tracker {
    delay: Duration,
    max_wait: Option<Duration>,
    active: bool,
    seen: u64,
    last_change: Instant,
    wait_start: Option<Instant>,
    outstanding: Option<u32>,
    next_id: u32,
}

impl Tracker {
    /// A tracker with no burst running.
    pub fn new(config: &BufferConfig, now: Instant) -> Self {
        Tracker {
            delay: config.delay,
            max_wait: config.max_wait,
            active: false,
            seen: 0,
            last_change: now,
            wait_start: None,
            outstanding: None,
            next_id: 0,
        }
    }

    /// Whether a burst is running.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// A burst starts at `now`; `added` counts every add so far, `holding` says whether
    /// unflushed events are held (false when `leading` emitted the first one at once).
    pub fn activate(&mut self, now: Instant, added: u64, holding: bool) {
        self.active = true;
        self.seen = added;
        self.last_change = now;
        self.outstanding = None;
        self.wait_start = holding.then_some(now);
    }

    /// The held events went from none to some (`on`), or were all flushed (`!on`).
    pub fn hold(&mut self, now: Instant, on: bool) {
        if on {
            if self.wait_start.is_none() {
                self.wait_start = Some(now);
            }
        } else {
            self.wait_start = None;
        }
    }

    /// The feeding side reports the add count at `now` (the end of a synchronous run of adds):
    /// a change since the last sample dates the last add precisely.
    pub fn observe(&mut self, now: Instant, added: u64) {
        if self.active && added != self.seen {
            self.seen = added;
            self.last_change = now;
        }
    }

    /// One sample at `now`: `added` counts every add so far, `acked` is the id of the last
    /// max-wait signal the feeding side has processed. Returns the flush to signal, if any.
    pub fn sample(&mut self, now: Instant, added: u64, acked: u32) -> Option<Signal> {
        if !self.active {
            return None;
        }
        if added != self.seen {
            // The add happened after the previous sample; `now` is the latest it can have been,
            // so a quiet flush is never early.
            self.seen = added;
            self.last_change = now;
        }
        if self.outstanding == Some(acked) {
            self.outstanding = None;
        }
        if now.duration_since(self.last_change) >= self.delay {
            self.active = false;
            self.outstanding = None;
            self.wait_start = None;
            return Some(self.signal(added, true));
        }
        if let (Some(max_wait), Some(start), None) =
            (self.max_wait, self.wait_start, self.outstanding)
        {
            if now.duration_since(start) >= max_wait {
                let s = self.signal(added, false);
                self.outstanding = Some(s.id);
                // Events still held after the feeding side flushes `upto` were added after now.
                self.wait_start = Some(now);
                return Some(s);
            }
        }
        None
    }

    /// The next instant at which [`Tracker::sample`] may signal, if a burst is running.
    pub fn next_deadline(&self) -> Option<Instant> {
        if !self.active {
            return None;
        }
        let quiet = self.last_change + self.delay;
        let wait = match (self.max_wait, self.wait_start, self.outstanding) {
            (Some(max_wait), Some(start), None) => Some(start + max_wait),
            _ => None,
        };
        Some(wait.map_or(quiet, |w| w.min(quiet)))
    }

    fn signal(&mut self, upto: u64, quiet: bool) -> Signal {
        self.next_id = self.next_id.wrapping_add(1) & 0x7fff_ffff;
        Signal {
            id: self.next_id,
            upto,
            quiet,
        }
    }
}

/// The side of a buffer that holds the events: it counts adds and applies signals.
pub trait FlushTarget: Send + Sync + 'static {
    /// Every add so far.
    fn added(&self) -> u64;
    /// The id of the last signal applied.
    fn acked(&self) -> u32;
    /// Applies (or forwards) a flush decision.
    fn signal(&self, signal: Signal);
    /// Called after each sample (a JS-fed buffer raises a flag that makes its next add report
    /// the add count back with [`NativeEventBuffer::settle`]).
    fn sampled(&self) {}
}

struct TimerShared {
    tracker: Mutex<Tracker>,
    wake: Arc<Notify>,
    closed: AtomicBool,
}

/// What one sample of a running burst did.
enum Step {
    /// The buffer was closed.
    Closed,
    /// No burst is running.
    Idle,
    /// A signal was sent; `true` when it ended the burst (quiet).
    Signalled(bool),
    /// Nothing to signal yet; the next deadline, if any.
    Waiting(Option<Instant>),
}

/// Sleeps until `deadline`, the last [`SPIN`] on the CPU: a thread woken from sleep on a busy
/// machine may wait for a core, a spinning one is already running.
fn sleep_until_precisely(deadline: Instant) {
    let left = deadline.saturating_duration_since(Instant::now());
    if left > SPIN {
        std::thread::sleep(left - SPIN);
    }
    while Instant::now() < deadline {
        std::hint::spin_loop();
    }
}

/// Samples the add counter now and sends the signal that is due, if any.
fn step<T: FlushTarget>(s: &TimerShared, t: &T) -> Step {
    if s.closed.load(Ordering::Acquire) {
        return Step::Closed;
    }
    let (signal, deadline) = {
        let mut tracker = s.tracker.lock().unwrap();
        if !tracker.is_active() {
            return Step::Idle;
        }
        let signal = tracker.sample(Instant::now(), t.added(), t.acked());
        (signal, tracker.next_deadline())
    };
    t.sampled();
    match signal {
        Some(signal) => {
            t.signal(signal);
            Step::Signalled(signal.quiet)
        }
        None => Step::Waiting(deadline),
    }
}

/// The per-buffer timer task: asleep between bursts, sampling every millisecond during one.
#[derive(Clone)]
struct Timer {
    shared: Arc<TimerShared>,
}

impl Timer {
    fn start<T: FlushTarget>(config: &BufferConfig, target: Weak<T>) -> Timer {
        let shared = Arc::new(TimerShared {
            tracker: Mutex::new(Tracker::new(config, Instant::now())),
            wake: Arc::new(Notify::new()),
            closed: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&shared);
        let wake = shared.wake.clone();
        crate::runtime::spawn(async move {
            loop {
                // Idle: wait for a burst.
                loop {
                    let Some(s) = weak.upgrade() else { return };
                    if s.closed.load(Ordering::Acquire) {
                        return;
                    }
                    if s.tracker.lock().unwrap().is_active() {
                        break;
                    }
                    drop(s);
                    wake.notified().await;
                }
                let mut tick = tokio::time::interval(SAMPLE);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                tick.tick().await;
                // Some(left): the deadline is near; sleep `left` precisely, then sample.
                let mut precise: Option<Duration> = None;
                loop {
                    let step = match precise.take() {
                        None => {
                            tick.tick().await;
                            let (Some(s), Some(t)) = (weak.upgrade(), target.upgrade()) else {
                                return;
                            };
                            step(&s, &*t)
                        }
                        Some(left) => {
                            let (Some(s), Some(t)) = (weak.upgrade(), target.upgrade()) else {
                                return;
                            };
                            // tokio's timer has millisecond resolution and fires up to ~1 ms
                            // late: the last stretch before a deadline is slept precisely on the
                            // blocking pool, and that thread samples and signals itself, so the
                            // signal leaves without first waking a runtime worker (one thread
                            // hand-off fewer on a busy machine).
                            let deadline = Instant::now() + left;
                            let blocking = tokio::task::spawn_blocking(move || {
                                sleep_until_precisely(deadline);
                                step(&s, &*t)
                            });
                            let Ok(step) = blocking.await else { return };
                            tick.reset();
                            step
                        }
                    };
                    match step {
                        Step::Closed => return,
                        Step::Idle => break,
                        Step::Signalled(quiet) => {
                            if quiet {
                                break;
                            }
                        }
                        Step::Waiting(Some(deadline)) => {
                            let left = deadline.saturating_duration_since(Instant::now());
                            if left < SAMPLE + PRECISE_MARGIN {
                                precise = Some(left);
                            }
                        }
                        Step::Waiting(None) => {}
                    }
                }
            }
        });
        Timer { shared }
    }

    fn activate(&self, added: u64, holding: bool) {
        self.shared
            .tracker
            .lock()
            .unwrap()
            .activate(Instant::now(), added, holding);
        self.shared.wake.notify_one();
    }

    fn hold(&self, on: bool) {
        self.shared.tracker.lock().unwrap().hold(Instant::now(), on);
    }

    fn observe(&self, added: u64) {
        self.shared
            .tracker
            .lock()
            .unwrap()
            .observe(Instant::now(), added);
    }

    fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_one();
    }
}

// ---------------------------------------------------------------------------------------------
// Rust-fed buffers

struct RustState<T> {
    items: VecDeque<T>,
    flushed: u64,
    burst: bool,
    closed: bool,
}

struct RustInner<T> {
    config: BufferConfig,
    state: Mutex<RustState<T>>,
    added: AtomicU64,
    acked: AtomicU64,
    sink: Box<dyn Fn(Vec<T>) + Send + Sync>,
    timer: Mutex<Option<Timer>>,
}

/// A debounced buffer fed from Rust: the internal API for native sources.
///
/// ```ignore
/// let bridge = Bridge::new(env, callback, config)?;
/// let buffer = RustBuffer::new(BufferConfig { delay, ..Default::default() }, move |batch: Vec<Vec<u8>>| {
///     for message in &batch { bridge.push(0, 0.0, message); }
///     bridge.flush(); // one crossing per flushed batch
/// });
/// buffer.push(message); // per inbound message, on any thread: no JS crossing
/// ```
///
/// The sink runs on the thread that triggered the flush (the pusher for `max_size` and `leading`,
/// a runtime thread for the timer), with the buffer's lock held, so batches reach it in order.
pub struct RustBuffer<T: Send + 'static> {
    inner: Arc<RustInner<T>>,
}

impl<T: Send + 'static> RustBuffer<T> {
    /// Makes a buffer whose flushed batches go to `sink`. Must run where
    /// [`crate::runtime::spawn`] works (any thread once the addon is loaded).
    pub fn new(config: BufferConfig, sink: impl Fn(Vec<T>) + Send + Sync + 'static) -> Self {
        let inner = Arc::new(RustInner {
            config,
            state: Mutex::new(RustState {
                items: VecDeque::new(),
                flushed: 0,
                burst: false,
                closed: false,
            }),
            added: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            sink: Box::new(sink),
            timer: Mutex::new(None),
        });
        let timer = Timer::start(&config, Arc::downgrade(&inner));
        *inner.timer.lock().unwrap() = Some(timer);
        RustBuffer { inner }
    }

    /// Adds an item. Returns `false` (and drops it) once the buffer is closed.
    pub fn push(&self, item: T) -> bool {
        let inner = &self.inner;
        let mut s = inner.state.lock().unwrap();
        if s.closed {
            return false;
        }
        let added = inner.added.fetch_add(1, Ordering::AcqRel) + 1;
        let timer = inner.timer.lock().unwrap().clone();
        let Some(timer) = timer else { return false };
        if !s.burst {
            s.burst = true;
            if inner.config.leading {
                s.flushed += 1;
                timer.activate(added, false);
                (inner.sink)(vec![item]);
                return true;
            }
            s.items.push_back(item);
            timer.activate(added, true);
        } else {
            s.items.push_back(item);
            if s.items.len() == 1 {
                timer.hold(true);
            }
            timer.observe(added);
        }
        if s.items.len() >= inner.config.max_size {
            inner.flush_first(&mut s, usize::MAX, &timer);
        }
        true
    }

    /// Flushes every held item now (nothing when empty).
    pub fn flush(&self) {
        let timer = self.inner.timer.lock().unwrap().clone();
        let mut s = self.inner.state.lock().unwrap();
        if let Some(timer) = timer {
            self.inner.flush_first(&mut s, usize::MAX, &timer);
        }
    }

    /// Items held now.
    pub fn len(&self) -> usize {
        self.inner.state.lock().unwrap().items.len()
    }

    /// Whether no item is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Flushes what remains, stops the timer and refuses further pushes. Idempotent.
    pub fn close(&self) {
        let timer = self.inner.timer.lock().unwrap().take();
        let mut s = self.inner.state.lock().unwrap();
        if s.closed {
            return;
        }
        s.closed = true;
        if let Some(timer) = timer {
            self.inner.flush_first(&mut s, usize::MAX, &timer);
            timer.close();
        }
    }
}

impl<T: Send + 'static> Drop for RustBuffer<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T: Send + 'static> RustInner<T> {
    fn flush_first(&self, s: &mut RustState<T>, n: usize, timer: &Timer) {
        let n = n.min(s.items.len());
        if n == 0 {
            return;
        }
        let batch: Vec<T> = s.items.drain(..n).collect();
        s.flushed += n as u64;
        if s.items.is_empty() {
            timer.hold(false);
        }
        (self.sink)(batch);
    }
}

impl<T: Send + 'static> FlushTarget for RustInner<T> {
    fn added(&self) -> u64 {
        self.added.load(Ordering::Acquire)
    }

    fn acked(&self) -> u32 {
        self.acked.load(Ordering::Acquire) as u32
    }

    fn signal(&self, signal: Signal) {
        let timer = self.timer.lock().unwrap().clone();
        let Some(timer) = timer else { return };
        let mut s = self.state.lock().unwrap();
        let due = signal.upto.saturating_sub(s.flushed) as usize;
        self.flush_first(&mut s, due, &timer);
        self.acked.store(signal.id as u64, Ordering::Release);
        if signal.quiet {
            s.burst = !s.items.is_empty();
            if s.burst {
                timer.activate(self.added(), true);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JS-fed buffers

/// Slot indexes of the block JS sees as a `Float64Array`.
const SLOT_ADDED: usize = 0;
const SLOT_ACKED: usize = 1;
const SLOT_SAMPLED: usize = 2;
const SLOTS: usize = 4;

struct JsTarget {
    /// Written by JS (plain double stores), read here as bits. Boxed so its address is stable.
    slots: Box<[AtomicU64; SLOTS]>,
    bridge: Bridge,
}

impl JsTarget {
    fn slot(&self, i: usize) -> f64 {
        f64::from_bits(self.slots[i].load(Ordering::Acquire))
    }
}

impl FlushTarget for JsTarget {
    fn added(&self) -> u64 {
        self.slot(SLOT_ADDED) as u64
    }

    fn acked(&self) -> u32 {
        self.slot(SLOT_ACKED) as u32
    }

    fn signal(&self, signal: Signal) {
        // tag: id << 1 | quiet; number: upto. One crossing per signal.
        let tag = (signal.id << 1) | signal.quiet as u32;
        self.bridge.push(tag, signal.upto as f64, &[]);
        self.bridge.flush();
    }

    fn sampled(&self) {
        self.slots[SLOT_SAMPLED].store(1f64.to_bits(), Ordering::Release);
    }
}

/// Timing options of a JS-fed buffer. JS has validated them.
#[napi(object)]
pub struct NativeBufferOptions {
    /// Quiet time in milliseconds after the last add. Default 100.
    pub delay: Option<f64>,
    /// Longest wait in milliseconds for the oldest held event while adds keep coming.
    /// Default: none.
    pub max_wait: Option<f64>,
}

fn ms(v: f64) -> Duration {
    Duration::from_secs_f64(v.max(0.0) / 1000.0)
}

/// The native half of `EventBuffer`: the flush timer of a JS-held array of events.
///
/// The callback receives bridge batches whose records are signals: `tag = id << 1 | quiet`,
/// `number = upto` (see the module docs). JS acknowledges a signal by writing its tag into slot 1
/// of [`NativeEventBuffer::state`] and counts adds in slot 0.
#[napi]
pub struct NativeEventBuffer {
    target: Arc<JsTarget>,
    timer: Timer,
    shared_out: bool,
    /// Whether held events keep the event loop alive (`ref()`, the default) or not (`unref()`).
    refed: AtomicBool,
}

#[napi]
impl NativeEventBuffer {
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "(...args: any[]) => void")] callback: Function<BatchArgs, ()>,
        options: NativeBufferOptions,
    ) -> Result<Self> {
        let config = BufferConfig {
            delay: options.delay.map_or(Duration::from_millis(100), ms),
            max_wait: options.max_wait.map(ms),
            ..Default::default()
        };
        let mut bridge_config = BridgeConfig::with_columns(Columns {
            tag: true,
            number: true,
            bytes: false,
        });
        // Signals are rare (at most one per sample) and must never be dropped.
        bridge_config.overflow = Overflow::Wait;
        let bridge = Bridge::new(&env, callback, bridge_config)?;
        bridge.set_keep_alive(&env, false)?;
        let target = Arc::new(JsTarget {
            slots: Box::new(std::array::from_fn(|_| AtomicU64::new(0f64.to_bits()))),
            bridge,
        });
        let timer = Timer::start(&config, Arc::downgrade(&target));
        Ok(NativeEventBuffer {
            target,
            timer,
            shared_out: false,
            refed: AtomicBool::new(true),
        })
    }

    /// The shared counters as a `Float64Array` over memory this object owns:
    /// `[added, acked, sampled]`.
    /// Callable once.
    #[napi(ts_return_type = "Float64Array")]
    pub fn state<'env>(&mut self, env: &'env Env) -> Result<Float64ArraySlice<'env>> {
        if self.shared_out {
            return Err(Error::new(Status::InvalidArg, "state() is callable once"));
        }
        self.shared_out = true;
        let keep = self.target.clone();
        let ptr = keep.slots.as_ptr() as *mut f64;
        // SAFETY: the slots live as long as `keep`, which the view owns.
        unsafe { crate::bridge::external_f64_view(env, ptr, SLOTS, keep, "EventBuffer") }
    }

    /// A burst starts (the first add after quiet). `holding`: the add was kept (not emitted at
    /// once by `leading`), so the buffer now holds events and keeps the event loop alive.
    #[napi]
    pub fn activate(&self, env: Env, holding: bool) -> Result<()> {
        if holding && self.refed.load(Ordering::Relaxed) {
            self.target.bridge.set_keep_alive(&env, true)?;
        }
        self.timer.activate(self.target.added(), holding);
        Ok(())
    }

    /// The held events went from none to some (`on`) or were all flushed (`!on`): refs or
    /// unrefs the event loop and restarts the max-wait clock.
    #[napi]
    pub fn hold(&self, env: Env, on: bool) -> Result<()> {
        self.target
            .bridge
            .set_keep_alive(&env, on && self.refed.load(Ordering::Relaxed))?;
        self.timer.hold(on);
        Ok(())
    }

    /// `ref()` (`on`) / `unref()`: whether held events keep the event loop alive; `holding` says
    /// whether events are held now.
    #[napi]
    pub fn set_ref(&self, env: Env, on: bool, holding: bool) -> Result<()> {
        self.refed.store(on, Ordering::Relaxed);
        self.target.bridge.set_keep_alive(&env, on && holding)
    }

    /// Reports the add count now, at the end of a synchronous run of adds (JS calls it from a
    /// microtask, at most once per sample): dates the last add precisely.
    #[napi]
    pub fn settle(&self) {
        self.timer.observe(self.target.added());
    }

    /// Stops the timer and releases the bridge. Idempotent.
    #[napi]
    pub fn close(&self) {
        self.timer.close();
        self.target.bridge.close();
    }
}

impl Drop for NativeEventBuffer {
    fn drop(&mut self) {
        // Collected without close(): end the timer task.
        self.timer.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(delay: u64, max_wait: Option<u64>) -> BufferConfig {
        BufferConfig {
            delay: Duration::from_millis(delay),
            max_wait: max_wait.map(Duration::from_millis),
            ..Default::default()
        }
    }

    fn ms(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_millis(n)
    }

    #[test]
    fn quiet_flush_after_delay_from_the_last_add() {
        let t0 = Instant::now();
        let mut t = Tracker::new(&config(10, None), t0);
        assert_eq!(
            t.sample(ms(t0, 50), 0, 0),
            None,
            "idle trackers never signal"
        );
        t.activate(t0, 1, true);
        assert_eq!(t.sample(ms(t0, 5), 3, 0), None);
        assert_eq!(
            t.sample(ms(t0, 14), 3, 0),
            None,
            "10 ms have not passed since the 5 ms add"
        );
        let s = t.sample(ms(t0, 15), 3, 0).unwrap();
        assert!(s.quiet);
        assert_eq!(s.upto, 3);
        assert!(!t.is_active());
        assert_eq!(t.sample(ms(t0, 30), 3, 0), None);
    }

    #[test]
    fn max_wait_flushes_during_a_continuous_burst_and_waits_for_the_ack() {
        let t0 = Instant::now();
        let mut t = Tracker::new(&config(10, Some(25)), t0);
        t.activate(t0, 1, true);
        let mut signals = vec![];
        for i in 1..=40u64 {
            if let Some(s) = t.sample(ms(t0, i), i + 1, 0) {
                signals.push((i, s));
            }
        }
        // Adds every ms: never quiet; the first max-wait at 25 ms, then none until acked.
        assert_eq!(signals.len(), 1);
        assert_eq!(signals[0].0, 25);
        assert!(!signals[0].1.quiet);
        let id = signals[0].1.id;
        // Acked at 41 ms: the wait of what is still held started when the signal was decided.
        for i in 41..50u64 {
            assert_eq!(t.sample(ms(t0, i), i + 1, id), None, "at {i} ms");
        }
        let s = t.sample(ms(t0, 50), 51, id).unwrap();
        assert!(!s.quiet);
        assert_eq!(s.upto, 51);
    }

    #[test]
    fn emptying_the_buffer_resets_the_max_wait_clock() {
        let t0 = Instant::now();
        let mut t = Tracker::new(&config(100, Some(20)), t0);
        t.activate(t0, 1, true);
        t.hold(ms(t0, 15), false); // flushed by max_size
        t.hold(ms(t0, 16), true);
        for i in 1..36u64 {
            assert_eq!(t.sample(ms(t0, i), i, 0), None, "at {i} ms");
        }
        assert!(t.sample(ms(t0, 36), 36, 0).is_some());
    }

    #[test]
    fn a_leading_burst_holds_nothing_until_the_next_add() {
        let t0 = Instant::now();
        let mut t = Tracker::new(&config(10, Some(5)), t0);
        t.activate(t0, 1, false);
        assert_eq!(t.sample(ms(t0, 6), 1, 0), None, "nothing held: no max-wait");
        let s = t.sample(ms(t0, 10), 1, 0).unwrap();
        assert!(s.quiet, "the burst still ends, so the next add leads again");
    }

    fn wait_until(mut f: impl FnMut() -> bool) {
        let t0 = Instant::now();
        while !f() {
            assert!(t0.elapsed() < Duration::from_secs(5), "timed out");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn rust_buffer_flushes_by_time_size_and_close_without_loss() {
        let got: Arc<Mutex<Vec<Vec<u32>>>> = Arc::default();
        let sink = got.clone();
        let buf = RustBuffer::new(
            BufferConfig {
                delay: Duration::from_millis(20),
                max_size: 4,
                ..Default::default()
            },
            move |batch: Vec<u32>| sink.lock().unwrap().push(batch),
        );
        for i in 0..6 {
            assert!(buf.push(i));
        }
        assert_eq!(got.lock().unwrap().as_slice(), &[vec![0, 1, 2, 3]]);
        wait_until(|| got.lock().unwrap().len() == 2);
        assert_eq!(got.lock().unwrap()[1], vec![4, 5]);
        buf.push(6);
        buf.push(7);
        buf.close();
        assert!(!buf.push(8));
        let all: Vec<u32> = got.lock().unwrap().concat();
        assert_eq!(all, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn rust_buffer_leading_emits_the_first_item_at_once() {
        let got: Arc<Mutex<Vec<Vec<u32>>>> = Arc::default();
        let sink = got.clone();
        let buf = RustBuffer::new(
            BufferConfig {
                delay: Duration::from_millis(15),
                leading: true,
                ..Default::default()
            },
            move |batch: Vec<u32>| sink.lock().unwrap().push(batch),
        );
        buf.push(1);
        buf.push(2);
        buf.push(3);
        assert_eq!(got.lock().unwrap().as_slice(), &[vec![1]]);
        wait_until(|| got.lock().unwrap().len() == 2);
        assert_eq!(got.lock().unwrap()[1], vec![2, 3]);
        // The burst has ended: the next push leads again.
        wait_until(|| {
            buf.push(9);
            got.lock().unwrap().len() >= 3
        });
        assert_eq!(got.lock().unwrap()[2], vec![9]);
        buf.close();
    }
}
