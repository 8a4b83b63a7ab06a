'use strict';

const assert = require('node:assert');
const { once } = require('node:events');
const { BenchSource } = require('../lib/bench-source');

function collect(source) {
  const values = [];
  let droppedEvents = 0;
  source.on('data', (v) => values.push(v));
  source.on('dropped', (n) => (droppedEvents += n));
  return { values, dropped: () => droppedEvents };
}

function busy(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

describe('bridge (Rust → JS delivery)', function () {
  describe('batched delivery', function () {
    it('delivers every event once, in the order Rust produced them, in few crossings', async function () {
      const source = new BenchSource({ overflow: 'wait', highWaterMark: 50000 });
      const { values } = collect(source);
      source.start(0, 200000);
      const closed = once(source, 'close');
      while (source.produced < 200000) await new Promise((r) => setTimeout(r, 5));
      source.close();
      await closed;
      assert.strictEqual(values.length, 200000);
      for (let i = 0; i < values.length; i++) {
        if (values[i] !== i) assert.fail(`event ${i} arrived as ${values[i]}`);
      }
      const stats = source.stats();
      assert.strictEqual(stats.delivered, 200000);
      assert.strictEqual(stats.dropped, 0);
      assert.ok(stats.batches <= 200000 / 100, `expected batching, got ${stats.batches} crossings`);
    });

    it('delivers byte-string events as Buffers', async function () {
      const source = new BenchSource({ payload: 'bytes', overflow: 'wait' });
      const { values } = collect(source);
      source.start(0, 10000);
      while (source.produced < 10000) await new Promise((r) => setTimeout(r, 5));
      const closed = once(source, 'close');
      source.close();
      await closed;
      assert.strictEqual(values.length, 10000);
      assert.ok(Buffer.isBuffer(values[0]));
      assert.strictEqual(values[9999].toString(), '0123456789abcdef');
    });

    it('delivers batches above the copy limit (external arrays) as intact as small ones', async function () {
      // Columns of at most 64 KiB are copied into JS arrays; these batches of up to 16,384
      // records carry 128 KiB of numbers or 256 KiB of bytes, handed over without a copy.
      for (const payload of ['number', 'bytes']) {
        const total = 100000;
        const source = new BenchSource({ payload, maxBatch: 16384, highWaterMark: 200000, overflow: 'wait' });
        const { values } = collect(source);
        source.start(0, total);
        busy(20); // let Rust fill whole batches
        while (source.produced < total) await new Promise((r) => setTimeout(r, 5));
        const closed = once(source, 'close');
        source.close();
        await closed;
        assert.strictEqual(values.length, total);
        if (payload === 'number') {
          for (let i = 0; i < total; i++) if (values[i] !== i) assert.fail(`event ${i} arrived as ${values[i]}`);
        } else {
          assert.ok(values.every((v) => Buffer.isBuffer(v) && v.toString() === '0123456789abcdef'));
        }
        assert.ok(source.stats().batches < total / 1000, `expected big batches, got ${source.stats().batches}`);
      }
    });

    it('batches by time when events trickle in', async function () {
      const source = new BenchSource({ maxDelay: 2 });
      const times = [];
      source.on('data', () => times.push(Date.now()));
      source.start(1000, 100);
      await new Promise((r) => setTimeout(r, 300));
      const closed = once(source, 'close');
      source.close();
      await closed;
      assert.strictEqual(times.length, 100);
      const stats = source.stats();
      assert.ok(stats.batches >= 10, `a 2 ms delay at 1000 events/s gives many batches, got ${stats.batches}`);
    });
  });

  describe('full queue', function () {
    it("'drop' discards whole batches when JS falls behind, counts them and reports them", async function () {
      const total = 400000;
      const source = new BenchSource({ highWaterMark: 2000, maxBatch: 500, overflow: 'drop' });
      const got = collect(source);
      source.start(0, total);
      busy(150); // the main thread stalls while Rust produces
      while (source.produced < total) await new Promise((r) => setTimeout(r, 5));
      const closed = once(source, 'close');
      source.close();
      await closed;
      const stats = source.stats();
      assert.ok(stats.dropped > 0, 'expected drops while the main thread was blocked');
      assert.strictEqual(stats.delivered + stats.dropped, total);
      assert.strictEqual(got.values.length, stats.delivered);
      assert.strictEqual(got.dropped(), stats.dropped);
      for (let i = 1; i < got.values.length; i++) {
        if (!(got.values[i] > got.values[i - 1])) assert.fail(`order broken at ${i}`);
      }
    });

    it("'wait' makes the producer wait: nothing is dropped and memory stays bounded", async function () {
      const total = 300000;
      const source = new BenchSource({ highWaterMark: 2000, maxBatch: 500, overflow: 'wait' });
      const got = collect(source);
      source.start(0, total);
      busy(150);
      assert.ok(source.produced <= 2000 + 500 * 2 + 4096, `producer ran ahead: ${source.produced}`);
      while (source.produced < total) await new Promise((r) => setTimeout(r, 5));
      const closed = once(source, 'close');
      source.close();
      await closed;
      assert.strictEqual(source.stats().dropped, 0);
      assert.strictEqual(got.values.length, total);
      assert.strictEqual(got.values[total - 1], total - 1);
    });
  });

  describe('per-event baseline', function () {
    it('delivers one threadsafe call per event, in order', async function () {
      const source = new BenchSource({ mode: 'per-event' });
      const { values } = collect(source);
      source.start(0, 5000);
      while (values.length < 5000) await new Promise((r) => setTimeout(r, 5));
      source.close();
      await once(source, 'close');
      assert.deepStrictEqual(values.slice(0, 3), [0, 1, 2]);
      assert.strictEqual(values.length, 5000);
    });
  });

  describe('options', function () {
    it('rejects bad options with exact errors', function () {
      assert.throws(() => new BenchSource({ maxBatch: 0 }), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: 'The value of "options.maxBatch" is out of range. It must be an integer >= 1 and <= 2147483647. Received 0',
      });
      assert.throws(() => new BenchSource({ overflow: 'block' }), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: "The argument 'options.overflow' must be one of: 'drop', 'wait'. Received type string ('block')",
      });
      assert.throws(() => new BenchSource({ maxDelay: '5' }), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_TYPE',
        message: 'The "options.maxDelay" argument must be of type number. Received type string (\'5\')',
      });
    });
  });
});
