'use strict';

// RollingCounts: the circuit breaker's named counters over a sliding time window.

const assert = require('node:assert');
const { setTimeout: sleep } = require('node:timers/promises');
const { RollingCounts } = require('../lib/rolling-counts');

describe('RollingCounts', function () {
  it('keeps running totals that expire with their bucket', async function () {
    const c = new RollingCounts(['a', 'b', 'c'], 40, 4);
    c.add(0);
    c.add(0, 2); // a and c
    c.add(1);
    assert.strictEqual(c.get(0), 2);
    assert.deepStrictEqual(c.toJSON(), { a: 2, b: 1, c: 1 });
    c.reset([2]);
    assert.deepStrictEqual(c.toJSON(), { a: 2, b: 1, c: 0 });
    await sleep(100);
    assert.deepStrictEqual(c.toJSON(), { a: 0, b: 0, c: 0 });
    c.add(1);
    c.reset();
    assert.strictEqual(c.get(1), 0);
  });
});
