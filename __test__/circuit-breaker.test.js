'use strict';

const assert = require('node:assert');
const { once } = require('node:events');
const { setTimeout: sleep } = require('node:timers/promises');
const { CircuitBreaker } = require('../lib/circuit-breaker');
const { runNode } = require('./helpers');

const fail = (message = 'boom') => async () => {
  throw new Error(message);
};
const ok = async (v) => v;

// Records every event the breaker emits, in order.
function recorder(breaker) {
  const names = [
    'fire',
    'success',
    'failure',
    'timeout',
    'reject',
    'fallback',
    'circuitOpen',
    'open',
    'halfOpen',
    'circuitClosed',
    'close',
    'shutdown',
  ];
  const seen = [];
  for (const name of names) breaker.on(name, () => seen.push(name));
  return seen;
}

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.strictEqual(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return true;
  });
}

describe('CircuitBreaker', function () {
  describe('the seed signature: new CircuitBreaker(threshold, timeout)', function () {
    it('defaults to threshold 5, 60 s OPEN, no call timeout, CLOSED', function () {
      const b = new CircuitBreaker();
      assert.strictEqual(b.state, 'CLOSED');
      assert.strictEqual(b.options.failureThreshold, 5);
      assert.strictEqual(b.options.resetTimeout, 60000);
      assert.strictEqual(b.options.timeout, false);
      assert.strictEqual(b.options.errorThresholdPercentage, undefined);
      assert.strictEqual(b.failures, 0);
      assert.strictEqual(b.lastFailure, null);
    });

    it('processEvent passes the event to the processor and resolves with its result', async function () {
      const b = new CircuitBreaker(3, 1000);
      assert.strictEqual(await b.processEvent(21, async (e) => e * 2), 42);
      assert.strictEqual(await b.processEvent('sync', (e) => e + '!'), 'sync!');
      assert.strictEqual(b.stats.successes, 2);
    });

    it('opens after `threshold` failures, emitting circuitOpen and open', async function () {
      const b = new CircuitBreaker(3, 60000);
      const seen = recorder(b);
      for (let i = 0; i < 2; i++) await assert.rejects(b.processEvent(i, fail()), /boom/);
      assert.strictEqual(b.state, 'CLOSED');
      assert.strictEqual(b.failures, 2);
      await assert.rejects(b.processEvent(2, fail()), /boom/);
      assert.strictEqual(b.state, 'OPEN');
      assert.ok(b.opened);
      assert.ok(typeof b.lastFailure === 'number');
      assert.deepStrictEqual(
        seen.filter((e) => e !== 'fire'),
        ['failure', 'failure', 'failure', 'circuitOpen', 'open'],
      );
      b.shutdown();
    });

    it('while OPEN rejects with ERR_CIRCUIT_OPEN without calling the processor', async function () {
      const b = new CircuitBreaker(1, 60000);
      await assert.rejects(b.processEvent(0, fail()));
      let called = false;
      const rejected = once(b, 'reject');
      await assert.rejects(
        b.processEvent(1, () => {
          called = true;
        }),
        (err) => {
          assert.strictEqual(err.code, 'ERR_CIRCUIT_OPEN');
          assert.match(err.message, /Circuit breaker is OPEN/);
          return true;
        },
      );
      const [err] = await rejected;
      assert.strictEqual(err.code, 'ERR_CIRCUIT_OPEN');
      assert.strictEqual(called, false);
      assert.strictEqual(b.stats.rejects, 1);
      b.shutdown();
    });

    it('goes HALF_OPEN after `timeout` ms and closes on a successful trial', async function () {
      const b = new CircuitBreaker(1, 30);
      const seen = recorder(b);
      await assert.rejects(b.processEvent(0, fail()));
      const [waited] = await once(b, 'halfOpen');
      assert.strictEqual(waited, 30);
      assert.strictEqual(b.state, 'HALF_OPEN');
      assert.ok(b.halfOpen);
      assert.strictEqual(await b.processEvent(5, ok), 5);
      assert.strictEqual(b.state, 'CLOSED');
      assert.ok(b.closed);
      assert.strictEqual(b.failures, 0, 'closing clears the failure count');
      assert.deepStrictEqual(
        seen.filter((e) => e !== 'fire'),
        ['failure', 'circuitOpen', 'open', 'halfOpen', 'success', 'circuitClosed', 'close'],
      );
    });

    it('re-opens when the trial fails', async function () {
      const b = new CircuitBreaker(1, 30);
      await assert.rejects(b.processEvent(0, fail()));
      await once(b, 'halfOpen');
      const opened = once(b, 'circuitOpen');
      await assert.rejects(b.processEvent(1, fail('still down')), /still down/);
      await opened;
      assert.strictEqual(b.state, 'OPEN');
      await once(b, 'halfOpen'); // and tries again later
      b.shutdown();
    });

    it('lets a single trial call through in HALF_OPEN and rejects the others', async function () {
      const b = new CircuitBreaker(1, 20);
      await assert.rejects(b.processEvent(0, fail()));
      await once(b, 'halfOpen');
      let release;
      const gate = new Promise((r) => (release = r));
      let calls = 0;
      const slow = async () => {
        calls += 1;
        await gate;
        return 'done';
      };
      const trial = b.processEvent(1, slow);
      await rejectsWith(b.processEvent(2, slow), 'ERR_CIRCUIT_OPEN');
      await rejectsWith(b.processEvent(3, slow), 'ERR_CIRCUIT_OPEN');
      assert.strictEqual(calls, 1);
      release();
      assert.strictEqual(await trial, 'done');
      assert.strictEqual(b.state, 'CLOSED');
    });

    it('moves to HALF_OPEN on the next call when the reset timer is late', async function () {
      const b = new CircuitBreaker(1, 10);
      await assert.rejects(b.processEvent(0, fail()));
      // Block the loop past the reset time, then call before the timer can run.
      const until = Date.now() + 30;
      while (Date.now() < until);
      assert.strictEqual(await b.processEvent(1, ok), 1);
      assert.strictEqual(b.state, 'CLOSED');
    });

    it('counts a synchronous throw as a failure', async function () {
      const b = new CircuitBreaker(1, 60000);
      await assert.rejects(
        b.processEvent(0, () => {
          throw new Error('sync');
        }),
        /sync/,
      );
      assert.strictEqual(b.state, 'OPEN');
      b.shutdown();
    });

    it('forgets failures that left the rolling window', async function () {
      const b = new CircuitBreaker({ failureThreshold: 2, rollingCountTimeout: 40, rollingCountBuckets: 2 });
      await assert.rejects(b.processEvent(0, fail()));
      await sleep(120);
      assert.strictEqual(b.failures, 0);
      await assert.rejects(b.processEvent(1, fail()));
      assert.strictEqual(b.state, 'CLOSED');
    });

    it('recordFailure() and reset() work like the seed', function () {
      const b = new CircuitBreaker(2, 60000);
      b.recordFailure();
      assert.strictEqual(b.state, 'CLOSED');
      b.recordFailure();
      assert.strictEqual(b.state, 'OPEN');
      b.reset();
      assert.strictEqual(b.state, 'CLOSED');
      assert.strictEqual(b.failures, 0);
    });
  });

  describe('the opossum-style API: new CircuitBreaker(fn, options)', function () {
    it('fire(...args) calls the function with the arguments', async function () {
      const b = new CircuitBreaker(async (a, b2) => a + b2);
      assert.strictEqual(await b.fire(2, 3), 5);
      assert.strictEqual(b.name, 'circuit');
      const named = new CircuitBreaker(async function lookup() {});
      assert.strictEqual(named.name, 'lookup');
      assert.strictEqual(new CircuitBreaker(ok, { name: 'db' }).name, 'db');
    });

    it('call(context, ...args) sets `this`', async function () {
      const b = new CircuitBreaker(async function () {
        return this.value;
      });
      assert.strictEqual(await b.call({ value: 7 }), 7);
    });

    it('emits fire with the arguments and success with the result and latency', async function () {
      const b = new CircuitBreaker(ok);
      const fired = once(b, 'fire');
      const succeeded = once(b, 'success');
      await b.fire('x');
      assert.deepStrictEqual((await fired)[0], ['x']);
      const [result, latency] = await succeeded;
      assert.strictEqual(result, 'x');
      assert.ok(latency >= 0);
    });

    it('defaults: timeout 10 s, resetTimeout 30 s, errorThresholdPercentage 50, volumeThreshold 0', function () {
      const b = new CircuitBreaker(ok);
      const o = b.options;
      assert.strictEqual(o.timeout, 10000);
      assert.strictEqual(o.resetTimeout, 30000);
      assert.strictEqual(o.errorThresholdPercentage, 50);
      assert.strictEqual(o.failureThreshold, undefined);
      assert.strictEqual(o.volumeThreshold, 0);
      assert.strictEqual(o.rollingCountTimeout, 10000);
      assert.strictEqual(o.rollingCountBuckets, 10);
      assert.strictEqual(o.capacity, Infinity);
      assert.ok(Object.isFrozen(o));
    });

    it('opens when the error percentage reaches errorThresholdPercentage', async function () {
      let fails = false;
      const b = new CircuitBreaker(
        async () => {
          if (fails) throw new Error('down');
          return 'up';
        },
        { errorThresholdPercentage: 50, resetTimeout: 60000 },
      );
      for (let i = 0; i < 3; i++) await b.fire();
      fails = true;
      await assert.rejects(b.fire()); // 1 of 4: 25 %
      await assert.rejects(b.fire()); // 2 of 5: 40 %
      assert.strictEqual(b.state, 'CLOSED');
      await assert.rejects(b.fire()); // 3 of 6: 50 %
      assert.strictEqual(b.state, 'OPEN');
      assert.strictEqual(b.stats.errorPercentage, 50);
      b.shutdown();
    });

    it('stays CLOSED below volumeThreshold', async function () {
      const b = new CircuitBreaker(fail(), { volumeThreshold: 3, resetTimeout: 60000 });
      await assert.rejects(b.fire());
      await assert.rejects(b.fire());
      assert.strictEqual(b.state, 'CLOSED');
      await assert.rejects(b.fire());
      assert.strictEqual(b.state, 'OPEN');
      b.shutdown();
    });

    it('failureThreshold alone turns the percentage off', async function () {
      const b = new CircuitBreaker(fail(), { failureThreshold: 2, resetTimeout: 60000 });
      assert.strictEqual(b.options.errorThresholdPercentage, undefined);
      await assert.rejects(b.fire());
      assert.strictEqual(b.state, 'CLOSED');
      await assert.rejects(b.fire());
      assert.strictEqual(b.state, 'OPEN');
      b.shutdown();
    });

    it('a call that exceeds `timeout` fails with ERR_CIRCUIT_TIMEOUT and aborts its signals', async function () {
      const controller = new AbortController();
      const b = new CircuitBreaker(() => new Promise(() => {}), {
        timeout: 20,
        abortController: controller,
        failureThreshold: 5,
      });
      const seen = recorder(b);
      const timedOut = once(b, 'timeout');
      await rejectsWith(b.fire(), 'ERR_CIRCUIT_TIMEOUT');
      const [err, latency] = await timedOut;
      assert.strictEqual(err.code, 'ERR_CIRCUIT_TIMEOUT');
      assert.ok(latency > 0);
      assert.ok(controller.signal.aborted);
      assert.deepStrictEqual(seen, ['fire', 'timeout', 'failure']);
      assert.strictEqual(b.stats.timeouts, 1);
      assert.strictEqual(b.stats.failures, 1);

      let inner;
      await rejectsWith(
        b.processEvent('e', (_event, { signal }) => {
          inner = signal;
          return new Promise(() => {});
        }),
        'ERR_CIRCUIT_TIMEOUT',
      );
      assert.ok(inner.aborted);
      assert.strictEqual(inner.reason.code, 'ERR_CIRCUIT_TIMEOUT');
    });

    it('timeout: false lets a call take as long as it takes', async function () {
      const b = new CircuitBreaker(() => sleep(30).then(() => 'late'), { timeout: false });
      assert.strictEqual(await b.fire(), 'late');
    });

    it('capacity rejects calls beyond the limit with ERR_CIRCUIT_CAPACITY', async function () {
      let release;
      const gate = new Promise((r) => (release = r));
      const b = new CircuitBreaker(() => gate, { capacity: 2 });
      const first = b.fire();
      const second = b.fire();
      const rejected = once(b, 'reject');
      await rejectsWith(b.fire(), 'ERR_CIRCUIT_CAPACITY');
      assert.strictEqual((await rejected)[0].code, 'ERR_CIRCUIT_CAPACITY');
      release('ok');
      assert.deepStrictEqual(await Promise.all([first, second]), ['ok', 'ok']);
      assert.strictEqual(await b.fire(), 'ok', 'a slot is free again');
    });

    it('errorFilter: a filtered error rejects the call but is not a failure and skips the fallback', async function () {
      const notFound = Object.assign(new Error('not found'), { status: 404 });
      const b = new CircuitBreaker(
        async () => {
          throw notFound;
        },
        { failureThreshold: 1, errorFilter: (err, arg) => err.status === 404 && arg === 'id' },
      );
      let fallbackCalled = false;
      b.fallback(() => {
        fallbackCalled = true;
      });
      await assert.rejects(b.fire('id'), /not found/);
      assert.strictEqual(b.state, 'CLOSED');
      assert.strictEqual(b.stats.successes, 1);
      assert.strictEqual(fallbackCalled, false);
      // Not filtered for another argument: a failure, and the fallback answers.
      await b.fire('other');
      assert.strictEqual(fallbackCalled, true);
      assert.strictEqual(b.state, 'OPEN');
      b.shutdown();
    });

    it('fallback answers failures, timeouts and rejections with (...args, err)', async function () {
      const calls = [];
      const b = new CircuitBreaker(fail('down'), { failureThreshold: 1, resetTimeout: 60000 });
      b.fallback((...args) => {
        calls.push(args);
        return 'cached';
      });
      const fellBack = once(b, 'fallback');
      assert.strictEqual(await b.fire(1, 2), 'cached'); // failure: opens the circuit
      const [value, cause] = await fellBack;
      assert.strictEqual(value, 'cached');
      assert.match(cause.message, /down/);
      assert.strictEqual(await b.fire(3), 'cached'); // rejected while OPEN
      assert.deepStrictEqual(calls[0].slice(0, 2), [1, 2]);
      assert.match(calls[0][2].message, /down/);
      assert.strictEqual(calls[1][0], 3);
      assert.strictEqual(calls[1][1].code, 'ERR_CIRCUIT_OPEN');
      assert.strictEqual(b.stats.fallbacks, 2);

      const t = new CircuitBreaker(() => new Promise(() => {}), { timeout: 10 }).fallback(async (x, err) => `${x}:${err.code}`);
      assert.strictEqual(await t.fire('a'), 'a:ERR_CIRCUIT_TIMEOUT');

      const seed = new CircuitBreaker(1, 60000).fallback((event, err) => ({ event, code: err.code }));
      await seed.processEvent('e', fail());
      assert.deepStrictEqual(await seed.processEvent('f', ok), { event: 'f', code: 'ERR_CIRCUIT_OPEN' });
      b.shutdown();
      seed.shutdown();
    });

    it('a fallback that throws makes the call reject with its error', async function () {
      const b = new CircuitBreaker(fail(), { failureThreshold: 10 }).fallback(() => {
        throw new Error('fallback broke');
      });
      await assert.rejects(b.fire(), /fallback broke/);
      const a = new CircuitBreaker(fail(), { failureThreshold: 10 }).fallback(async () => {
        throw new Error('async fallback broke');
      });
      await assert.rejects(a.fire(), /async fallback broke/);
    });

    it('fire() without a function rejects with ERR_CIRCUIT_NO_ACTION', async function () {
      await rejectsWith(new CircuitBreaker(5, 1000).fire(), 'ERR_CIRCUIT_NO_ACTION');
      await rejectsWith(new CircuitBreaker({ timeout: 10 }).fire(), 'ERR_CIRCUIT_NO_ACTION');
    });

    it('open() and close() force the state', async function () {
      const b = new CircuitBreaker(ok, { resetTimeout: 60000 });
      const seen = recorder(b);
      b.open();
      b.open(); // no second event
      assert.strictEqual(b.state, 'OPEN');
      await rejectsWith(b.fire(1), 'ERR_CIRCUIT_OPEN');
      b.close();
      b.close();
      assert.strictEqual(b.state, 'CLOSED');
      assert.strictEqual(await b.fire(1), 1);
      assert.deepStrictEqual(seen, ['circuitOpen', 'open', 'fire', 'reject', 'circuitClosed', 'close', 'fire', 'success']);
    });
  });

  describe('AbortSignal', function () {
    it('an abort by the caller rejects with its reason and counts as neither success nor failure', async function () {
      const b = new CircuitBreaker(1, 60000);
      const ac = new AbortController();
      let inner;
      const p = b.processEvent(
        'e',
        (_e, { signal }) => {
          inner = signal;
          return new Promise(() => {});
        },
        { signal: ac.signal },
      );
      ac.abort();
      await assert.rejects(p, { name: 'AbortError' });
      assert.ok(inner.aborted);
      assert.strictEqual(b.state, 'CLOSED');
      assert.strictEqual(b.stats.failures, 0);
      assert.strictEqual(b.stats.successes, 0);
    });

    it('an already aborted signal rejects at once without calling the processor', async function () {
      const b = new CircuitBreaker();
      let called = false;
      await assert.rejects(
        b.processEvent(
          1,
          () => {
            called = true;
          },
          { signal: AbortSignal.abort() },
        ),
        { name: 'AbortError' },
      );
      assert.strictEqual(called, false);
      assert.strictEqual(b.stats.fires, 0);
    });

    it('an aborted trial call frees the HALF_OPEN slot', async function () {
      const b = new CircuitBreaker(1, 10);
      await assert.rejects(b.processEvent(0, fail()));
      await once(b, 'halfOpen');
      const ac = new AbortController();
      const trial = b.processEvent(1, () => new Promise(() => {}), { signal: ac.signal });
      ac.abort();
      await assert.rejects(trial, { name: 'AbortError' });
      assert.strictEqual(b.state, 'HALF_OPEN');
      assert.strictEqual(await b.processEvent(2, ok), 2);
      assert.strictEqual(b.state, 'CLOSED');
    });
  });

  describe('stats', function () {
    it('counts every outcome and reports latency percentiles', async function () {
      const b = new CircuitBreaker(async (ms) => sleep(ms), { failureThreshold: 100, timeout: 1000 });
      for (const ms of [1, 2, 3, 5, 8]) await b.fire(ms);
      await assert.rejects(new CircuitBreaker(fail()).fire());
      const s = b.stats;
      assert.strictEqual(s.fires, 5);
      assert.strictEqual(s.successes, 5);
      assert.strictEqual(s.failures, 0);
      assert.strictEqual(s.errorPercentage, 0);
      assert.strictEqual(s.latency.count, 5);
      assert.ok(s.latency.min > 0 && s.latency.min <= s.latency.p50);
      assert.ok(s.latency.p50 <= s.latency.p90 && s.latency.p90 <= s.latency.p99 && s.latency.p99 <= s.latency.max);
      assert.strictEqual(s.latencyMean, s.latency.mean);
      assert.ok(s.latency.mean > 0);
    });

    it('stay readable after shutdown, with the calls that finish after it', async function () {
      let release;
      const b = new CircuitBreaker(() => new Promise((r) => (release = r)), { timeout: false });
      const pending = b.fire();
      b.shutdown();
      release('late');
      assert.strictEqual(await pending, 'late');
      assert.strictEqual(b.stats.successes, 1);
    });

    it('report zero latency before any call', function () {
      const s = new CircuitBreaker(ok).stats;
      assert.deepStrictEqual(s.latency, { count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0 });
      assert.strictEqual(s.latencyMean, 0);
    });

    it('forgets what left the rolling window', async function () {
      const b = new CircuitBreaker(ok, { rollingCountTimeout: 40, rollingCountBuckets: 4 });
      await b.fire(1);
      assert.strictEqual(b.stats.fires, 1);
      await sleep(120);
      const s = b.stats;
      assert.strictEqual(s.fires, 0);
      assert.strictEqual(s.latency.count, 0);
    });
  });

  describe('#shutdown', function () {
    it('is idempotent, emits shutdown once and rejects later calls with ERR_CIRCUIT_SHUTDOWN', async function () {
      const b = new CircuitBreaker(ok);
      let n = 0;
      b.on('shutdown', () => n++);
      b.open();
      b.shutdown();
      b.shutdown();
      assert.strictEqual(n, 1);
      assert.ok(b.isShutdown);
      await rejectsWith(b.fire(), 'ERR_CIRCUIT_SHUTDOWN');
      await rejectsWith(b.processEvent(1, ok), 'ERR_CIRCUIT_SHUTDOWN');
      b.close(); // no effect after shutdown
      assert.strictEqual(b.state, 'OPEN');
      assert.strictEqual(b.stats.latency.count, 0, 'stats stay readable');
    });

    it('never keeps the process alive: OPEN circuit, pending call with a timeout', async function () {
      const r = await runNode(
        `
        const { CircuitBreaker } = require('./lib/circuit-breaker');
        const b = new CircuitBreaker(1, 60000);
        b.processEvent(0, async () => { throw new Error('x'); }).catch(() => {
          console.log(b.state);
          const c = new CircuitBreaker(() => new Promise(() => {}), { timeout: 60000 });
          c.fire();
        });
      `,
        { limit: 5000 },
      );
      assert.strictEqual(r.signal, null, 'the process had to be killed');
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout.trim(), 'OPEN');
    });
  });

  describe('options validation', function () {
    const cases = [
      [['x'], TypeError, 'ERR_INVALID_ARG_TYPE', /The "action" argument must be of type function or an options object or a number/],
      [[0], RangeError, 'ERR_OUT_OF_RANGE', /The value of "threshold" is out of range. It must be an integer >= 1. Received 0/],
      [[1.5], RangeError, 'ERR_OUT_OF_RANGE', /"threshold"/],
      [[5, -1], RangeError, 'ERR_OUT_OF_RANGE', /"timeout"/],
      [[5, 'x'], TypeError, 'ERR_INVALID_ARG_TYPE', /The "timeout" argument must be of type number/],
      [[ok, { timeout: 0 }], RangeError, 'ERR_OUT_OF_RANGE', /"options.timeout"/],
      [[ok, { timeout: true }], TypeError, 'ERR_INVALID_ARG_TYPE', /"options.timeout"/],
      [[ok, { resetTimeout: -5 }], RangeError, 'ERR_OUT_OF_RANGE', /"options.resetTimeout"/],
      [[ok, { errorThresholdPercentage: 101 }], RangeError, 'ERR_OUT_OF_RANGE', /"options.errorThresholdPercentage" is out of range. It must be a number >= 0 and <= 100/],
      [[ok, { failureThreshold: 0 }], RangeError, 'ERR_OUT_OF_RANGE', /"options.failureThreshold"/],
      [[ok, { volumeThreshold: -1 }], RangeError, 'ERR_OUT_OF_RANGE', /"options.volumeThreshold"/],
      [[ok, { rollingCountTimeout: 0 }], RangeError, 'ERR_OUT_OF_RANGE', /"options.rollingCountTimeout"/],
      [[ok, { rollingCountBuckets: 0 }], RangeError, 'ERR_OUT_OF_RANGE', /"options.rollingCountBuckets"/],
      [[ok, { rollingCountBuckets: 3 }], RangeError, 'ERR_OUT_OF_RANGE', /The value of "options.rollingCountBuckets" is out of range. It must divide options.rollingCountTimeout \(10000\). Received 3/],
      [[ok, { rollingCountTimeout: 100.5 }], RangeError, 'ERR_OUT_OF_RANGE', /"options.rollingCountTimeout"/],
      [[ok, { capacity: 0 }], RangeError, 'ERR_OUT_OF_RANGE', /"options.capacity"/],
      [[ok, { errorFilter: 1 }], TypeError, 'ERR_INVALID_ARG_TYPE', /"options.errorFilter" argument must be of type function/],
      [[ok, { abortController: {} }], TypeError, 'ERR_INVALID_ARG_TYPE', /"options.abortController" argument must be an instance of AbortController/],
      [[ok, { name: 1 }], TypeError, 'ERR_INVALID_ARG_TYPE', /"options.name"/],
      [[ok, 5], TypeError, 'ERR_INVALID_ARG_TYPE', /The "options" argument must be of type object/],
      [[null], TypeError, 'ERR_INVALID_ARG_TYPE', /"action"/],
    ];
    for (const [args, Ctor, code, message] of cases) {
      it(`rejects new CircuitBreaker(${args.map((a) => (typeof a === 'function' ? 'fn' : JSON.stringify(a))).join(', ')})`, function () {
        assert.throws(() => new CircuitBreaker(...args), (err) => {
          assert.ok(err instanceof Ctor, err);
          assert.strictEqual(err.code, code);
          assert.match(err.message, message);
          return true;
        });
      });
    }

    it('rejects a bad processor, signal or fallback', function () {
      const b = new CircuitBreaker();
      assert.throws(() => b.processEvent(1, 'nope'), { code: 'ERR_INVALID_ARG_TYPE', message: /"processor"/ });
      assert.throws(() => b.processEvent(1, ok, { signal: {} }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options.signal"/ });
      assert.throws(() => b.fallback(42), { code: 'ERR_INVALID_ARG_TYPE', message: /"fallback"/ });
    });
  });
});
