'use strict';

/**
 * RollingCounts: named counters over a sliding time window, as a ring of `buckets` buckets of
 * `window / buckets` ms. Running totals are kept as buckets fill and expire, so reading a count
 * is O(1); expiry is lazy (on the next add or read), so there is no timer. Internal: the circuit
 * breaker's rolling statistics.
 */
class RollingCounts {
  /**
   * @param {string[]} fields counter names
   * @param {number} window ms
   * @param {number} buckets buckets in the window
   */
  constructor(fields, window, buckets) {
    this.fields = fields;
    this.width = window / buckets;
    this.slots = Array.from({ length: buckets }, () => new Float64Array(fields.length));
    this.totals = new Float64Array(fields.length);
    this.index = Object.fromEntries(fields.map((f, i) => [f, i]));
    this.epoch = Math.floor(Date.now() / this.width);
  }

  advance() {
    const epoch = Math.floor(Date.now() / this.width);
    if (epoch <= this.epoch) return;
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
  }

  /** Adds `n` to counter `field` in the current bucket. */
  add(field, n = 1) {
    this.advance();
    const i = this.index[field];
    this.slots[this.epoch % this.slots.length][i] += n;
    this.totals[i] += n;
  }

  /** The window's total of counter `field`. */
  get(field) {
    this.advance();
    return this.totals[this.index[field]];
  }

  /** Every counter's window total, as an object. */
  toJSON() {
    this.advance();
    const out = {};
    this.fields.forEach((f, i) => (out[f] = this.totals[i]));
    return out;
  }

  /** Zeroes every bucket. */
  reset() {
    for (const slot of this.slots) slot.fill(0);
    this.totals.fill(0);
  }
}

module.exports = { RollingCounts };
