'use strict';

const assert = require('node:assert');
const { once } = require('node:events');
const { EventBuffer, EventEmitter } = require('..');
const { runNode } = require('./helpers');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Collects every flushed batch of `buffer`. */
function collect(buffer) {
  const batches = [];
  buffer.on('bufferFlush', (events) => batches.push(events));
  return batches;
}

async function waitFor(cond, limit = 5000) {
  const end = Date.now() + limit;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(2);
  }
}

describe('EventBuffer', function () {
  const open = [];
  function make(options) {
    const b = new EventBuffer(options);
    open.push(b);
    return b;
  }
  afterEach(function () {
    for (const b of open.splice(0)) b.close();
  });

  describe('constructor', function () {
    it("takes the seed's signature: a delay in ms, 100 by default", function () {
      assert.strictEqual(make().delay, 100);
      assert.strictEqual(make(500).delay, 500);
      assert.strictEqual(make({ delay: 20 }).delay, 20);
      assert.ok(make() instanceof EventEmitter);
    });

    it('rejects bad options with Node-style errors', function () {
      assert.throws(() => new EventBuffer('x'), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_TYPE',
        message: 'The "options" argument must be of type object. Received type string (\'x\')',
      });
      assert.throws(() => new EventBuffer(-1), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: 'The value of "delay" is out of range. It must be a number >= 0 and <= 2147483647. Received -1',
      });
      assert.throws(() => new EventBuffer({ maxSize: 0 }), {
        code: 'ERR_OUT_OF_RANGE',
        message: /"options\.maxSize" is out of range\. It must be an integer >= 1/,
      });
      assert.throws(() => new EventBuffer({ maxSize: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => new EventBuffer({ maxWait: NaN }), { code: 'ERR_OUT_OF_RANGE', message: /"options\.maxWait"/ });
      assert.throws(() => new EventBuffer({ leading: 1 }), {
        code: 'ERR_INVALID_ARG_TYPE',
        message: 'The "options.leading" argument must be of type boolean. Received type number (1)',
      });
    });
  });

  describe('quiet delay', function () {
    it('flushes the very values added, in order, once the burst has been quiet for delay ms', async function () {
      const b = make(30);
      const batches = collect(b);
      const values = [{ a: 1 }, 'two', 3, null, undefined, [5]];
      for (const v of values) b.add(v);
      assert.strictEqual(b.size, values.length);
      assert.strictEqual(batches.length, 0, 'nothing before the delay');
      await waitFor(() => batches.length === 1);
      assert.strictEqual(batches[0].length, values.length);
      for (let i = 0; i < values.length; i++) assert.strictEqual(batches[0][i], values[i]);
      assert.strictEqual(b.size, 0);
    });

    it('restarts the quiet timer on each add', async function () {
      const b = make(250);
      const batches = collect(b);
      for (let i = 0; i < 10; i++) {
        b.add(i);
        await sleep(5);
      }
      await waitFor(() => batches.length > 0);
      assert.deepStrictEqual(batches, [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    });

    it('starts a new burst after a flush', async function () {
      const b = make(20);
      const batches = collect(b);
      b.add(1);
      await waitFor(() => batches.length === 1);
      b.add(2);
      b.add(3);
      await waitFor(() => batches.length === 2);
      assert.deepStrictEqual(batches, [[1], [2, 3]]);
    });
  });

  describe('#flush', function () {
    it('emits what is held at once and nothing when empty', async function () {
      const b = make(1000);
      const batches = collect(b);
      b.flush();
      assert.strictEqual(batches.length, 0, 'an empty flush emits nothing');
      b.add('a');
      b.add('b');
      b.flush();
      assert.deepStrictEqual(batches, [['a', 'b']]);
      b.flush();
      assert.strictEqual(batches.length, 1);
    });

    it('an empty buffer never emits when the burst goes quiet', async function () {
      const b = make(15);
      const batches = collect(b);
      b.add(1);
      b.flush();
      await sleep(60);
      assert.deepStrictEqual(batches, [[1]]);
    });
  });

  describe('maxSize', function () {
    it('flushes synchronously as soon as the buffer holds maxSize events', function () {
      const b = make({ delay: 10000, maxSize: 3 });
      const batches = collect(b);
      for (let i = 0; i < 7; i++) b.add(i);
      assert.deepStrictEqual(batches, [
        [0, 1, 2],
        [3, 4, 5],
      ]);
      assert.strictEqual(b.size, 1);
    });

    it('maxSize 1 emits every event alone', function () {
      const b = make({ maxSize: 1 });
      const batches = collect(b);
      b.add('x');
      b.add('y');
      assert.deepStrictEqual(batches, [['x'], ['y']]);
    });
  });

  describe('maxWait', function () {
    it('flushes during a continuous burst, no later than maxWait after the oldest event', async function () {
      const b = make({ delay: 200, maxWait: 40 });
      const batches = collect(b);
      const end = Date.now() + 300;
      let n = 0;
      while (Date.now() < end) {
        b.add(n++);
        await sleep(4);
      }
      assert.ok(batches.length >= 2, `expected max-wait flushes while adds kept coming, got ${batches.length}`);
      await waitFor(() => b.size === 0);
      const all = batches.flat();
      assert.deepStrictEqual(all, Array.from({ length: n }, (_, i) => i));
    });

    it('maxSize and maxWait together: whichever comes first, nothing lost or repeated', async function () {
      const b = make({ delay: 500, maxSize: 20, maxWait: 25 });
      const batches = collect(b);
      let n = 0;
      const end = Date.now() + 300;
      for (let round = 0; Date.now() < end; round++) {
        // A trickle (max-wait flushes it) with a surge now and then (maxSize flushes it).
        const k = round % 20 === 10 ? 45 : 1;
        for (let i = 0; i < k; i++) b.add(n++);
        await sleep(3);
      }
      const during = batches.slice(); // flushed while adds kept coming: maxSize or maxWait
      b.close();
      const all = batches.flat();
      assert.deepStrictEqual(all, Array.from({ length: n }, (_, i) => i));
      assert.ok(batches.every((x) => x.length >= 1 && x.length <= 20), 'no batch exceeds maxSize');
      assert.ok(during.some((x) => x.length === 20), 'maxSize flushed the surges');
      assert.ok(during.some((x) => x.length < 20), 'maxWait flushed the trickle before it filled');
    });
  });

  describe('leading', function () {
    it('emits the first event of a burst at once and alone, then buffers the rest', async function () {
      const b = make({ delay: 30, leading: true });
      const batches = collect(b);
      b.add(1);
      assert.deepStrictEqual(batches, [[1]], 'the leading event is emitted synchronously');
      b.add(2);
      b.add(3);
      await waitFor(() => batches.length === 2);
      assert.deepStrictEqual(batches, [[1], [2, 3]]);
      // The burst is over: the next add leads again.
      await waitFor(() => {
        if (batches.length === 2) b.add(4);
        return batches.length === 3;
      });
      assert.deepStrictEqual(batches[2], [4]);
    });

    it('a lone leading event is not emitted twice', async function () {
      const b = make({ delay: 10, leading: true });
      const batches = collect(b);
      b.add('only');
      await sleep(50);
      assert.deepStrictEqual(batches, [['only']]);
    });
  });

  describe('#close', function () {
    it('flushes what is held with a timer pending, then refuses adds with ERR_BUFFER_CLOSED', async function () {
      const b = make(10000);
      const batches = collect(b);
      b.add(1);
      b.add(2);
      const closed = once(b, 'close');
      b.close();
      assert.deepStrictEqual(batches, [[1, 2]]);
      assert.strictEqual(b.closed, true);
      assert.throws(() => b.add(3), { name: 'Error', code: 'ERR_BUFFER_CLOSED', message: /EventBuffer is closed/ });
      await closed;
      b.close();
      assert.strictEqual(batches.length, 1, 'close() is idempotent');
    });

    it('destroy() is close()', function () {
      const b = make(10000);
      const batches = collect(b);
      b.add('x');
      b.destroy();
      assert.deepStrictEqual(batches, [['x']]);
      assert.throws(() => b.add('y'), { code: 'ERR_BUFFER_CLOSED' });
    });

    it('closing an empty buffer emits no flush', function () {
      const b = make(10);
      const batches = collect(b);
      b.close();
      assert.strictEqual(batches.length, 0);
    });
  });

  describe('no loss, no duplicates', function () {
    it('under interleaved adds, explicit flushes, maxSize and timer flushes', async function () {
      const b = make({ delay: 3, maxSize: 50, maxWait: 8 });
      const batches = collect(b);
      let n = 0;
      let seed = 7;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const end = Date.now() + 300;
      while (Date.now() < end) {
        const k = Math.floor(rand() * 80);
        for (let i = 0; i < k; i++) b.add(n++);
        if (rand() < 0.1) b.flush();
        await sleep(Math.floor(rand() * 6));
      }
      await waitFor(() => b.size === 0);
      b.close();
      const all = batches.flat();
      assert.strictEqual(all.length, n);
      for (let i = 0; i < n; i++) if (all[i] !== i) assert.fail(`position ${i} holds ${all[i]}`);
    });

    it('a listener may add and flush re-entrantly', async function () {
      const b = make({ delay: 10, maxSize: 2 });
      const batches = [];
      b.on('bufferFlush', (events) => {
        batches.push(events);
        if (events[0] === 0) b.add(100);
      });
      b.add(0);
      b.add(1);
      await waitFor(() => batches.length === 2);
      assert.deepStrictEqual(batches, [[0, 1], [100]]);
    });
  });

  describe('process lifetime', function () {
    it('an idle buffer never keeps the process alive', async function () {
      const r = await runNode("const { EventBuffer } = require('.'); new EventBuffer(60000);", { limit: 5000 });
      assert.strictEqual(r.signal, null, 'the child had to be killed');
      assert.strictEqual(r.code, 0, r.stderr);
    });

    it('held events keep it alive until they are flushed, then it exits by itself', async function () {
      const r = await runNode(
        `const { EventBuffer } = require('.');
         const b = new EventBuffer(300);
         b.on('bufferFlush', (e) => console.log('flushed', e.length));
         b.add(1); b.add(2);`,
        { limit: 5000 },
      );
      assert.strictEqual(r.signal, null, 'the child had to be killed');
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout.trim(), 'flushed 2');
    });

    it('unref(): held events no longer keep the process alive', async function () {
      const r = await runNode(
        `const { EventBuffer } = require('.');
         const b = new EventBuffer(60000);
         b.add(1); // holding before unref()
         console.log(b.unref() === b, b.hasRef());
         b.add(2);`,
        { limit: 5000 },
      );
      assert.strictEqual(r.signal, null, 'the child had to be killed');
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout.trim(), 'true false');
    });

    it('ref() after unref() keeps it alive again while it holds events, and ends with the flush', async function () {
      const alive = await runNode(
        "const { EventBuffer } = require('.'); const b = new EventBuffer(60000).unref(); b.add(1); b.ref(); console.log(b.hasRef());",
        { limit: 1500 },
      );
      assert.strictEqual(alive.signal, 'SIGKILL', 'the held event should have kept the child alive');
      assert.strictEqual(alive.stdout.trim(), 'true');
      const flushed = await runNode(
        "const { EventBuffer } = require('.'); const b = new EventBuffer(200).unref().ref(); b.on('bufferFlush', (e) => console.log('flushed', e.length)); b.add(1);",
        { limit: 5000 },
      );
      assert.strictEqual(flushed.signal, null, 'the child had to be killed');
      assert.strictEqual(flushed.stdout.trim(), 'flushed 1');
    });
  });
});
