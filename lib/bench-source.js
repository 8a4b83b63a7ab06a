'use strict';

/**
 * BenchSource: a native source for benchmarks and bridge tests only; not part of the public API
 * (reach it with require('ferrocast/lib/bench-source')). A tokio task produces events at a fixed
 * rate, delivered through the batched bridge (`mode: 'batched'`) or with one threadsafe-function
 * call per event (`mode: 'per-event'`, the baseline).
 *
 * Events: 'data' (number | Buffer) per event, 'dropped' (count) when the full-queue policy
 * discarded events, 'close' once every produced event has been emitted.
 */

const EventEmitter = require('../events');
const { NativeBenchSource } = require('../binding');
const { createBatchHandler } = require('./bridge');
const { validateBridgeOptions, validateNumber, validateOneOf } = require('./validate');

class BenchSource extends EventEmitter {
  /**
   * @param {object} [options]
   * @param {'batched'|'per-event'} [options.mode='batched']
   * @param {'number'|'bytes'} [options.payload='number'] a float64 or a 16-byte Buffer per event
   * @param {number} [options.maxBatch] @param {number} [options.maxDelay]
   * @param {number} [options.highWaterMark] @param {'drop'|'wait'} [options.overflow]
   */
  constructor(options = {}) {
    super();
    const bridge = validateBridgeOptions(options);
    const mode = validateOneOf(options.mode ?? 'batched', 'options.mode', ['batched', 'per-event']);
    const payload = validateOneOf(options.payload ?? 'number', 'options.payload', ['number', 'bytes']);
    this.closed = false;
    const record = payload === 'number' ? 'number' : 'bytes';
    const onLast = () => process.nextTick(() => this.emit('close'));
    const callback =
      mode === 'batched'
        ? createBatchHandler(this, { record, onLast })
        : (value) => this.emit('data', value);
    this._native = new NativeBenchSource(callback, mode, payload, bridge);
    this._perEvent = mode === 'per-event';
  }

  /**
   * Starts producing. `rate` events/s (0: as fast as the listener takes them); `total` events
   * (0: until close()).
   */
  start(rate = 0, total = 0) {
    validateNumber(rate, 'rate', { min: 0 });
    validateNumber(total, 'total', { min: 0, integer: true });
    this._native.start(rate, total);
    return this;
  }

  /** Events produced by the native side so far. */
  get produced() {
    return this._native.produced;
  }

  /** Bridge counters: delivered, dropped, batches (threadsafe calls). */
  stats() {
    return this._native.stats();
  }

  /** Stops producing; events already produced are still emitted, then 'close'. Idempotent. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this._native.close();
    if (this._perEvent) setImmediate(() => this.emit('close'));
  }
}

module.exports = { BenchSource };
