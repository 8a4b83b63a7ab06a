'use strict';

/**
 * MetricWindow: windowed numeric aggregation (count, sum, min, max, mean, rate, percentiles) per
 * key, in Rust (src/aggregate.rs), in bounded memory (an HDR histogram per sub-window).
 *
 * `record(value)` does not cross into Rust: it writes the value into the key's staging ring, a
 * Float64Array over memory Rust owns, where an empty slot holds -1. Rust drains the rings at
 * every window end and snapshot(), and on a runtime thread whenever JS has filled half a ring
 * (one `kick()` crossing per 4096 values); if JS finds a ring full it drains it synchronously.
 * `recordMany(Float64Array)` is one crossing for the whole array.
 *
 * `snapshot()` reads the window ending now: Rust writes the row into a Float64Array over memory it
 * owns (no allocation per read) and caches the percentiles until a value arrives or a sub-window
 * ends. A sliding window keeps one histogram of the whole window up to date (values enter it as
 * they enter their sub-window; an expiring sub-window is subtracted), so a snapshot walks one
 * histogram, whatever `window / slide`.
 *
 * Like a Node timer, an open window keeps the event loop alive until close() or `unref()`.
 *
 * Events: 'window' (stats) per key at each window end; 'close' after the final window.
 */

const EventEmitter = require('../events');
const { NativeMetricWindow } = require('../binding');
const {
  codedError,
  invalidType,
  outOfRange,
  validateNumber,
  validateObject,
} = require('./validate');

const RING = 8192; // slots per ring, as src/aggregate.rs
const MASK = RING - 1;
const HALF_MASK = RING / 2 - 1;
const MAX_VALUE = 2 ** 40;
const EMPTY = -1;
const FIXED = 8; // start, end, count, sum, min, max, mean, rate
const MAX_SLOTS = 1000;

function invalidValue(value, name) {
  if (typeof value !== 'number') return invalidType(name, 'of type number', value);
  return outOfRange(name, `>= 0 and <= ${MAX_VALUE}`, value);
}

function closedError() {
  return codedError(Error, 'ERR_WINDOW_CLOSED', 'MetricWindow is closed: it cannot record after close()');
}

/** 50 → 'p50', 99.9 → 'p999', 99.99 → 'p9999', 75.5 → 'p755'. */
function percentileName(p) {
  return 'p' + String(p).replace('.', '');
}

class Series {
  constructor(key, index, ring) {
    this.key = key;
    this.index = index;
    this.ring = ring;
    this.i = 0;
  }
}

class MetricWindow extends EventEmitter {
  /**
   * @param {object} [options]
   * @param {number} [options.window=1000] window length in ms
   * @param {number} [options.slide=window] a window ends every `slide` ms; below `window` the
   *   windows overlap (sliding). `window` must be a multiple of `slide`, at most 1000 times it.
   * @param {number[]} [options.percentiles=[50, 90, 99, 99.9]] reported as p50, p90, p99, p999
   * @param {number} [options.precision=3] significant digits kept (1–5): relative error of a
   *   percentile ≤ 10^-precision (values below 2^-20·10^precision: absolute error ≤ 2^-20)
   */
  constructor(options = {}) {
    super();
    validateObject(options, 'options');
    const window =
      options.window === undefined
        ? 1000
        : validateNumber(options.window, 'options.window', { min: 1, max: 2 ** 31 - 1, integer: true });
    const slide =
      options.slide === undefined
        ? window
        : validateNumber(options.slide, 'options.slide', { min: 1, max: window, integer: true });
    if (window % slide !== 0 || window / slide > MAX_SLOTS) {
      throw codedError(
        RangeError,
        'ERR_OUT_OF_RANGE',
        `The value of "options.slide" is out of range. It must divide options.window (${window}) at most ${MAX_SLOTS} times. Received ${slide}`,
      );
    }
    let percentiles = [50, 90, 99, 99.9];
    if (options.percentiles !== undefined) {
      if (!Array.isArray(options.percentiles)) {
        throw invalidType('options.percentiles', 'an instance of Array', options.percentiles);
      }
      percentiles = options.percentiles.map((p, i) =>
        validateNumber(p, `options.percentiles[${i}]`, { min: Number.MIN_VALUE, max: 100 }),
      );
    }
    const names = percentiles.map(percentileName);
    if (new Set(names).size !== names.length) {
      throw codedError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        `The argument 'options.percentiles' must name distinct statistics. Received ${percentiles.join(', ')}`,
      );
    }
    const precision =
      options.precision === undefined
        ? 3
        : validateNumber(options.precision, 'options.precision', { min: 1, max: 5, integer: true });

