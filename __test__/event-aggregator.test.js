'use strict';

const assert = require('node:assert');
const { getEventListeners } = require('node:events');
const { EventAggregator, EventEmitter } = require('..');

function listenerTotal(emitter, names) {
  return names.reduce((n, name) => n + emitter.listenerCount(name), 0);
}

describe('EventAggregator', function () {
  it('is a ferrocast EventEmitter', function () {
    assert.ok(new EventAggregator() instanceof EventEmitter);
  });

  describe('#waitForEvents(names, callback)', function () {
    it("calls back once every named event has fired, with { [name]: data } (the seed's form)", function () {
      const agg = new EventAggregator();
      const calls = [];
      const ret = agg.waitForEvents(['userLoggedIn', 'dataLoaded'], (data) => calls.push(data));
      assert.strictEqual(ret, undefined);
      agg.emit('userLoggedIn', { user: 'ada' });
      assert.strictEqual(calls.length, 0);
      agg.emit('dataLoaded', [1, 2]);
      assert.deepStrictEqual(calls, [{ userLoggedIn: { user: 'ada' }, dataLoaded: [1, 2] }]);
      agg.emit('userLoggedIn', 'again');
      agg.emit('dataLoaded', 'again');
      assert.strictEqual(calls.length, 1, 'called once');
      assert.strictEqual(listenerTotal(agg, ['userLoggedIn', 'dataLoaded']), 0);
    });

    it('keeps the first payload of an event that fires twice before the others', function () {
      const agg = new EventAggregator();
      let got;
      agg.waitForEvents(['a', 'b'], (d) => (got = d));
      agg.emit('a', 1);
      agg.emit('a', 2);
      assert.strictEqual(agg.listenerCount('a'), 0, "a's listener went after its first event");
      agg.emit('b', 3);
      assert.deepStrictEqual(got, { a: 1, b: 3 });
    });

    it('reports a timeout as an error event when given a callback', async function () {
      const agg = new EventAggregator();
      const err = await new Promise((resolve) => {
        agg.once('error', resolve);
        agg.waitForEvents(['never'], () => assert.fail('must not be called'), { timeout: 10 });
      });
      assert.strictEqual(err.code, 'ERR_AGGREGATE_TIMEOUT');
      assert.strictEqual(agg.listenerCount('never'), 0);
    });
  });

  describe('#waitForEvents(names[, options]) → Promise', function () {
    it('resolves with the data of every event', async function () {
      const agg = new EventAggregator();
      const p = agg.waitForEvents(['x', 'y']);
      assert.ok(p instanceof Promise);
      agg.emit('y', 'Y');
      agg.emit('x', 'X');
      assert.deepStrictEqual(await p, { x: 'X', y: 'Y' });
      assert.strictEqual(listenerTotal(agg, ['x', 'y']), 0);
    });

    it('resolves at once for an empty list', async function () {
      assert.deepStrictEqual(await new EventAggregator().waitForEvents([]), {});
    });

    it('rejects with ERR_AGGREGATE_TIMEOUT naming what is missing, and leaves no listener', async function () {
      const agg = new EventAggregator();
      const p = agg.waitForEvents(['a', 'b'], { timeout: 20 });
      agg.emit('a', 1);
      await assert.rejects(p, {
        name: 'Error',
        code: 'ERR_AGGREGATE_TIMEOUT',
        message: 'waitForEvents timed out after 20 ms waiting for: b',
      });
      assert.strictEqual(listenerTotal(agg, ['a', 'b']), 0);
    });

    it('rejects with an AbortError when the signal aborts, and leaves no listener', async function () {
      const agg = new EventAggregator();
      const ac = new AbortController();
      const p = agg.waitForEvents(['a', 'b'], { signal: ac.signal, timeout: 10000 });
      assert.strictEqual(getEventListeners(ac.signal, 'abort').length, 1);
      ac.abort();
      await assert.rejects(p, { name: 'AbortError', code: 'ABORT_ERR' });
      assert.strictEqual(listenerTotal(agg, ['a', 'b']), 0);
      assert.strictEqual(getEventListeners(ac.signal, 'abort').length, 0);
    });

    it('rejects at once when the signal is already aborted', async function () {
      const agg = new EventAggregator();
      await assert.rejects(agg.waitForEvents(['a'], { signal: AbortSignal.abort() }), { name: 'AbortError' });
      assert.strictEqual(agg.listenerCount('a'), 0);
    });

    it('on success removes the abort listener and clears the timer', async function () {
      const agg = new EventAggregator();
      const ac = new AbortController();
      const p = agg.waitForEvents(['a'], { signal: ac.signal, timeout: 60000 });
      agg.emit('a', 1);
      await p;
      assert.strictEqual(getEventListeners(ac.signal, 'abort').length, 0);
      // The 60 s timer would keep mocha (run without --exit) alive if it were still pending.
    });

    it('several waits on the same events settle independently', async function () {
      const agg = new EventAggregator();
      const p1 = agg.waitForEvents(['a']);
      const p2 = agg.waitForEvents(['a', 'b'], { timeout: 20 });
      agg.emit('a', 1);
      assert.deepStrictEqual(await p1, { a: 1 });
      await assert.rejects(p2, { code: 'ERR_AGGREGATE_TIMEOUT' });
      assert.strictEqual(listenerTotal(agg, ['a', 'b']), 0);
    });
  });

  describe('argument checks', function () {
    it('rejects bad arguments with Node-style errors', function () {
      const agg = new EventAggregator();
      assert.throws(() => agg.waitForEvents('a'), {
        code: 'ERR_INVALID_ARG_TYPE',
        message: 'The "eventNames" argument must be an instance of Array. Received type string (\'a\')',
      });
      assert.throws(() => agg.waitForEvents([1]), { code: 'ERR_INVALID_ARG_TYPE', message: /"eventNames\[0\]"/ });
      assert.throws(() => agg.waitForEvents(['a'], { timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => agg.waitForEvents(['a'], { signal: {} }), {
        code: 'ERR_INVALID_ARG_TYPE',
        message: /"options\.signal" argument must be an instance of AbortSignal/,
      });
      assert.strictEqual(agg.listenerCount('a'), 0, 'a rejected call registers nothing');
    });
  });
});
