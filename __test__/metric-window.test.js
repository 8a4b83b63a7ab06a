'use strict';

const assert = require('node:assert');
const { once } = require('node:events');
const { MetricWindow, EventEmitter } = require('..');
const { runNode } = require('./helpers');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The nearest-rank percentile (what HDR reports), computed exactly on sorted values. */
function exactPercentile(sorted, p) {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** A deterministic pseudo-random generator. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('MetricWindow', function () {
  const open = [];
  function make(options) {
    const w = new MetricWindow(options);
    open.push(w);
    return w;
  }
  afterEach(async function () {
    for (const w of open.splice(0)) {
      if (!w._closed) {
        const closed = once(w, 'close');
        w.close();
        await closed;
      }
    }
  });

  describe('constructor', function () {
    it('has the documented defaults and is an EventEmitter', function () {
      const w = make();
      assert.ok(w instanceof EventEmitter);
      assert.strictEqual(w.window, 1000);
      assert.strictEqual(w.slide, 1000);
      assert.deepStrictEqual(w.percentiles, [50, 90, 99, 99.9]);
      assert.strictEqual(w.precision, 3);
    });

    it('rejects bad options with exact errors', function () {
      assert.throws(() => new MetricWindow({ window: 0 }), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: 'The value of "options.window" is out of range. It must be an integer >= 1 and <= 2147483647. Received 0',
      });
      assert.throws(() => new MetricWindow({ window: 100, slide: 30 }), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: /"options\.slide" is out of range\. It must divide options\.window \(100\)/,
      });
      assert.throws(() => new MetricWindow({ window: 100, slide: 200 }), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => new MetricWindow({ precision: 6 }), { code: 'ERR_OUT_OF_RANGE', message: /"options\.precision"/ });
      assert.throws(() => new MetricWindow({ percentiles: [50, 101] }), {
        code: 'ERR_OUT_OF_RANGE',
        message: /"options\.percentiles\[1\]"/,
      });
      assert.throws(() => new MetricWindow({ percentiles: '50' }), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => new MetricWindow({ percentiles: [9.99, 99.9] }), { code: 'ERR_INVALID_ARG_VALUE' });
    });
  });

  describe('#record and #snapshot', function () {
    it('counts, sums and bounds exactly', function () {
      const w = make({ window: 60000 });
      for (const v of [3, 1, 4, 1, 5, 9, 2, 6]) w.record(v);
      const s = w.snapshot();
      assert.strictEqual(s.key, null);
      assert.strictEqual(s.count, 8);
      assert.strictEqual(s.sum, 31);
      assert.strictEqual(s.min, 1);
      assert.strictEqual(s.max, 9);
      assert.strictEqual(s.mean, 31 / 8);
      assert.ok(s.end >= s.start && s.rate > 0);
      assert.deepStrictEqual(Object.keys(s), [
        'key', 'start', 'end', 'count', 'sum', 'min', 'max', 'mean', 'rate', 'p50', 'p90', 'p99', 'p999',
      ]);
    });

    it('each snapshot is its own object, and a value recorded between two reads shows in the second', function () {
      const w = make({ window: 60000, slide: 6000 });
      for (let i = 1; i <= 100; i++) w.record(i);
      const a = w.snapshot();
      const again = w.snapshot();
      assert.deepStrictEqual({ ...again, end: 0, rate: 0 }, { ...a, end: 0, rate: 0 }, 'a repeated read reports the same window');
      w.record(100000);
      w.recordMany(new Float64Array([200000, 300000]), 'other');
      const b = w.snapshot();
      assert.strictEqual(a.count, 100, 'the first object was not changed by the later read');
      assert.strictEqual(a.max, 100);
      assert.strictEqual(b.count, 101);
      assert.strictEqual(b.max, 100000);
      assert.strictEqual(b.p999, 100000, 'the cached percentiles were dropped');
      const p50 = w.snapshot('other').p50;
      assert.ok(Math.abs(p50 - 200000) <= 200, `p50 ${p50} is 200000 within 0.1 %`);
      assert.strictEqual(w.snapshot().count, 101, 'the other key did not touch the default series');
    });

    it('names the statistics after the configured percentiles', function () {
      const w = make({ window: 60000, percentiles: [25, 75, 99.99] });
      w.record(1);
      const s = w.snapshot();
      assert.ok('p25' in s && 'p75' in s && 'p9999' in s && !('p50' in s));
    });

    it('returns null for a series that never recorded', function () {
      const w = make();
      assert.strictEqual(w.snapshot(), null);
      assert.strictEqual(w.snapshot('nope'), null);
    });

    it('counts every value across many wraps of the staging ring', function () {
      const w = make({ window: 60000 });
      const n = 100003;
      for (let i = 0; i < n; i++) w.record(i % 100);
      const s = w.snapshot();
      assert.strictEqual(s.count, n);
      let sum = 0;
      for (let i = 0; i < n; i++) sum += i % 100;
      assert.strictEqual(s.sum, sum);
    });

    for (const precision of [2, 3, 4]) {
      it(`percentiles are within 10^-${precision} of the exact sorted percentiles (precision ${precision})`, function () {
        const percentiles = [1, 10, 50, 75, 90, 99, 99.9, 99.99];
        const w = make({ window: 60000, percentiles, precision });
        const rand = rng(precision);
        const values = [];
        for (let i = 0; i < 200000; i++) {
          // Log-uniform over 6 orders of magnitude (1e-2 .. 1e4), like latencies.
          const v = 10 ** (rand() * 6 - 2);
          values.push(v);
          w.record(v);
        }
        const s = w.snapshot();
        const sorted = values.slice().sort((a, b) => a - b);
        const bound = 10 ** -precision;
        for (const p of percentiles) {
          const exact = exactPercentile(sorted, p);
          const got = s['p' + String(p).replace('.', '')];
          const err = Math.abs(got - exact);
          assert.ok(
            err <= Math.max(exact * bound, 2 ** -20),
            `p${p}: got ${got}, exact ${exact}, relative error ${err / exact} > ${bound}`,
          );
        }
      });
    }

    it('rejects values a histogram cannot hold, and records nothing for them', function () {
      const w = make({ window: 60000 });
      for (const bad of [NaN, Infinity, -Infinity, -1, -Number.MIN_VALUE, 2 ** 40 + 1]) {
        assert.throws(() => w.record(bad), {
          name: 'RangeError',
          code: 'ERR_OUT_OF_RANGE',
          message: `The value of "value" is out of range. It must be >= 0 and <= 1099511627776. Received ${bad}`,
        });
        assert.throws(() => w.record('k', bad), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      }
      assert.throws(() => w.record('5'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => w.record(5, 5), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_TYPE',
        message: 'The "key" argument must be of type string. Received type number (5)',
      });
      w.record(0);
      w.record(2 ** 40);
      assert.strictEqual(w.snapshot().count, 2);
      assert.strictEqual(w.snapshot('k').count, 0);
    });
  });

  describe('per-key series', function () {
    it('keeps one series per key, apart from the default series', function () {
      const w = make({ window: 60000 });
      w.record('/a', 10);
      w.record('/a', 20);
      w.record('/b', 1000);
      w.record(5);
      assert.strictEqual(w.snapshot('/a').count, 2);
      assert.strictEqual(w.snapshot('/a').max, 20);
      assert.strictEqual(w.snapshot('/a').key, '/a');
      assert.strictEqual(w.snapshot('/b').sum, 1000);
      assert.strictEqual(w.snapshot().sum, 5);
    });
  });

  describe('#recordMany', function () {
    it('records a Float64Array with one call, like record() per value', function () {
      const w = make({ window: 60000 });
      const values = new Float64Array(5000).map((_, i) => (i * 7919) % 1000);
      w.recordMany(values, 'many');
      for (const v of values) w.record('one', v);
      const a = w.snapshot('many');
      const b = w.snapshot('one');
      for (const k of ['count', 'sum', 'min', 'max', 'p50', 'p90', 'p99', 'p999']) assert.strictEqual(a[k], b[k], k);
      w.recordMany(new Float64Array([1, 2]));
      assert.strictEqual(w.snapshot().count, 2);
    });

    it('records nothing when one value is invalid, and names it', function () {
      const w = make({ window: 60000 });
      w.record(1);
      assert.throws(() => w.recordMany(new Float64Array([1, 2, NaN, 3])), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: 'The value of "values[2]" is out of range. It must be >= 0 and <= 1099511627776. Received NaN',
      });
      assert.strictEqual(w.snapshot().count, 1);
      assert.throws(() => w.recordMany([1, 2]), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    });
  });

  describe("'window' events", function () {
    it('tumbling: each window reports what was recorded in it, per key, and nothing is lost', async function () {
      const w = make({ window: 40 });
      const events = [];
      w.on('window', (s) => events.push(s));
      let n = 0;
      const end = Date.now() + 200;
      while (Date.now() < end) {
        w.record(1);
        w.record('k', 2);
        n++;
        await sleep(1);
      }
      const closed = once(w, 'close');
      w.close();
      await closed;
      const def = events.filter((e) => e.key === null);
      const keyed = events.filter((e) => e.key === 'k');
      assert.ok(def.length >= 3, `expected several windows, got ${def.length}`);
      assert.strictEqual(def.reduce((a, e) => a + e.count, 0), n, 'every value lands in exactly one window');
      assert.strictEqual(keyed.reduce((a, e) => a + e.sum, 0), 2 * n);
      for (let i = 1; i < def.length; i++) assert.strictEqual(def[i].start, def[i - 1].end, 'windows tile time');
    });

    it('sliding: a value stays in window/slide consecutive windows', async function () {
      const w = make({ window: 120, slide: 30 });
      const counts = [];
      w.on('window', (s) => counts.push(s.count));
      w.record(42); // lands in the first sub-window
      await new Promise((resolve) => {
        w.on('window', () => counts.length >= 6 && resolve());
      });
      assert.deepStrictEqual(counts.slice(0, 6), [1, 1, 1, 1, 0, 0]);
    });

    it("close() emits the final partial window, then 'close'; recording afterwards throws", async function () {
      const w = make({ window: 60000 });
      const events = [];
      w.on('window', (s) => events.push(s));
      w.record(7);
      const closed = once(w, 'close');
      w.close();
      w.close();
      await closed;
      assert.strictEqual(events.length, 1);
      assert.strictEqual(events[0].count, 1);
      assert.strictEqual(events[0].max, 7);
      assert.throws(() => w.record(1), { code: 'ERR_WINDOW_CLOSED' });
      assert.throws(() => w.recordMany(new Float64Array(1)), { code: 'ERR_WINDOW_CLOSED' });
      assert.throws(() => w.snapshot(), { code: 'ERR_WINDOW_CLOSED' });
    });
  });

  describe('process lifetime', function () {
    it('exits by itself after close()', async function () {
      const r = await runNode(
        "const { MetricWindow } = require('.'); const w = new MetricWindow({ window: 50 }); w.record(1); setTimeout(() => w.close(), 120);",
        { limit: 5000 },
      );
      assert.strictEqual(r.signal, null, 'the child had to be killed');
      assert.strictEqual(r.code, 0, r.stderr);
    });

    it("unref(): the process exits while the window is open, after its 'window' events", async function () {
      const r = await runNode(
        `const { MetricWindow } = require('.');
         const w = new MetricWindow({ window: 50 });
         console.log(w.unref() === w, w.hasRef());
         w.on('window', (s) => { if (s.count > 0) console.log('window', s.count); });
         w.record(1); w.record(2);
         setTimeout(() => {}, 200); // something else keeps the loop alive for a while`,
        { limit: 5000 },
      );
      assert.strictEqual(r.signal, null, 'the child had to be killed');
      assert.strictEqual(r.code, 0, r.stderr);
      assert.deepStrictEqual(r.stdout.trim().split('\n'), ['true false', 'window 2']);
    });

    it('ref() after unref(): the open window keeps the process alive again', async function () {
      const r = await runNode(
        "const { MetricWindow } = require('.'); const w = new MetricWindow({ window: 50 }); w.unref(); w.ref(); console.log(w.hasRef());",
        { limit: 1500 },
      );
      assert.strictEqual(r.signal, 'SIGKILL', 'the window should have kept the child alive');
      assert.strictEqual(r.stdout.trim(), 'true');
    });

    it('hasRef() is false after close(); ref() and unref() are then no-ops', function () {
      const w = new MetricWindow();
      assert.strictEqual(w.hasRef(), true);
      w.close();
      assert.strictEqual(w.hasRef(), false);
      assert.strictEqual(w.ref(), w);
      assert.strictEqual(w.unref(), w);
      assert.strictEqual(w.hasRef(), false);
    });
  });
});
