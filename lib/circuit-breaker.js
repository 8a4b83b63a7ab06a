'use strict';

/**
 * CircuitBreaker: stops calling a failing dependency for a while, then lets one trial call
 * through to see whether it has recovered.
 *
 * Two ways to make one:
 *
 *     new CircuitBreaker(threshold = 5, timeout = 60000)   // the seed's EventCircuitBreaker
 *     breaker.processEvent(event, processor)
 *
 *     new CircuitBreaker(fn, options)                      // what opossum users expect
 *     breaker.fire(...args); breaker.fallback(fn)
 *
 * States: CLOSED (calls go through) -> OPEN when the failures in the rolling window reach the
 * threshold (calls are rejected with ERR_CIRCUIT_OPEN) -> HALF_OPEN after `resetTimeout` ms (one
 * trial call goes through; the others are rejected) -> CLOSED if the trial succeeds, OPEN again if
 * it fails.
 *
 * Events: 'fire' (args), 'success' (result, latencyMs), 'failure' (err, latencyMs, args),
 * 'timeout' (err, latencyMs, args), 'reject' (err), 'fallback' (result, err),
 * 'circuitOpen' and 'open', 'halfOpen' (resetTimeout), 'circuitClosed' and 'close',
 * 'shutdown'. The breaker never emits 'error'.
 *
 * Statistics (`stats`) cover the last `rollingCountTimeout` ms; counts are running totals and
 * latencies come from a MetricWindow (an unref'd one), so reading them is O(1) in the number of
 * calls. The reset timer and per-call timers are unref'd: a breaker never keeps the process alive.
 */

const EventEmitter = require('../events');
const { MetricWindow } = require('./metric-window');
const { RollingCounts } = require('./rolling-counts');
const {
  codedError,
  invalidType,
  validateFunction,
  validateNumber,
  validateObject,
  validateString,
} = require('./validate');

const CLOSED = 'CLOSED';
const OPEN = 'OPEN';
const HALF_OPEN = 'HALF_OPEN';
// Counter indexes. The last two are what the thresholds look at: cleared when the circuit closes.
const FIRES = 0;
const SUCCESSES = 1;
const FAILURES = 2;
const TIMEOUTS = 3;
const REJECTS = 4;
const FALLBACKS = 5;
const HEALTH_SUCCESSES = 6;
const HEALTH_FAILURES = 7;
const COUNTERS = ['fires', 'successes', 'failures', 'timeouts', 'rejects', 'fallbacks', 'healthSuccesses', 'healthFailures'];
const MAX_TIMER = 2 ** 31 - 1;
const NO_LATENCY = { count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0 };

function resolveOptions(first, second) {
  // new CircuitBreaker(threshold = 5, timeout = 60000): the seed's signature.
  if (first === undefined || typeof first === 'number') {
    const failureThreshold = validateNumber(first ?? 5, 'threshold', { min: 1, integer: true });
    const resetTimeout = validateNumber(second ?? 60000, 'timeout', { min: 0, max: MAX_TIMER });
    return { fn: null, options: { failureThreshold, resetTimeout, timeout: false } };
  }
  if (typeof first === 'function') {
    return { fn: first, options: validateObject(second ?? {}, 'options') };
  }
  if (first === null || typeof first !== 'object' || Array.isArray(first)) {
    throw invalidType('action', 'of type function or an options object or a number', first);
  }
  return { fn: null, options: first };
}

