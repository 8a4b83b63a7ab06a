'use strict';

/**
 * RollingStats: a small JavaScript stand-in for MetricWindow (lib/metric-window.js, the native
 * windowed aggregation). It has the subset of MetricWindow's surface that the circuit breaker and
 * the dashboard use, so either can be switched to MetricWindow by changing one require line:
 *
 *     new RollingStats({ window = 1000, slide = window, percentiles = [50, 90, 99, 99.9] })
 *     record(value) / record(key, value)      key: a string; values in [0, 2^40]
 *     snapshot([key]) -> { key, start, end, count, sum, min, max, mean, rate, p50, p90, p99, p999 }
 *                        or null when nothing was ever recorded under key (default key: null)
 *     close()         -> afterwards record and snapshot throw ERR_WINDOW_CLOSED
 *
 * with MetricWindow's validation: integer window and slide, slide dividing window at most 1000
 * times.
 *
 * A series is a ring of `ceil(window / slide)` buckets of `slide` ms. Each bucket keeps count,
 * sum, min, max and a log-linear histogram (32 sub-buckets per power of two, from 2^-8 to 2^40),
 * and the series keeps the running sum of its buckets' histograms, so `snapshot()` costs one pass
 * over a fixed number of bins (1,538) whatever the number of samples: O(1) in the sample count.
 * Percentiles use the nearest rank and report the bin's midpoint, clamped to [min, max]: relative
 * error under 1.6 % for values in [2^-8, 2^40] (outside that range: min or max). Memory per
 * series is fixed (about 6 KB per bucket). Buckets expire lazily when the series is touched: no
 * timer, nothing keeps the process alive.
 */

const { codedError, validateNumber, validateObject, invalidType } = require('./validate');

const MAX_VALUE = 2 ** 40;
const MAX_SLOTS = 1000;

function closedError() {
  return codedError(Error, 'ERR_WINDOW_CLOSED', 'MetricWindow is closed: it cannot record after close()');
}

const SUB = 32; // sub-buckets per power of two
const MIN_EXP = -8; // values below 2^-8 land in bin 0 (reported as min)
const MAX_EXP = 40; // values at or above 2^40 land in the top bin (reported as max)
// Bin 0: below 2^-8; then SUB bins per power of two; the last bin: 2^40 and above.
const BINS = 2 + (MAX_EXP - MIN_EXP) * SUB;
const MIN_VALUE = 2 ** MIN_EXP;

// The bin is read from the float's bits: its exponent, and the top 5 bits of its mantissa
// (SUB = 32 sub-buckets). Exact, and much cheaper than Math.log2.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // high word index
function binOf(value) {
  if (value < MIN_VALUE) return 0;
  f64[0] = value;
  const hi = u32[HI];
  const e = ((hi >>> 20) & 0x7ff) - 1023;
  if (e >= MAX_EXP) return BINS - 1;
  return 1 + (e - MIN_EXP) * SUB + ((hi >>> 15) & 31);
}

function midpointOf(bin) {
  if (bin === 0) return 0;
  if (bin === BINS - 1) return Infinity; // clamped to max by the caller
  const i = bin - 1;
  const e = Math.floor(i / SUB) + MIN_EXP;
  const sub = i % SUB;
  return 2 ** e * (1 + (sub + 0.5) / SUB);
}

/** Property name for a percentile: 50 -> p50, 99.9 -> p999, 99.99 -> p9999. */
function percentileName(p) {
  return 'p' + String(p).replace('.', '');
}

class Bucket {
  constructor() {
    this.epoch = -1;
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.bins = null; // allocated on first sample, reused afterwards
  }
}

class Series {
  constructor(slots, slide) {
    this.buckets = Array.from({ length: slots }, () => new Bucket());
    this.total = new Float64Array(BINS);
    this.count = 0;
    this.sum = 0;
    this.slide = slide;
    this.epoch = -1; // newest epoch this series has advanced to
    this.edge = 0; // when that epoch's bucket ends (ms since the epoch)
  }

  /** Expires the buckets that fell out of the window ending in `epoch`. */
  advance(epoch) {
    if (epoch <= this.epoch) return;
    this.edge = (epoch + 1) * this.slide;
    const slots = this.buckets.length;
    if (epoch - this.epoch >= slots) {
      for (const b of this.buckets) this.clear(b);
    } else {
      for (let e = this.epoch + 1; e <= epoch; e++) this.clear(this.buckets[e % slots]);
    }
    this.epoch = epoch;
  }

  clear(b) {
    if (b.count > 0) {
      const { bins } = b;
      const total = this.total;
      for (let i = 0; i < BINS; i++) {
        if (bins[i] !== 0) {
          total[i] -= bins[i];
          bins[i] = 0;
        }
      }
      this.count -= b.count;
      this.sum -= b.sum;
    }
    b.count = 0;
    b.sum = 0;
    b.min = Infinity;
    b.max = -Infinity;
    b.epoch = -1;
  }

