'use strict';

// RollingStats: the JS stand-in for MetricWindow used by the breaker and the dashboard.

const assert = require('node:assert');
const { setTimeout: sleep } = require('node:timers/promises');
const { RollingStats, percentileName } = require('../lib/rolling-stats');
const { RollingCounts } = require('../lib/rolling-counts');

// Exact nearest-rank percentile of sorted values.
const exact = (sorted, p) => sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];

describe('RollingStats (MetricWindow stand-in)', function () {
  it('reports count, sum, min, max, mean exactly and percentiles within 1.6 %', function () {
    const r = new RollingStats({ window: 60000 });
    const values = [];
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20000; i++) {
      const v = 0.05 + rand() ** 3 * 5000; // a long tail, from sub-ms to seconds
      values.push(v);
      r.record(v);
    }
    values.sort((a, b) => a - b);
    const s = r.snapshot();
    assert.strictEqual(s.count, values.length);
    assert.strictEqual(s.min, values[0]);
    assert.strictEqual(s.max, values[values.length - 1]);
    const sum = values.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(s.sum - sum) / sum < 1e-9);
    assert.ok(Math.abs(s.mean - sum / values.length) / s.mean < 1e-9);
    for (const p of [50, 90, 99, 99.9]) {
      const want = exact(values, p);
      const got = s[percentileName(p)];
      assert.ok(Math.abs(got - want) / want <= 0.016, `p${p}: ${got} vs ${want}`);
    }
    assert.ok(s.rate > 0);
    assert.ok(s.start <= s.end);
  });

  it('a single value is every percentile', function () {
    const r = new RollingStats({ window: 60000, percentiles: [1, 50, 99.99] });
    r.record(7.25);
    const s = r.snapshot();
    assert.strictEqual(s.p1, 7.25);
    assert.strictEqual(s.p50, 7.25);
    assert.strictEqual(s.p9999, 7.25);
  });

  it('keeps a series per key', function () {
    const r = new RollingStats({ window: 60000 });
    r.record('a', 1);
    r.record('a', 3);
    r.record('b', 10);
    r.record(5);
    assert.strictEqual(r.snapshot('a').mean, 2);
    assert.strictEqual(r.snapshot('a').key, 'a');
    assert.strictEqual(r.snapshot('b').count, 1);
    assert.strictEqual(r.snapshot().count, 1);
    assert.strictEqual(r.snapshot().key, null);
    assert.strictEqual(r.snapshot('none'), null, 'never recorded: null, as MetricWindow');
    assert.throws(() => r.record(1, 2), { code: 'ERR_INVALID_ARG_TYPE', message: /"key"/ });
  });

  it('forgets samples older than the window (sliding)', async function () {
    const r = new RollingStats({ window: 40, slide: 10 });
    r.record(1);
    assert.strictEqual(r.snapshot().count, 1);
    await sleep(100);
    const s = r.snapshot();
    assert.strictEqual(s.count, 0);
    assert.strictEqual(s.p99, 0);
    r.record(2);
    assert.strictEqual(r.snapshot().max, 2);
  });

  it('handles zero, tiny and huge values', function () {
    const r = new RollingStats({ window: 60000 });
    for (const v of [0, 1e-9, 2 ** 40]) r.record(v);
    const s = r.snapshot();
    assert.strictEqual(s.min, 0);
    assert.strictEqual(s.max, 2 ** 40);
    assert.strictEqual(s.p999, 2 ** 40);
  });

  it('rejects what a histogram cannot hold, and bad options', function () {
    const r = new RollingStats();
    for (const v of [-1, NaN, Infinity, 2 ** 40 + 1]) assert.throws(() => r.record(v), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => r.record('1'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new RollingStats({ window: 0 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new RollingStats({ window: 10, slide: 20 }), { code: 'ERR_OUT_OF_RANGE', message: /"options.slide"/ });
    assert.throws(() => new RollingStats({ window: 10, slide: 3 }), {
      code: 'ERR_OUT_OF_RANGE',
      message: /The value of "options.slide" is out of range. It must divide options.window \(10\) at most 1000 times. Received 3/,
    });
    assert.throws(() => new RollingStats({ window: 10.5 }), { code: 'ERR_OUT_OF_RANGE', message: /"options.window"/ });
    assert.throws(() => new RollingStats({ percentiles: [0] }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new RollingStats({ percentiles: [101] }), { code: 'ERR_OUT_OF_RANGE', message: /"options.percentiles\[0\]"/ });
    assert.throws(() => new RollingStats({ percentiles: 50 }), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('close() drops every series; then record and snapshot throw ERR_WINDOW_CLOSED', function () {
    const r = new RollingStats();
    r.record(1);
    r.close();
    r.close();
    assert.throws(() => r.snapshot(), { code: 'ERR_WINDOW_CLOSED' });
    assert.throws(() => r.record(1), { code: 'ERR_WINDOW_CLOSED' });
  });
});

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