class CircuitBreaker extends EventEmitter {
  /**
   * @param {Function|number|object} [action] the function `fire()` calls; or the seed's
   *   `threshold` (failures in the rolling window that open the circuit, default 5); or options.
   * @param {object|number} [options] options; or the seed's `timeout` (ms the circuit stays OPEN,
   *   default 60000).
   * @param {number|false} [options.timeout=10000] ms a call may take before it fails with
   *   ERR_CIRCUIT_TIMEOUT; false: no limit. (The seed's signature has no call timeout.)
   * @param {number} [options.resetTimeout=30000] ms the circuit stays OPEN before a trial call.
   * @param {number} [options.errorThresholdPercentage=50] failure percentage over the rolling
   *   window that opens the circuit. Off when only `failureThreshold` is given.
   * @param {number} [options.failureThreshold] number of failures in the rolling window that
   *   opens the circuit. Off by default (the seed's signature sets it to `threshold`).
   * @param {number} [options.volumeThreshold=0] calls needed in the window before it may open.
   * @param {number} [options.rollingCountTimeout=10000] ms covered by counts and latencies.
   * @param {number} [options.rollingCountBuckets=10] buckets in that window; must divide it.
   * @param {number} [options.capacity=Infinity] calls allowed in flight at once; more are
   *   rejected with ERR_CIRCUIT_CAPACITY.
   * @param {Function} [options.errorFilter] `(err, ...args) => boolean`: true means the error
   *   does not count as a failure (the call still rejects with it, and no fallback runs).
   * @param {AbortController} [options.abortController] aborted when a call times out.
   * @param {string} [options.name] defaults to the function's name, or 'circuit'.
   */
  constructor(action, options) {
    super();
    const { fn, options: o } = resolveOptions(action, options);
    const opts = {
      name: o.name === undefined ? (fn && fn.name) || 'circuit' : validateString(o.name, 'options.name'),
      timeout: 10000,
      resetTimeout: validateNumber(o.resetTimeout ?? 30000, 'options.resetTimeout', { min: 0, max: MAX_TIMER }),
      errorThresholdPercentage: undefined,
      failureThreshold: undefined,
      volumeThreshold: validateNumber(o.volumeThreshold ?? 0, 'options.volumeThreshold', { min: 0, integer: true }),
      rollingCountTimeout: validateNumber(o.rollingCountTimeout ?? 10000, 'options.rollingCountTimeout', {
        min: 1,
        max: MAX_TIMER,
        integer: true,
      }),
      rollingCountBuckets: validateNumber(o.rollingCountBuckets ?? 10, 'options.rollingCountBuckets', {
        min: 1,
        max: 1000,
        integer: true,
      }),
      capacity: validateNumber(o.capacity ?? Infinity, 'options.capacity', { min: 1 }),
      errorFilter: o.errorFilter === undefined ? null : validateFunction(o.errorFilter, 'options.errorFilter'),
      abortController: null,
    };
    if (opts.rollingCountTimeout % opts.rollingCountBuckets !== 0) {
      throw codedError(
        RangeError,
        'ERR_OUT_OF_RANGE',
        `The value of "options.rollingCountBuckets" is out of range. It must divide options.rollingCountTimeout (${opts.rollingCountTimeout}). Received ${opts.rollingCountBuckets}`,
      );
    }
    if (o.timeout === false) opts.timeout = false;
    else if (o.timeout !== undefined) opts.timeout = validateNumber(o.timeout, 'options.timeout', { min: 1, max: MAX_TIMER });
    if (o.failureThreshold !== undefined) {
      opts.failureThreshold = validateNumber(o.failureThreshold, 'options.failureThreshold', { min: 1, integer: true });
    }
    if (o.errorThresholdPercentage !== undefined) {
      opts.errorThresholdPercentage = validateNumber(o.errorThresholdPercentage, 'options.errorThresholdPercentage', {
        min: 0,
        max: 100,
      });
    } else if (opts.failureThreshold === undefined) {
      opts.errorThresholdPercentage = 50;
    }
    if (o.abortController !== undefined) {
      if (!(o.abortController instanceof AbortController)) {
        throw invalidType('options.abortController', 'an instance of AbortController', o.abortController);
      }
      opts.abortController = o.abortController;
    }

    /** The resolved options (read-only). */
    this.options = Object.freeze(opts);
    /** The breaker's name (for logs). */
    this.name = opts.name;
    this._fn = fn;
    this._fallbackFn = null;
    this._state = CLOSED;
    this._trialInFlight = false;
    this._openedAt = 0;
    this._resetTimer = null;
    this._active = 0;
    this._shutdown = false;
    this._lastFailure = null;
    this._finalLatency = null;
    this._counts = new RollingCounts(COUNTERS, opts.rollingCountTimeout, opts.rollingCountBuckets);
    // Unref'd: a breaker never keeps the process alive.
    this._latency = new MetricWindow({
      window: opts.rollingCountTimeout,
      slide: opts.rollingCountTimeout / opts.rollingCountBuckets,
      percentiles: [50, 90, 99, 99.9],
    }).unref();
  }

