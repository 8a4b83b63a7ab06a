'use strict';

/**
 * The JS end of the Rust → JS bridge (src/bridge.rs).
 *
 * Native sources hand JS one batch per threadsafe-function call, in columns:
 *   (tags: Uint32Array | null, numbers: Float64Array | null, bytes: Buffer | null,
 *    ends: Uint32Array | null, dropped: number, last: boolean)
 * Record i has tag tags[i], number numbers[i] and the byte string bytes[ends[i-1] .. ends[i]].
 * `dropped` counts records the full-queue policy discarded since the previous batch; `last`
 * marks the final batch of a closed source. Dispatch stays in JS: one `emit` per record.
 */

const { validateBridgeOptions } = require('./validate');

/**
 * Makes the batch callback for a native source that emits `event` once per record on `target`.
 *
 * @param {import('node:events').EventEmitter} target
 * @param {object} opts
 * @param {string} [opts.event='data'] the event emitted per record
 * @param {'number'|'bytes'|'string'|'tagged-bytes'} opts.record how a record becomes a value
 * @param {() => void} [opts.onLast] called after the final batch has been dispatched
 * @returns {Function}
 */
function createBatchHandler(target, { event = 'data', record, onLast }) {
  return function onBatch(tags, numbers, bytes, ends, dropped, last) {
    if (dropped > 0) target.emit('dropped', dropped);
    if (numbers !== null && record === 'number') {
      for (let i = 0; i < numbers.length; i++) target.emit(event, numbers[i]);
    } else if (ends !== null) {
      let start = 0;
      for (let i = 0; i < ends.length; i++) {
        const end = ends[i];
        let value;
        if (record === 'string') value = bytes.toString('utf8', start, end);
        else value = bytes.subarray(start, end);
        if (record === 'tagged-bytes') target.emit(event, tags[i], value);
        else target.emit(event, value);
        start = end;
      }
    }
    if (last && onLast) onLast();
  };
}

/**
 * Counts the records in a batch without decoding them.
 * @returns {number}
 */
function batchLength(tags, numbers, bytes, ends) {
  if (numbers !== null) return numbers.length;
  if (ends !== null) return ends.length;
  if (tags !== null) return tags.length;
  return 0;
}

module.exports = { createBatchHandler, batchLength, validateBridgeOptions };