  add(epoch, value) {
    const b = this.buckets[epoch % this.buckets.length];
    if (b.bins === null) b.bins = new Uint32Array(BINS);
    b.epoch = epoch;
    const bin = binOf(value);
    b.bins[bin] += 1;
    this.total[bin] += 1;
    b.count += 1;
    b.sum += value;
    if (value < b.min) b.min = value;
    if (value > b.max) b.max = value;
    this.count += 1;
    this.sum += value;
  }
}

class RollingStats {
  /**
   * @param {object} [options]
   * @param {number} [options.window=1000] length of the window, ms
   * @param {number} [options.slide=window] step of the window, ms (tumbling when equal to window)
   * @param {number[]} [options.percentiles=[50, 90, 99, 99.9]] reported as p50, p90, p99, p999
   */
  constructor(options = {}) {
    validateObject(options, 'options');
    const window = validateNumber(options.window ?? 1000, 'options.window', { min: 1, max: 2 ** 31 - 1, integer: true });
    const slide = validateNumber(options.slide ?? window, 'options.slide', { min: 1, max: window, integer: true });
    if (window % slide !== 0 || window / slide > MAX_SLOTS) {
      throw codedError(
        RangeError,
        'ERR_OUT_OF_RANGE',
        `The value of "options.slide" is out of range. It must divide options.window (${window}) at most ${MAX_SLOTS} times. Received ${slide}`,
      );
    }
    const percentiles = options.percentiles ?? [50, 90, 99, 99.9];
    if (!Array.isArray(percentiles)) throw invalidType('options.percentiles', 'an instance of Array', percentiles);
    percentiles.forEach((p, i) => validateNumber(p, `options.percentiles[${i}]`, { min: Number.MIN_VALUE, max: 100 }));
    this.window = window;
    this.slide = slide;
    this.percentiles = percentiles.slice().sort((a, b) => a - b);
    this._names = this.percentiles.map(percentileName);
    this._slots = window / slide;
    this._series = new Map();
    this._created = Date.now();
    this.closed = false;
  }

  /**
   * Records a sample, `record(value)` in the default series or `record(key, value)` in the
   * series of `key` (a string). Values must be in [0, 2^40] (RangeError ERR_OUT_OF_RANGE).
   */
  record(key, value) {
    if (this.closed) throw closedError();
    if (value === undefined) {
      value = key;
      key = null;
    } else if (typeof key !== 'string') {
      throw invalidType('key', 'of type string', key);
    }
    if (typeof value !== 'number') throw invalidType('value', 'of type number', value);
    if (!(value >= 0 && value <= MAX_VALUE)) validateNumber(value, 'value', { min: 0, max: MAX_VALUE });
    let series = this._series.get(key);
    if (series === undefined) {
      series = new Series(this._slots, this.slide);
      this._series.set(key, series);
    }
    const now = Date.now();
    // One comparison while the current bucket lasts.
    if (now >= series.edge) series.advance(Math.floor(now / this.slide));
    series.add(series.epoch, value);
  }

  /**
   * Statistics of the current window of `key`'s series (the default series without a key), or
   * null when nothing was ever recorded under `key`. A window whose samples have all expired
   * reports count 0 and 0 for every other figure. `rate` is samples per second over the part of
   * the window that has elapsed.
   */
  snapshot(key = null) {
    if (this.closed) throw closedError();
    const series = this._series.get(key);
    if (series === undefined) return null;
    const now = Date.now();
    const epoch = Math.floor(now / this.slide);
    const start = Math.max((epoch - this._slots + 1) * this.slide, this._created);
    const out = { key, start, end: now, count: 0, sum: 0, min: 0, max: 0, mean: 0, rate: 0 };
    for (const name of this._names) out[name] = 0;
    series.advance(epoch);
    if (series.count === 0) return out;
    let min = Infinity;
    let max = -Infinity;
    for (const b of series.buckets) {
      if (b.count > 0) {
        if (b.min < min) min = b.min;
        if (b.max > max) max = b.max;
      }
    }
    out.count = series.count;
    out.sum = series.sum;
    out.min = min;
    out.max = max;
    out.mean = series.sum / series.count;
    out.rate = (series.count * 1000) / Math.max(now - start, 1);
    // One pass over the bins for every percentile, lowest first.
    const total = series.total;
    let p = 0;
    let seen = 0;
    for (let i = 0; i < BINS && p < this.percentiles.length; i++) {
      if (total[i] === 0) continue;
      seen += total[i];
      while (p < this.percentiles.length && seen >= Math.max(1, Math.ceil((this.percentiles[p] / 100) * series.count))) {
        out[this._names[p]] = Math.min(max, Math.max(min, midpointOf(i)));
        p += 1;
      }
    }
    for (; p < this.percentiles.length; p++) out[this._names[p]] = max;
    return out;
  }

  /** Drops every series; later record() and snapshot() throw ERR_WINDOW_CLOSED. Idempotent. */
  close() {
    this.closed = true;
    this._series.clear();
  }
}

module.exports = { RollingStats, percentileName };