  /** 'CLOSED', 'OPEN' or 'HALF_OPEN'. */
  get state() {
    return this._state;
  }

  /** True while OPEN. */
  get opened() {
    return this._state === OPEN;
  }

  /** True while CLOSED. */
  get closed() {
    return this._state === CLOSED;
  }

  /** True while HALF_OPEN. */
  get halfOpen() {
    return this._state === HALF_OPEN;
  }

  /** True after shutdown(). */
  get isShutdown() {
    return this._shutdown;
  }

  /** Failures (including timeouts) in the rolling window since the circuit last closed. */
  get failures() {
    return this._counts.get(HEALTH_FAILURES);
  }

  /** Time (ms since the epoch) of the last failure, or null. */
  get lastFailure() {
    return this._lastFailure;
  }

  /**
   * Rolling-window statistics: `{ fires, successes, failures, timeouts, rejects, fallbacks,
   * errorPercentage, latencyMean, latency: { count, min, max, mean, p50, p90, p99, p999 } }`.
   * Failures include timeouts; errorPercentage is failures / (successes + failures) * 100.
   * Latencies (ms) cover calls that ran, successful or not. O(1) to read.
   */
  get stats() {
    this._counts.advance();
    const t = this._counts.totals;
    const ran = t[SUCCESSES] + t[FAILURES];
    const l = (this._shutdown ? this._finalLatency : this._latency.snapshot()) ?? NO_LATENCY;
    return {
      fires: t[FIRES],
      successes: t[SUCCESSES],
      failures: t[FAILURES],
      timeouts: t[TIMEOUTS],
      rejects: t[REJECTS],
      fallbacks: t[FALLBACKS],
      errorPercentage: ran === 0 ? 0 : (t[FAILURES] * 100) / ran,
      latencyMean: l.mean,
      latency: { count: l.count, min: l.min, max: l.max, mean: l.mean, p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p999 },
    };
  }

  /**
   * Sets the function that answers instead when a call is rejected, times out or fails. It gets
   * the call's arguments followed by the error; its result (or promise) becomes the call's result.
   * If it throws, the call rejects with what it threw. Returns this.
   */
  fallback(fn) {
    this._fallbackFn = validateFunction(fn, 'fallback');
    return this;
  }

  /**
   * Calls the breaker's function with `args` through the breaker. Resolves with its result (or
   * the fallback's); rejects with its error, ERR_CIRCUIT_OPEN, ERR_CIRCUIT_TIMEOUT,
   * ERR_CIRCUIT_CAPACITY or ERR_CIRCUIT_SHUTDOWN.
   */
  fire(...args) {
    return this.call(undefined, ...args);
  }

  /** Like fire(), with `this` set to `context` inside the function. */
  call(context, ...args) {
    if (this._fn === null) {
      return Promise.reject(
        codedError(
          TypeError,
          'ERR_CIRCUIT_NO_ACTION',
          'This circuit breaker has no function to fire: create it with new CircuitBreaker(fn, options), or use processEvent(event, processor)',
        ),
      );
    }
    return this._run(this._fn, context, args, args, null);
  }

  /**
   * The seed's API: runs `processor(event, { signal })` through the breaker and resolves with its
   * result. `signal` aborts when the call times out or when `options.signal` aborts; an abort by
   * the caller rejects with the signal's reason and counts neither as success nor as failure.
   */
  processEvent(event, processor, options = {}) {
    validateFunction(processor, 'processor');
    validateObject(options, 'options');
    const outer = options.signal;
    if (outer !== undefined && !(outer instanceof AbortSignal)) {
      throw invalidType('options.signal', 'an instance of AbortSignal', outer);
    }
    const inner = new AbortController();
    return this._run(processor, undefined, [event, { signal: inner.signal }], [event], outer ?? null, inner);
  }

  /** Opens the circuit now (it goes HALF_OPEN after resetTimeout). */
  open() {
    if (this._shutdown) return;
    this._toOpen();
  }

  /** Closes the circuit now and clears the counts the thresholds look at (not `stats`). */
  close() {
    if (this._shutdown) return;
    this._toClosed();
  }

  /** The seed's name for close(). */
  reset() {
    this.close();
  }

