//! MetricWindow: windowed numeric aggregation (count, sum, min, max, mean, rate, percentiles) in
//! bounded memory, per key, on the tokio runtime.
//!
//! # Storage and error
//! Each series keeps, per sub-window, an HDR histogram (the `hdrhistogram` crate) of the values
//! scaled by 2^20 and rounded to integers, plus exact count, sum, min and max. A percentile is the
//! highest value equivalent to its HDR bucket, clamped to the exact [min, max]; it is within
//! `max(10^-precision × p, 2^-20)` of the exact nearest-rank percentile `p` (relative error
//! 0.1 % with the default 3 significant digits). Values must lie in `[0, 2^40]`. Memory depends
//! on the range of the values, never on how many were recorded.
//!
//! # Windows
//! Time is cut into sub-windows of `slide` (tumbling windows: `slide == window`); a window is
//! the last `window / slide` sub-windows. At each sub-window end the runtime's timer drains the
//! staged values, emits one record per key with the stats of the window ending now, and starts
//! the next sub-window. A sliding window also keeps one histogram of the whole window: values
//! enter it as they enter their sub-window and an expiring sub-window is subtracted, so a
//! snapshot walks one histogram whatever `window / slide`. Percentiles are cached until a value
//! arrives or a sub-window ends.
//!
//! # Counting
//! Values are counted first in a `Staged` array in the crate's bucket layout (an index and a
//! `u32` increment per value) and enter the crate's histograms, one `record_n` per touched
//! bucket, when those are read: at a snapshot or a sub-window end.
//!
//! # Recording from JS without a crossing per value
//! Each series has a staging ring of [`RING`] `f64` slots in memory this module owns, which JS
//! sees as a `Float64Array`. An empty slot holds the sentinel `-1.0` (valid values are never
//! negative). JS writes each value into the next slot if it is empty; the consumer (the window
//! timer, a drain task JS wakes every half ring, or a synchronous [`NativeMetricWindow::drain`]
//! when JS finds the ring full) reads slots in order until it meets the sentinel and puts the
//! sentinel back. Each slot is written whole (an aligned 8-byte store) and handed over through
//! that one location, so no ordering between locations is needed and no value is lost or counted
//! twice. Snapshots and window ends drain first, so every value recorded before them is counted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::sync::Notify;

use crate::bridge::{BatchArgs, Bridge, BridgeConfig, Columns, Overflow};

/// Values are stored as integers in units of 2^-20.
pub const SCALE: f64 = 1_048_576.0;
/// The largest value a series accepts (2^40).
pub const MAX_VALUE: f64 = 1_099_511_627_776.0;
/// Slots in each staging ring.
pub const RING: usize = 8192;
const SENTINEL: u64 = 0xBFF0_0000_0000_0000; // (-1.0f64).to_bits()
/// The fixed columns of a stats row, before the percentiles.
pub const ROW_FIXED: usize = 8;

/// How a window aggregates.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct WindowConfig {
    /// Window length. Default 1 s.
    pub window: Duration,
    /// Sub-window length; a window ends every `slide`. Default: `window` (tumbling).
    pub slide: Duration,
    /// Percentiles reported, each in (0, 100]. Default 50, 90, 99, 99.9.
    pub percentiles: Vec<f64>,
    /// HDR significant digits, 1 to 5. Default 3 (relative error ≤ 0.1 %).
    pub precision: u8,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            window: Duration::from_secs(1),
            slide: Duration::from_secs(1),
            percentiles: vec![50.0, 90.0, 99.0, 99.9],
            precision: 3,
        }
    }
}

impl WindowConfig {
    /// Sub-windows per window.
    pub fn slots(&self) -> usize {
        ((self.window.as_nanos() / self.slide.as_nanos().max(1)) as usize).max(1)
    }
}

/// Whether `v` is a value a series can hold.
#[inline]
pub fn valid(v: f64) -> bool {
    (0.0..=MAX_VALUE).contains(&v)
}