    this.window = window;
    this.slide = slide;
    this.percentiles = percentiles;
    this.precision = precision;
    this._names = names;
    this._closed = false;
    this._series = []; // by index
    this._byKey = new Map();
    this._default = null;
    this._refed = true;
    this._native = new NativeMetricWindow(this._onBatch.bind(this), { window, slide, percentiles, precision });
    this._row = this._native.row();
  }

  /**
   * Lets the process exit while this window is open (its 'window' events still fire while
   * something else keeps the event loop running), like `timeout.unref()`. Returns this.
   */
  unref() {
    if (this._refed && !this._closed) this._native.setKeepAlive(false);
    this._refed = false;
    return this;
  }

  /** Keeps the process alive while this window is open (the default). Returns this. */
  ref() {
    if (!this._refed && !this._closed) this._native.setKeepAlive(true);
    this._refed = true;
    return this;
  }

  /** Whether this window keeps the process alive (false after unref() and after close()). */
  hasRef() {
    return this._refed && !this._closed;
  }

  /**
   * Records one value, into the default series (`record(value)`) or the series of `key`
   * (`record(key, value)`).
   * @throws {RangeError} ERR_OUT_OF_RANGE for NaN, ±Infinity, negatives and values above 2^40
   */
  record(key, value) {
    if (this._closed) throw closedError();
    let s;
    if (value === undefined) {
      value = key;
      s = this._default;
      if (s === null) s = this._defaultSeries();
    } else {
      s = this._byKey.get(key);
      if (s === undefined) s = this._keySeries(key);
    }
    if (typeof value !== 'number' || !(value >= 0 && value <= MAX_VALUE)) throw invalidValue(value, 'value');
    const ring = s.ring;
    const i = s.i;
    if (ring[i] !== EMPTY) this._native.drain(); // full: Rust has not caught up
    ring[i] = value;
    s.i = (i + 1) & MASK;
    if ((i & HALF_MASK) === HALF_MASK) this._native.kick();
  }

  /**
   * Records every value of a Float64Array with one crossing, or none if one is invalid.
   * @param {Float64Array} values
   * @param {string} [key] the default series when omitted
   */
  recordMany(values, key) {
    if (this._closed) throw closedError();
    if (!(values instanceof Float64Array)) throw invalidType('values', 'an instance of Float64Array', values);
    const s = key === undefined ? (this._default ?? this._defaultSeries()) : (this._byKey.get(key) ?? this._keySeries(key));
    const bad = this._native.recordMany(s.index, values);
    if (bad >= 0) throw invalidValue(values[bad], `values[${bad}]`);
  }

  /**
   * The stats of the window ending now for `key` (the default series when omitted), or null
   * when nothing was ever recorded under it.
   */
  snapshot(key) {
    if (this._closed) throw closedError();
    const s = key === undefined ? this._default : this._byKey.get(key);
    if (s === undefined || s === null) return null;
    return this._native.snapshot(s.index) ? this._stats(s.key, this._row, 0) : null;
  }

  /** Emits the final (partial) window, stops the timer. Idempotent; then 'close'. */
  close() {
    if (this._closed) return;
    this._closed = true;
    this._native.close();
  }

  _defaultSeries() {
    if (this._closed) throw closedError();
    this._default = this._newSeries(null);
    return this._default;
  }

  _keySeries(key) {
    if (typeof key !== 'string') throw invalidType('key', 'of type string', key);
    if (this._closed) throw closedError();
    const s = this._newSeries(key);
    this._byKey.set(key, s);
    return s;
  }

  _newSeries(key) {
    const index = this._series.length;
    const s = new Series(key, index, this._native.ring(index));
    this._series.push(s);
    return s;
  }

  _stats(key, row, o) {
    const stats = {
      key,
      start: row[o],
      end: row[o + 1],
      count: row[o + 2],
      sum: row[o + 3],
      min: row[o + 4],
      max: row[o + 5],
      mean: row[o + 6],
      rate: row[o + 7],
    };
    for (let j = 0; j < this._names.length; j++) stats[this._names[j]] = row[o + FIXED + j];
    return stats;
  }

  /** Bridge batch: one record per key per window end; bytes = the row of f64s. */
  _onBatch(tags, _numbers, bytes, ends, _dropped, last) {
    if (tags !== null && tags.length > 0) {
      let rows;
      if (bytes.byteOffset % 8 === 0) rows = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
      else rows = new Float64Array(new Uint8Array(bytes).buffer);
      let start = 0;
      for (let i = 0; i < tags.length; i++) {
        const s = this._series[tags[i]];
        if (s !== undefined) this.emit('window', this._stats(s.key, rows, start / 8));
        start = ends[i];
      }
    }
    if (last) process.nextTick(() => this.emit('close'));
  }
}

module.exports = { MetricWindow, percentileName };