  /** The seed's API: counts one failure now (and opens the circuit if that reaches the threshold). */
  recordFailure() {
    this._counts.add(FAILURES, HEALTH_FAILURES);
    this._lastFailure = Date.now();
    if (this._state === HALF_OPEN) this._toOpen();
    else if (this._state === CLOSED) this._check();
  }

  /**
   * Stops the breaker for good: clears its timer; later calls reject with ERR_CIRCUIT_SHUTDOWN.
   * Emits 'shutdown' once. Idempotent.
   */
  shutdown() {
    if (this._shutdown) return;
    this._shutdown = true;
    this._clearResetTimer();
    this._finalLatency = this._latency.snapshot();
    this._latency.close();
    this.emit('shutdown');
  }

  _run(fn, context, args, fallbackArgs, outer, inner = null) {
    if (this._shutdown) {
      return Promise.reject(codedError(Error, 'ERR_CIRCUIT_SHUTDOWN', `Circuit breaker "${this.name}" has been shut down`));
    }
    if (outer !== null && outer.aborted) return Promise.reject(outer.reason);
    this._counts.add(FIRES);
    this.emit('fire', fallbackArgs);

    // The reset timer may be late (a busy loop); the due time decides.
    if (this._state === OPEN && Date.now() - this._openedAt >= this.options.resetTimeout) this._toHalfOpen();
    if (this._state === OPEN || (this._state === HALF_OPEN && this._trialInFlight)) {
      const wait = Math.max(0, this._openedAt + this.options.resetTimeout - Date.now());
      const message =
        this._state === OPEN
          ? `Circuit breaker is OPEN: "${this.name}" rejects calls for ${wait} ms more`
          : `Circuit breaker is OPEN: "${this.name}" is HALF_OPEN and its trial call is still running`;
      return this._reject(codedError(Error, 'ERR_CIRCUIT_OPEN', message), fallbackArgs);
    }
    if (this._active >= this.options.capacity) {
      const err = codedError(
        Error,
        'ERR_CIRCUIT_CAPACITY',
        `Circuit breaker "${this.name}" is at capacity: ${this.options.capacity} calls in flight`,
      );
      return this._reject(err, fallbackArgs);
    }

    const trial = this._state === HALF_OPEN;
    if (trial) this._trialInFlight = true;
    this._active += 1;
    const start = performance.now();

    if (this.options.timeout === false && outer === null) {
      // Nothing can settle the call but the function itself: no race to arbitrate.
      let pending;
      try {
        pending = fn.apply(context, args);
      } catch (err) {
        pending = Promise.reject(err);
      }
      return Promise.resolve(pending).then(
        (result) => {
          this._active -= 1;
          if (trial) this._trialInFlight = false;
          this._succeeded(performance.now() - start, result, trial);
          return result;
        },
        (err) => {
          this._active -= 1;
          if (trial) this._trialInFlight = false;
          return this._afterError(err, performance.now() - start, fallbackArgs, trial, false);
        },
      );
    }

    return new Promise((resolve, reject) => {
      let settled = false;
      let timer = null;
      const finish = () => {
        settled = true;
        this._active -= 1;
        if (timer !== null) clearTimeout(timer);
        if (outer !== null) outer.removeEventListener('abort', onAbort);
        if (trial) this._trialInFlight = false;
        return performance.now() - start;
      };
      const onAbort = () => {
        if (settled) return;
        finish();
        if (inner !== null) inner.abort(outer.reason);
        reject(outer.reason);
      };
      const failed = (err, latency, isTimeout) => {
        this._afterError(err, latency, fallbackArgs, trial, isTimeout).then(resolve, reject);
      };

      if (outer !== null) outer.addEventListener('abort', onAbort, { once: true });
      if (this.options.timeout !== false) {
        timer = setTimeout(() => {
          if (settled) return;
          const latency = finish();
          const err = codedError(
            Error,
            'ERR_CIRCUIT_TIMEOUT',
            `Circuit breaker "${this.name}": the call timed out after ${this.options.timeout} ms`,
          );
          if (inner !== null) inner.abort(err);
          if (this.options.abortController !== null) this.options.abortController.abort(err);
          failed(err, latency, true);
        }, this.options.timeout);
        timer.unref();
      }

      let pending;
      try {
        pending = fn.apply(context, args);
      } catch (err) {
        pending = Promise.reject(err);
      }
      Promise.resolve(pending).then(
        (result) => {
          if (settled) return;
          const latency = finish();
          resolve(result);
          this._succeeded(latency, result, trial);
        },
        (err) => {
          if (settled) return;
          failed(err, finish(), false);
        },
      );
    });
  }