struct Slot {
    hist: Histogram<u64>,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Slot {
    fn new(precision: u8) -> Slot {
        Slot {
            hist: Histogram::new(precision).expect("precision is validated to 1..=5"),
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// The exact statistics of one value (its histogram count goes through [`Staged`]).
    #[inline]
    fn note(&mut self, v: f64) {
        self.count += 1;
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    fn reset(&mut self) {
        self.hist.reset();
        self.count = 0;
        self.sum = 0.0;
        self.min = f64::INFINITY;
        self.max = f64::NEG_INFINITY;
    }
}

/// Counts waiting to enter the current sub-window's histogram, in the `hdrhistogram` crate's own
/// bucket layout (lowest discernible value 1, so a unit magnitude of 0).
///
/// The crate's per-value `record` costs ~7 ns (an `Option`-checked index, min/max/total updates
/// and a `u64` increment in a counts array that outgrows L1). Here a value costs the index (a
/// leading-zero count and two shifts) and a `u32` increment; the crate then gets one `record_n`
/// per bucket touched when the histogram is read (a snapshot or a window end), over the touched
/// index range only. `record_n(value_for(i), n)` lands in bucket `i` of the crate's histogram:
/// the layout is the crate's (see `Histogram::new_with_bounds`), checked by a unit test.
struct Staged {
    half_magnitude: u32,
    half_count: u64,
    mask: u64,
    lz_base: u32,
    counts: Vec<u32>,
    /// The touched index range, `lo..hi` (empty when `lo >= hi`).
    lo: usize,
    hi: usize,
    total: u64,
}

impl Staged {
    fn new(precision: u8) -> Staged {
        // As the crate: unit resolution up to 2 × 10^precision, rounded up to a power of two.
        let largest = 2 * 10u32.pow(u32::from(precision));
        let magnitude = f64::from(largest).log2().ceil() as u32;
        Staged {
            half_magnitude: magnitude - 1,
            half_count: 1 << (magnitude - 1),
            mask: (1 << magnitude) - 1,
            lz_base: 64 - magnitude,
            counts: Vec::new(),
            lo: usize::MAX,
            hi: 0,
            total: 0,
        }
    }

    /// The crate's `index_for` with a unit magnitude of 0.
    #[inline(always)]
    fn index(&self, x: u64) -> usize {
        staged_index(
            self.lz_base,
            self.mask,
            self.half_magnitude,
            self.half_count,
            x,
        )
    }

    /// The crate's `value_for`: the lowest value of bucket `index`.
    fn value_for(&self, index: usize) -> u64 {
        let mut bucket = (index >> self.half_magnitude) as i64 - 1;
        let mut sub = (index as u64 & (self.half_count - 1)) + self.half_count;
        if bucket < 0 {
            sub -= self.half_count;
            bucket = 0;
        }
        sub << bucket
    }

    /// Whether `n` more values could overflow a `u32` count (then fold first).
    #[inline]
    fn full(&self, n: usize) -> bool {
        self.total + n as u64 > STAGED_MAX as u64
    }

    /// Makes room for `n` values from `x_min` to `x_max` (not [`Staged::full`]) and widens the
    /// touched range.
    #[inline]
    fn reserve(&mut self, x_min: u64, x_max: u64, n: usize) {
        let top = self.index(x_max) + 1;
        if top > self.counts.len() {
            // Whole crate buckets at a time, as the crate resizes.
            let len = top.next_multiple_of(self.half_count as usize);
            self.counts.resize(len, 0);
        }
        self.lo = self.lo.min(self.index(x_min));
        self.hi = self.hi.max(top);
        self.total += n as u64;
    }

    /// Counts one value `x` (not [`Staged::full`]).
    #[inline]
    fn add(&mut self, x: u64) {
        let i = self.index(x);
        if i >= self.counts.len() {
            self.counts
                .resize((i + 1).next_multiple_of(self.half_count as usize), 0);
        }
        self.counts[i] += 1;
        self.lo = self.lo.min(i);
        self.hi = self.hi.max(i + 1);
        self.total += 1;
    }

    /// Moves the staged counts into `hist` (and `also`).
    fn fold(&mut self, hist: &mut Histogram<u64>, mut also: Option<&mut Histogram<u64>>) {
        if self.total == 0 {
            return;
        }
        for i in self.lo..self.hi {
            let n = self.counts[i];
            if n != 0 {
                self.counts[i] = 0;
                let value = self.value_for(i);
                // Auto-resizing, and the value is below 2^61: cannot fail.
                let _ = hist.record_n(value, u64::from(n));
                if let Some(also) = also.as_deref_mut() {
                    let _ = also.record_n(value, u64::from(n));
                }
            }
        }
        self.lo = usize::MAX;
        self.hi = 0;
        self.total = 0;
    }
}

/// Values staged between folds, at most (a `u32` count cannot overflow).
const STAGED_MAX: usize = u32::MAX as usize;

/// Scales a valid value to the histogram's integer units. `+ 0.5` then truncation rounds
/// (v >= 0) without a libm call.
#[inline(always)]
fn scaled(v: f64) -> u64 {
    // Through i64: the value is below 2^61, and x86-64 converts to i64 in one instruction.
    (v * SCALE + 0.5) as i64 as u64
}

/// A staging ring JS writes values into (see the module docs).
pub struct Ring {
    slots: Box<[AtomicU64]>,
}

impl Ring {
    fn new() -> Ring {
        Ring {
            slots: (0..RING).map(|_| AtomicU64::new(SENTINEL)).collect(),
        }
    }

    /// Writes `v` into slot `i` as JS does (for tests).
    #[cfg(test)]
    fn stage(&self, i: usize, v: f64) {
        self.slots[i].store(v.to_bits(), Ordering::Release);
    }
}

struct Series {
    slots: Vec<Slot>,
    ring: Option<Arc<Ring>>,
    read: usize,
    /// Sliding windows: the sum of every sub-window in the window. Staged counts enter it as
    /// they enter the current sub-window, and the expiring sub-window is subtracted at each
    /// rotation, so a snapshot walks one histogram whatever `window / slide`.
    window: Option<Histogram<u64>>,
    /// The window's percentiles, in configured order, until a value arrives or a sub-window ends.
    cache: Option<Vec<f64>>,
    /// Counts of the current sub-window not yet in its histogram.
    staged: Staged,
}

impl Series {
    /// Records one valid value into sub-window `cur`.
    #[inline]
    fn record(&mut self, cur: usize, v: f64) {
        if self.staged.full(1) {
            self.fold(cur);
        }
        self.staged.add(scaled(v));
        self.slots[cur].note(v);
    }

    /// Records valid values, the least `lo` and the greatest `hi`, into sub-window `cur`.
    fn record_many(&mut self, cur: usize, values: &[f64], lo: f64, hi: f64) {
        if values.is_empty() {
            return;
        }
        if values.len() > STAGED_MAX {
            for chunk in values.chunks(STAGED_MAX) {
                self.record_many(cur, chunk, lo, hi);
            }
            return;
        }
        if self.staged.full(values.len()) {
            self.fold(cur);
        }
        self.staged.reserve(scaled(lo), scaled(hi), values.len());
        let slot = &mut self.slots[cur];
        let staged = &mut self.staged;
        let counts = &mut staged.counts[..];
        let mut sum = slot.sum;
        for &v in values {
            counts[staged_index(
                staged.lz_base,
                staged.mask,
                staged.half_magnitude,
                staged.half_count,
                scaled(v),
            )] += 1;
            sum += v;
        }
        slot.count += values.len() as u64;
        slot.sum = sum;
        slot.min = slot.min.min(lo);
        slot.max = slot.max.max(hi);
    }

    /// Moves the staged counts into the histogram of sub-window `cur` (and the window's).
    fn fold(&mut self, cur: usize) {
        self.staged
            .fold(&mut self.slots[cur].hist, self.window.as_mut());
    }
}

/// [`Staged::index`] on copied fields, so the counts can be borrowed mutably beside them.
#[inline(always)]
fn staged_index(lz_base: u32, mask: u64, half_magnitude: u32, half_count: u64, x: u64) -> usize {
    let bucket = lz_base - (x | mask).leading_zeros();
    ((u64::from(bucket + 1) << half_magnitude) + (x >> bucket) - half_count) as usize
}

/// Per-key windowed aggregation. Pure (times are passed in), so it is tested without a clock.
pub struct Aggregator {
    config: WindowConfig,
    series: Vec<Option<Series>>,
    current: usize,
    slot_start: Vec<f64>,
    /// Indexes into `config.percentiles`, ascending by percentile (one pass reads them all).
    ascending: Vec<usize>,
}

impl Aggregator {
    /// An aggregator whose first sub-window starts at `now_ms` (epoch milliseconds).
    pub fn new(config: WindowConfig, now_ms: f64) -> Aggregator {
        let slots = config.slots();
        let mut slot_start = vec![f64::NAN; slots];
        slot_start[0] = now_ms;
        let mut ascending: Vec<usize> = (0..config.percentiles.len()).collect();
        ascending.sort_by(|a, b| config.percentiles[*a].total_cmp(&config.percentiles[*b]));
        Aggregator {
            ascending,
            config,
            series: Vec::new(),
            current: 0,
            slot_start,
        }
    }

    fn series_mut(&mut self, key: u32) -> &mut Series {
        let k = key as usize;
        if self.series.len() <= k {
            self.series.resize_with(k + 1, || None);
        }
        let (n, precision) = (self.config.slots(), self.config.precision);
        self.series[k].get_or_insert_with(|| Series {
            slots: (0..n).map(|_| Slot::new(precision)).collect(),
            ring: None,
            read: 0,
            window: (n > 1)
                .then(|| Histogram::new(precision).expect("precision is validated to 1..=5")),
            cache: None,
            staged: Staged::new(precision),
        })
    }

    /// Makes sure series `key` exists (it is then reported at every window end).
    pub fn ensure(&mut self, key: u32) {
        self.series_mut(key);
    }

    /// The staging ring of series `key`, made on first use.
    pub fn ring(&mut self, key: u32) -> Arc<Ring> {
        self.series_mut(key)
            .ring
            .get_or_insert_with(|| Arc::new(Ring::new()))
            .clone()
    }

    /// Records one value into the current sub-window. The caller has checked [`valid`].
    pub fn record(&mut self, key: u32, v: f64) {
        let cur = self.current;
        let s = self.series_mut(key);
        s.record(cur, v);
        s.cache = None;
    }

    /// Records every value, or none when one is invalid (`Err` with its index).
    pub fn record_many(&mut self, key: u32, values: &[f64]) -> std::result::Result<(), usize> {
        // One branch-free pass checks every value and finds the range.
        let (mut ok, mut lo, mut hi) = (true, f64::INFINITY, f64::NEG_INFINITY);
        for &v in values {
            ok &= valid(v);
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !ok {
            return Err(values.iter().position(|v| !valid(*v)).unwrap_or(0));
        }
        let cur = self.current;
        let s = self.series_mut(key);
        s.cache = None;
        s.record_many(cur, values, lo, hi);
        Ok(())
    }

    /// Moves every staged value of every series into its current sub-window.
    pub fn drain(&mut self) {
        let cur = self.current;
        for s in self.series.iter_mut().flatten() {
            let Some(ring) = s.ring.clone() else { continue };
            let mut r = s.read;
            loop {
                let cell = &ring.slots[r];
                let bits = cell.load(Ordering::Acquire);
                if bits == SENTINEL {
                    break;
                }
                let v = f64::from_bits(bits);
                // JS validated the value before staging it.
                if valid(v) {
                    s.record(cur, v);
                }
                cell.store(SENTINEL, Ordering::Release);
                r = (r + 1) % RING;
            }
            if r != s.read {
                s.cache = None;
            }
            s.read = r;
        }
    }

    /// Keys that have a series, in order.
    pub fn keys(&self) -> Vec<u32> {
        (0..self.series.len() as u32)
            .filter(|k| self.series[*k as usize].is_some())
            .collect()
    }

    /// The stats row of the window of `key` ending at `now_ms`:
    /// `[start, end, count, sum, min, max, mean, rate, ...percentiles]`, or `None` for an
    /// unknown key. An empty window reports 0 for every statistic.
    pub fn stats(&mut self, key: u32, now_ms: f64) -> Option<Vec<f64>> {
        let series = self.series.get_mut(key as usize)?.as_mut()?;
        let (mut count, mut sum, mut min, mut max) = (0u64, 0.0, f64::INFINITY, f64::NEG_INFINITY);
        let mut start = self.slot_start[self.current];
        for (i, s) in series.slots.iter().enumerate() {
            if !self.slot_start[i].is_nan() {
                start = start.min(self.slot_start[i]);
            }
            count += s.count;
            sum += s.sum;
            min = min.min(s.min);
            max = max.max(s.max);
        }
        let mut row = Vec::with_capacity(ROW_FIXED + self.config.percentiles.len());
        if count == 0 {
            row.extend_from_slice(&[start, now_ms, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
            row.extend(self.config.percentiles.iter().map(|_| 0.0));
            return Some(row);
        }
        let secs = (now_ms - start) / 1000.0;
        row.extend_from_slice(&[
            start,
            now_ms,
            count as f64,
            sum,
            min,
            max,
            sum / count as f64,
            if secs > 0.0 { count as f64 / secs } else { 0.0 },
        ]);
        if series.cache.is_none() {
            series.fold(self.current);
            let hist = match &series.window {
                Some(window) => window,
                None => &series.slots[self.current].hist,
            };
            let mut values = vec![0.0; self.ascending.len()];
            let ascending = self
                .ascending
                .iter()
                .map(|&i| self.config.percentiles[i] / 100.0);
            for (&i, v) in self
                .ascending
                .iter()
                .zip(hist.value_at_quantiles(ascending))
            {
                values[i] = v as f64 / SCALE;
            }
            series.cache = Some(values);
        }
        let cached = series.cache.as_deref().unwrap_or_default();
        row.extend(cached.iter().map(|v| v.clamp(min, max)));
        Some(row)
    }

    /// Ends the current sub-window at `now_ms` and starts the next one (emptied).
    pub fn rotate(&mut self, now_ms: f64) {
        let n = self.slot_start.len();
        let (closing, expiring) = (self.current, (self.current + 1) % n);
        self.current = expiring;
        self.slot_start[expiring] = now_ms;
        for s in self.series.iter_mut().flatten() {
            s.fold(closing);
            if let Some(window) = &mut s.window {
                // `window` holds every sub-window, the expiring one included: cannot fail.
                let _ = window.subtract(&s.slots[expiring].hist);
            }
            s.slots[expiring].reset();
            s.cache = None;
        }
    }
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn row_bytes(row: &[f64]) -> Vec<u8> {
    row.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The row `snapshot()` writes, which JS reads as a `Float64Array` (no allocation per read).
struct Row {
    cells: Box<[AtomicU64]>,
}

struct Inner {
    agg: Mutex<Aggregator>,
    row: Arc<Row>,
    bridge: Bridge,
    kick: Arc<Notify>,
    closed: AtomicBool,
}

impl Inner {
    /// Emits the window ending now for every key; `rotate` starts the next sub-window.
    fn emit(&self, rotate: bool) {
        {
            let mut agg = self.agg.lock().unwrap();
            agg.drain();
            let now = epoch_ms();
            for key in agg.keys() {
                if let Some(row) = agg.stats(key, now) {
                    self.bridge.push(key, 0.0, &row_bytes(&row));
                }
            }
            if rotate {
                agg.rotate(now);
            }
        }
        self.bridge.flush();
    }
}

/// Options of a native window. JS has validated them.
#[napi(object)]
pub struct NativeWindowOptions {
    /// Window length in milliseconds. Default 1000.
    pub window: Option<f64>,
    /// Sub-window length in milliseconds; must divide `window`. Default: `window` (tumbling).
    pub slide: Option<f64>,
    /// Percentiles reported, each in (0, 100]. Default [50, 90, 99, 99.9].
    pub percentiles: Option<Vec<f64>>,
    /// HDR significant digits, 1 to 5. Default 3.
    pub precision: Option<u32>,
}

/// The native half of `MetricWindow`.
///
/// The callback receives bridge batches: one record per key per window end, `tag` = key index,
/// bytes = the stats row as little-endian `f64`s (see [`Aggregator::stats`]).
#[napi]
pub struct NativeMetricWindow {
    inner: Arc<Inner>,
}

#[napi]
impl NativeMetricWindow {
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "(...args: any[]) => void")] callback: Function<BatchArgs, ()>,
        options: NativeWindowOptions,
    ) -> Result<Self> {
        let d = WindowConfig::default();
        let window = options
            .window
            .map_or(d.window, |ms| Duration::from_secs_f64(ms / 1000.0));
        let config = WindowConfig {
            window,
            slide: options
                .slide
                .map_or(window, |ms| Duration::from_secs_f64(ms / 1000.0)),
            percentiles: options.percentiles.unwrap_or(d.percentiles),
            precision: options
                .precision
                .map_or(d.precision, |p| p.clamp(1, 5) as u8),
        };
        let mut bridge_config = BridgeConfig::with_columns(Columns {
            tag: true,
            number: false,
            bytes: true,
        });
        bridge_config.overflow = Overflow::Wait;
        let bridge = Bridge::new(&env, callback, bridge_config)?;
        let slide = config.slide;
        let row = Arc::new(Row {
            cells: (0..ROW_FIXED + config.percentiles.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
        });
        let inner = Arc::new(Inner {
            row,
            agg: Mutex::new(Aggregator::new(config, epoch_ms())),
            bridge,
            kick: Arc::new(Notify::new()),
            closed: AtomicBool::new(false),
        });
        spawn_window_timer(Arc::downgrade(&inner), slide);
        spawn_drainer(Arc::downgrade(&inner), inner.kick.clone());
        Ok(NativeMetricWindow { inner })
    }

    /// The staging ring of series `key` as a `Float64Array` over memory this object owns
    /// (made on first call; call once per key).
    #[napi(ts_return_type = "Float64Array")]
    pub fn ring<'env>(&self, env: &'env Env, key: u32) -> Result<Float64ArraySlice<'env>> {
        let ring = self.inner.agg.lock().unwrap().ring(key);
        let ptr = ring.slots.as_ptr() as *mut f64;
        // SAFETY: the ring's slots live as long as `ring`, which the view owns.
        unsafe { crate::bridge::external_f64_view(env, ptr, RING, ring, "MetricWindow") }
    }

    /// Makes sure series `key` exists.
    #[napi]
    pub fn ensure(&self, key: u32) {
        self.inner.agg.lock().unwrap().ensure(key);
    }

    /// Drains every staging ring now, on this thread (JS found a ring full).
    #[napi]
    pub fn drain(&self) {
        self.inner.agg.lock().unwrap().drain();
    }

    /// Wakes the drain task (JS filled half a ring), which drains on a runtime thread.
    #[napi]
    pub fn kick(&self) {
        self.inner.kick.notify_one();
    }

    /// Records every value of `values` into series `key`, or none: returns -1, or the index of
    /// the first value outside [0, 2^40] (NaN included).
    #[napi]
    pub fn record_many(&self, key: u32, values: Float64Array) -> i32 {
        match self.inner.agg.lock().unwrap().record_many(key, &values) {
            Ok(()) => -1,
            Err(i) => i as i32,
        }
    }

    /// The row [`NativeMetricWindow::snapshot`] writes, as a `Float64Array` over memory this
    /// object owns: `[start, end, count, sum, min, max, mean, rate, ...percentiles]`.
    #[napi(ts_return_type = "Float64Array")]
    pub fn row<'env>(&self, env: &'env Env) -> Result<Float64ArraySlice<'env>> {
        let row = self.inner.row.clone();
        let ptr = row.cells.as_ptr() as *mut f64;
        let len = row.cells.len();
        // SAFETY: the row's cells live as long as `row`, which the view owns.
        unsafe { crate::bridge::external_f64_view(env, ptr, len, row, "MetricWindow") }
    }

    /// Writes the stats of the window of `key` ending now (after draining) into
    /// [`NativeMetricWindow::row`]; false for an unknown key. Percentiles are cached until a
    /// value arrives or a sub-window ends, so repeated reads cost no histogram pass.
    #[napi]
    pub fn snapshot(&self, key: u32) -> bool {
        let mut agg = self.inner.agg.lock().unwrap();
        agg.drain();
        let Some(row) = agg.stats(key, epoch_ms()) else {
            return false;
        };
        for (cell, v) in self.inner.row.cells.iter().zip(row) {
            cell.store(v.to_bits(), Ordering::Relaxed);
        }
        true
    }

    /// Whether the window keeps Node's event loop alive while open (it does when made), like a
    /// Node timer's `ref()` / `unref()`. No effect after close.
    #[napi]
    pub fn set_keep_alive(&self, env: Env, on: bool) -> Result<()> {
        self.inner.bridge.set_keep_alive(&env, on)
    }

    /// Emits the final (partial) window, stops the timers and releases the bridge; the final
    /// batch is marked `last`. Idempotent.
    #[napi]
    pub fn close(&self) {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.inner.emit(false);
        self.inner.kick.notify_one();
        self.inner.bridge.close();
    }
}

impl Drop for NativeMetricWindow {
    fn drop(&mut self) {
        // Collected without close(): end the drain task (the window timer sees the Weak die).
        self.inner.closed.store(true, Ordering::Release);
        self.inner.kick.notify_one();
    }
}

fn spawn_window_timer(weak: Weak<Inner>, slide: Duration) {
    crate::runtime::spawn(async move {
        let start = tokio::time::Instant::now() + slide;
        let mut tick = tokio::time::interval_at(start, slide);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(inner) = weak.upgrade() else { return };
            if inner.closed.load(Ordering::Acquire) {
                return;
            }
            inner.emit(true);
        }
    });
}

fn spawn_drainer(weak: Weak<Inner>, kick: Arc<Notify>) {
    crate::runtime::spawn(async move {
        loop {
            kick.notified().await;
            let Some(inner) = weak.upgrade() else { return };
            if inner.closed.load(Ordering::Acquire) {
                return;
            }
            inner.agg.lock().unwrap().drain();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tumbling(window_ms: u64) -> WindowConfig {
        WindowConfig {
            window: Duration::from_millis(window_ms),
            slide: Duration::from_millis(window_ms),
            ..Default::default()
        }
    }

    #[test]
    fn counts_sums_and_percentiles_of_one_window() {
        let mut a = Aggregator::new(tumbling(1000), 0.0);
        for v in 1..=1000 {
            a.record(0, v as f64);
        }
        let row = a.stats(0, 1000.0).unwrap();
        assert_eq!(
            &row[..8],
            &[0.0, 1000.0, 1000.0, 500500.0, 1.0, 1000.0, 500.5, 1000.0]
        );
        for (i, p) in a.config.percentiles.clone().into_iter().enumerate() {
            // Nearest rank, computed as HDR does (0.999 * 1000 rounds up to rank 1000).
            let exact = ((p / 100.0) * 1000.0).ceil();
            let got = row[ROW_FIXED + i];
            assert!(
                (got - exact).abs() <= exact * 1e-3,
                "p{p}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn tumbling_windows_start_empty() {
        let mut a = Aggregator::new(tumbling(100), 0.0);
        a.record(0, 5.0);
        a.rotate(100.0);
        let row = a.stats(0, 200.0).unwrap();
        assert_eq!(row[0], 100.0);
        assert_eq!(row[2], 0.0, "the previous window's value is gone");
    }

    #[test]
    fn sliding_windows_cover_the_last_slots() {
        let cfg = WindowConfig {
            window: Duration::from_millis(300),
            slide: Duration::from_millis(100),
            ..Default::default()
        };
        let mut a = Aggregator::new(cfg, 0.0);
        a.record(0, 1.0);
        a.rotate(100.0);
        a.record(0, 2.0);
        a.rotate(200.0);
        a.record(0, 3.0);
        let row = a.stats(0, 300.0).unwrap();
        assert_eq!((row[0], row[2], row[3]), (0.0, 3.0, 6.0));
        a.rotate(300.0);
        a.record(0, 4.0);
        let row = a.stats(0, 400.0).unwrap();
        assert_eq!(
            (row[0], row[2], row[3], row[4], row[5]),
            (100.0, 3.0, 9.0, 2.0, 4.0)
        );
    }

    #[test]
    fn sliding_percentiles_match_a_merge_of_the_sub_windows_across_rotations() {
        let cfg = WindowConfig {
            window: Duration::from_millis(400),
            slide: Duration::from_millis(100),
            percentiles: vec![99.9, 50.0, 90.0, 1.0],
            precision: 2,
        };
        let mut a = Aggregator::new(cfg, 0.0);
        let mut subs: Vec<Vec<f64>> = vec![];
        let mut x = 12345u64;
        for step in 0..23u64 {
            // A different range per sub-window, so the histograms have different sizes.
            let scale = [0.01, 1000.0, 3.0, 1e7, 0.5][step as usize % 5];
            let mut vals = vec![];
            for _ in 0..(50 + step * 7) {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                vals.push((x >> 11) as f64 / (1u64 << 53) as f64 * scale);
            }
            a.record_many(0, &vals).unwrap();
            let first = a.stats(0, 1.0).unwrap(); // cached until the next value
            assert_eq!(first, a.stats(0, 1.0).unwrap());
            subs.push(vals);
            let mut window: Vec<f64> = subs.iter().rev().take(4).flatten().copied().collect();
            window.sort_by(f64::total_cmp);
            let mut h = Histogram::<u64>::new(2).unwrap();
            for v in &window {
                h.record((v * SCALE + 0.5) as u64).unwrap();
            }
            let row = a.stats(0, 1.0).unwrap();
            assert_eq!(row[2], window.len() as f64, "step {step}");
            for (i, p) in [99.9, 50.0, 90.0, 1.0].iter().enumerate() {
                let want = (h.value_at_quantile(p / 100.0) as f64 / SCALE)
                    .clamp(window[0], window[window.len() - 1]);
                assert_eq!(row[ROW_FIXED + i], want, "step {step} p{p}");
            }
            a.rotate(100.0 * (step + 1) as f64);
        }
    }

    #[test]
    fn staged_counts_use_the_crate_layout() {
        for precision in 1..=5u8 {
            let mut staged = Staged::new(precision);
            let mut direct = Histogram::<u64>::new(precision).unwrap();
            let mut folded = Histogram::<u64>::new(precision).unwrap();
            let mut x = 7u64;
            let mut values = vec![
                0u64,
                1,
                2,
                2047,
                2048,
                4095,
                4096,
                1 << 40,
                (1 << 60) + 12345,
            ];
            for _ in 0..20_000 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                values.push((x >> 4) >> (x % 60)); // every magnitude up to 2^60
            }
            for (n, &v) in values.iter().enumerate() {
                direct.record(v).unwrap();
                let i = staged.index(v);
                assert_eq!(
                    staged.value_for(i),
                    direct.lowest_equivalent(v),
                    "precision {precision}, value {v}"
                );
                if n % 2 == 0 {
                    staged.add(v);
                } else {
                    staged.reserve(v, v, 1);
                    staged.counts[i] += 1;
                }
            }
            staged.fold(&mut folded, None);
            assert_eq!(folded, direct, "precision {precision}");
            assert!(staged.counts.iter().all(|&c| c == 0));
        }
    }

    #[test]
    fn keys_are_separate_series() {
        let mut a = Aggregator::new(tumbling(1000), 0.0);
        a.record(3, 10.0);
        a.record(1, 20.0);
        assert_eq!(a.keys(), vec![1, 3]);
        assert_eq!(a.stats(3, 1.0).unwrap()[3], 10.0);
        assert_eq!(a.stats(1, 1.0).unwrap()[3], 20.0);
        assert!(a.stats(2, 1.0).is_none());
    }

    #[test]
    fn record_many_is_all_or_nothing() {
        let mut a = Aggregator::new(tumbling(1000), 0.0);
        assert_eq!(a.record_many(0, &[1.0, f64::NAN, 2.0]), Err(1));
        assert_eq!(a.record_many(0, &[1.0, -1.0]), Err(1));
        assert_eq!(a.record_many(0, &[f64::INFINITY]), Err(0));
        assert!(a.stats(0, 1.0).is_none(), "nothing was recorded");
        assert_eq!(a.record_many(0, &[1.0, 2.0]), Ok(()));
        assert_eq!(a.stats(0, 1.0).unwrap()[2], 2.0);
    }

    #[test]
    fn staged_values_are_drained_once_in_order_of_slots() {
        let mut a = Aggregator::new(tumbling(1000), 0.0);
        let ring = a.ring(0);
        ring.stage(0, 1.0);
        ring.stage(1, 2.0);
        a.drain();
        a.drain();
        ring.stage(2, 3.0);
        a.drain();
        let row = a.stats(0, 1.0).unwrap();
        assert_eq!((row[2], row[3]), (3.0, 6.0));
        assert!(ring.slots[..3]
            .iter()
            .all(|s| s.load(Ordering::Relaxed) == SENTINEL));
    }

    #[test]
    fn memory_does_not_grow_with_samples() {
        let mut a = Aggregator::new(tumbling(1000), 0.0);
        a.record_many(0, &[1.0, 1000.0]).unwrap();
        a.series[0].as_mut().unwrap().fold(0);
        let before = a.series[0].as_ref().unwrap().slots[0]
            .hist
            .distinct_values();
        let values: Vec<f64> = (0..1_000_000).map(|i| 1.0 + (i % 999) as f64).collect();
        a.record_many(0, &values).unwrap();
        a.series[0].as_mut().unwrap().fold(0);
        let after = a.series[0].as_ref().unwrap().slots[0]
            .hist
            .distinct_values();
        assert_eq!(before, after);
    }
}
