'use strict';

/**
 * RollingCounts: named counters over a sliding time window, as a ring of `buckets` buckets of
 * `window / buckets` ms. Running totals are kept as buckets fill and expire, so reading a count
 * is O(1); expiry is lazy (on the next add or read, one comparison while the current bucket
 * lasts), so there is no timer. Internal: the circuit breaker's rolling statistics.
 */
class RollingCounts {
  /**
   * @param {string[]} fields counter names; `add` and `get` take their index
   * @param {number} window ms
   * @param {number} buckets buckets in the window
   */
  constructor(fields, window, buckets) {
    this.fields = fields;
    this.width = window / buckets;
    this.slots = Array.from({ length: buckets }, () => new Float64Array(fields.length));
    this.totals = new Float64Array(fields.length);
    this.epoch = Math.floor(Date.now() / this.width);
    this.edge = (this.epoch + 1) * this.width; // when the current bucket ends
    this.current = this.slots[this.epoch % buckets];
  }

  advance() {
    const now = Date.now();
    if (now < this.edge) return;
    const epoch = Math.floor(now / this.width);
    const n = this.slots.length;
    const steps = Math.min(epoch - this.epoch, n);
    for (let s = 1; s <= steps; s++) {
      const slot = this.slots[(this.epoch + s) % n];
      for (let i = 0; i < slot.length; i++) {
        this.totals[i] -= slot[i];
        slot[i] = 0;
      }
    }
    this.epoch = epoch;
    this.edge = (epoch + 1) * this.width;
    this.current = this.slots[epoch % n];
  }

  /** Adds 1 to counter `i` (and to counter `j` when given) in the current bucket. */
  add(i, j = -1) {
    this.advance();
    this.current[i] += 1;
    this.totals[i] += 1;
    if (j >= 0) {
      this.current[j] += 1;
      this.totals[j] += 1;
    }
  }

  /** The window's total of counter `i`. */
  get(i) {
    this.advance();
    return this.totals[i];
  }

  /** Every counter's window total, as an object keyed by field name. */
  toJSON() {
    this.advance();
    const out = {};
    this.fields.forEach((f, i) => (out[f] = this.totals[i]));
    return out;
  }

  /** Zeroes counters (every one without arguments) in every bucket. */
  reset(indexes) {
    const which = indexes ?? this.fields.map((_, i) => i);
    for (const i of which) {
      for (const slot of this.slots) slot[i] = 0;
      this.totals[i] = 0;
    }
  }
}

module.exports = { RollingCounts };