  // A failed call: counts it (unless errorFilter says it is not a failure) and returns what the
  // call settles with: the fallback's promise, or a rejection with the error.
  _afterError(err, latency, fallbackArgs, trial, isTimeout) {
    if (!isTimeout && this.options.errorFilter !== null && this.options.errorFilter(err, ...fallbackArgs)) {
      this._succeeded(latency, err, trial);
      return Promise.reject(err);
    }
    const fb = this._fallback(err, fallbackArgs);
    this._failed(err, latency, fallbackArgs, trial, isTimeout);
    return fb === null ? Promise.reject(err) : fb;
  }

  _reject(err, fallbackArgs) {
    this._counts.add(REJECTS);
    const fb = this._fallback(err, fallbackArgs);
    this.emit('reject', err);
    return fb === null ? Promise.reject(err) : fb;
  }

  // Runs the fallback; null when there is none.
  _fallback(err, args) {
    const fn = this._fallbackFn;
    if (fn === null) return null;
    let pending;
    try {
      pending = fn(...args, err);
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.resolve(pending).then((result) => {
      this._counts.add(FALLBACKS);
      this.emit('fallback', result, err);
      return result;
    });
  }

  _succeeded(latency, result, trial) {
    this._counts.add(SUCCESSES, HEALTH_SUCCESSES);
    if (!this._shutdown) this._latency.record(latency);
    this.emit('success', result, latency);
    if (trial && this._state === HALF_OPEN) this._toClosed();
  }

  _failed(err, latency, args, trial, isTimeout) {
    this._counts.add(FAILURES, HEALTH_FAILURES);
    if (isTimeout) this._counts.add(TIMEOUTS);
    if (!this._shutdown) this._latency.record(latency);
    this._lastFailure = Date.now();
    if (isTimeout) this.emit('timeout', err, latency, args);
    this.emit('failure', err, latency, args);
    if (trial && this._state === HALF_OPEN) this._toOpen();
    else if (this._state === CLOSED) this._check();
  }

  // Opens the circuit when the rolling window has reached a threshold.
  _check() {
    const failures = this._counts.get(HEALTH_FAILURES);
    const ran = failures + this._counts.get(HEALTH_SUCCESSES);
    const o = this.options;
    if (ran < o.volumeThreshold) return;
    if (
      (o.failureThreshold !== undefined && failures >= o.failureThreshold) ||
      (o.errorThresholdPercentage !== undefined && (failures * 100) / ran >= o.errorThresholdPercentage)
    ) {
      this._toOpen();
    }
  }

  _toOpen() {
    const was = this._state;
    this._state = OPEN;
    this._openedAt = Date.now();
    this._clearResetTimer();
    this._resetTimer = setTimeout(() => {
      this._resetTimer = null;
      if (this._state === OPEN) this._toHalfOpen();
    }, this.options.resetTimeout);
    this._resetTimer.unref();
    if (was !== OPEN) {
      this.emit('circuitOpen');
      this.emit('open');
    }
  }

  _toHalfOpen() {
    this._clearResetTimer();
    this._state = HALF_OPEN;
    this._trialInFlight = false;
    this.emit('halfOpen', this.options.resetTimeout);
  }

  _toClosed() {
    const was = this._state;
    this._clearResetTimer();
    this._state = CLOSED;
    this._trialInFlight = false;
    this._counts.reset([HEALTH_SUCCESSES, HEALTH_FAILURES]);
    if (was !== CLOSED) {
      this.emit('circuitClosed');
      this.emit('close');
    }
  }

  _clearResetTimer() {
    if (this._resetTimer !== null) {
      clearTimeout(this._resetTimer);
      this._resetTimer = null;
    }
  }
}

CircuitBreaker.CLOSED = CLOSED;
CircuitBreaker.OPEN = OPEN;
CircuitBreaker.HALF_OPEN = HALF_OPEN;

module.exports = { CircuitBreaker };
