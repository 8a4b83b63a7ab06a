'use strict';

/**
 * EventBuffer: collects bursts of events and emits them as one array ('bufferFlush') once the
 * burst goes quiet — the seed's EventBuffer, with its timing policy on the Rust runtime
 * (src/buffer.rs).
 *
 * The events stay in a JS array (a JS value cannot cross into Rust cheaply). `add()` pushes to
 * it and bumps an add counter in memory Rust owns (a Float64Array over an external
 * ArrayBuffer): no call into Rust per event. Rust samples the counter every millisecond during a
 * burst and, when the burst has been quiet for `delay` ms (or `maxWait` has expired), sends a
 * signal `{ upto }` through the bridge; JS flushes exactly the events among the first `upto`
 * added that it has not flushed yet, so an event is never lost or flushed twice. `maxSize` and
 * `leading` are decided here, synchronously. JS crosses into Rust only when a burst starts, when
 * the array goes empty ↔ non-empty (to ref/unref the event loop: an idle buffer never keeps the
 * process alive), and at most once per Rust sample (every ms) from a microtask that dates the end
 * of a run of adds (`settle`), so the quiet delay is measured from the last add precisely.
 * Held events keep the process alive until flushed; `unref()` lets it exit anyway.
 */

const EventEmitter = require('../events');
const { NativeEventBuffer } = require('../binding');
const { codedError, validateBoolean, validateNumber, validateObject } = require('./validate');

const ADDED = 0;
const ACKED = 1;
const SAMPLED = 2;
const MAX_MS = 2 ** 31 - 1;

function closedError() {
  return codedError(Error, 'ERR_BUFFER_CLOSED', 'EventBuffer is closed: add() cannot be called after close()');
}

class EventBuffer extends EventEmitter {
  /**
   * @param {number | object} [options=100] the quiet delay in ms (the seed's signature), or:
   * @param {number} [options.delay=100] ms without an add after which the burst is flushed
   * @param {number} [options.maxSize=Infinity] flush as soon as this many events are held
   * @param {number} [options.maxWait=Infinity] flush no later than this many ms after the
   *   oldest held event, even while adds keep coming
   * @param {boolean} [options.leading=false] emit the first event of a burst at once, alone
   */
  constructor(options = 100) {
    super();
    const opts = typeof options === 'number' ? { delay: options } : validateObject(options, 'options');
    const prefix = typeof options === 'number' ? 'delay' : 'options.delay';
    this._delay = opts.delay === undefined ? 100 : validateNumber(opts.delay, prefix, { min: 0, max: MAX_MS });
    this._maxSize = Infinity;
    if (opts.maxSize !== undefined && opts.maxSize !== Infinity) {
      this._maxSize = validateNumber(opts.maxSize, 'options.maxSize', { min: 1, max: 2 ** 32 - 1, integer: true });
    }
    let maxWait = null;
    if (opts.maxWait !== undefined && opts.maxWait !== Infinity) {
      maxWait = validateNumber(opts.maxWait, 'options.maxWait', { min: 0, max: MAX_MS });
    }
    this._maxWait = maxWait;
    this._leading = opts.leading === undefined ? false : validateBoolean(opts.leading, 'options.leading');

    this._held = [];
    this._flushed = 0; // events flushed (or emitted by `leading`) so far
    this._burst = false;
    this._closed = false;
    this._refed = true;
    this._native = new NativeEventBuffer(this._onSignals.bind(this), {
      delay: this._delay,
      maxWait: maxWait === null ? undefined : maxWait,
    });
    this._state = this._native.state();
    this._settle = () => {
      if (!this._closed) this._native.settle();
    };
  }

  /** The quiet delay in ms. */
  get delay() {
    return this._delay;
  }

  /** Events held now (added, not yet flushed). */
  get size() {
    return this._held.length;
  }

  /** Whether close() has run. */
  get closed() {
    return this._closed;
  }

  /**
   * Adds an event (any value; the flushed array holds this very value, in order).
   * @throws {Error} code ERR_BUFFER_CLOSED after close()
   */
  add(event) {
    if (this._closed) throw closedError();
    this._state[ADDED]++;
    if (!this._burst) {
      this._startBurst(event);
      return;
    }
    const n = this._held.push(event);
    const state = this._state;
    if (state[SAMPLED] !== 0) {
      // Rust sampled since the last report: date the end of this run of adds (see settle()).
      state[SAMPLED] = 0;
      queueMicrotask(this._settle);
    }
    if (n === 1) this._native.hold(true);
    if (n >= this._maxSize) this._flushFirst(n);
  }

  /**
   * Lets the process exit while events are held (they are then lost at exit unless close() runs),
   * like `timeout.unref()`. Returns this.
   */
  unref() {
    if (this._refed && !this._closed) this._native.setRef(false, false);
    this._refed = false;
    return this;
  }

  /** Held events keep the process alive until they are flushed (the default). Returns this. */
  ref() {
    if (!this._refed && !this._closed) this._native.setRef(true, this._held.length > 0);
    this._refed = true;
    return this;
  }

  /** Whether held events keep the process alive (false after unref() and after close()). */
  hasRef() {
    return this._refed && !this._closed;
  }

  /** Emits 'bufferFlush' with every held event now (nothing when empty). */
  flush() {
    if (this._held.length > 0) this._flushFirst(this._held.length);
  }

  /**
   * Flushes what remains, stops the timer and releases the event loop. Idempotent; 'close' is
   * emitted on the next tick.
   */
  close() {
    if (this._closed) return;
    this._closed = true;
    const rest = this._held;
    this._held = [];
    this._flushed += rest.length;
    this._native.close();
    if (rest.length > 0) this.emit('bufferFlush', rest);
    process.nextTick(() => this.emit('close'));
  }

  /** Same as close(). */
  destroy() {
    this.close();
  }

  _startBurst(event) {
    this._burst = true;
    this._state[SAMPLED] = 0;
    queueMicrotask(this._settle);
    if (this._leading) {
      this._flushed++;
      this._native.activate(false);
      this.emit('bufferFlush', [event]);
      return;
    }
    this._held.push(event);
    this._native.activate(true);
    if (this._maxSize <= 1) this._flushFirst(1);
  }

  /** Removes the first `count` held events and emits them. */
  _flushFirst(count) {
    const events = this._held;
    let batch;
    if (count >= events.length) {
      batch = events;
      this._held = [];
    } else {
      batch = events.splice(0, count);
    }
    this._flushed += batch.length;
    if (this._held.length === 0 && !this._closed) this._native.hold(false);
    this.emit('bufferFlush', batch);
  }

  /** Bridge batch: each record is a signal, tag = id << 1 | quiet, number = upto. */
  _onSignals(tags, numbers) {
    if (tags === null || this._closed) return;
    for (let i = 0; i < tags.length; i++) {
      if (this._closed) return;
      const tag = tags[i];
      const due = numbers[i] - this._flushed;
      this._state[ACKED] = tag >>> 1;
      if (tag & 1) {
        // Quiet: the burst ends. Events added after Rust decided (still held once the due
        // ones are flushed) start the next one at once.
        this._burst = false;
        if (this._held.length > due) {
          this._burst = true;
          this._native.activate(true);
        }
      }
      if (due > 0) this._flushFirst(due);
    }
  }
}

module.exports = { EventBuffer };
