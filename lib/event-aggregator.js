'use strict';

/**
 * EventAggregator: waits until each of several events has fired at least once, then hands over
 * `{ [name]: data }` (the first payload of each). The seed's EventAggregator, plus a Promise form
 * with a timeout and an AbortSignal. Pure JS: it is listener bookkeeping, nothing to move to Rust.
 *
 * No listener is left behind on any path: success, timeout, abort (each removes every listener
 * it added and clears its timer).
 */

const EventEmitter = require('../events');
const {
  codedError,
  invalidType,
  validateFunction,
  validateNumber,
  validateObject,
} = require('./validate');

function abortError(signal) {
  const err = new Error('The operation was aborted', { cause: signal.reason });
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err;
}

class EventAggregator extends EventEmitter {
  constructor(options) {
    super(options);
    /** Kept from the seed, where it is declared and unused. */
    this.events = {};
  }

  /**
   * Resolves once every event in `eventNames` has been emitted at least once.
   *
   * `waitForEvents(names, callback)`: the seed's form; calls `callback(eventData)` once.
   * `waitForEvents(names[, options])`: returns a Promise of `eventData`.
   *
   * @param {Array<string|symbol>} eventNames
   * @param {Function | object} [callbackOrOptions]
   * @param {number} [callbackOrOptions.timeout] ms; rejects with code ERR_AGGREGATE_TIMEOUT
   * @param {AbortSignal} [callbackOrOptions.signal] rejects with an AbortError when aborted
   * @returns {Promise<object> | undefined} undefined when a callback is given
   */
  waitForEvents(eventNames, callbackOrOptions, maybeOptions) {
    if (!Array.isArray(eventNames)) throw invalidType('eventNames', 'an instance of Array', eventNames);
    for (let i = 0; i < eventNames.length; i++) {
      const n = eventNames[i];
      if (typeof n !== 'string' && typeof n !== 'symbol') {
        throw invalidType(`eventNames[${i}]`, 'of type string or symbol', n);
      }
    }
    let callback = null;
    let options = maybeOptions;
    if (typeof callbackOrOptions === 'function') callback = callbackOrOptions;
    else if (callbackOrOptions !== undefined) options = callbackOrOptions;
    if (maybeOptions !== undefined && callback === null) validateFunction(callbackOrOptions, 'callback');
    const { timeout, signal } = validateWaitOptions(options);

    if (callback !== null) {
      this._wait(eventNames, timeout, signal, (err, data) => {
        if (err) this.emit('error', err);
        else callback(data);
      });
      return undefined;
    }
    return new Promise((resolve, reject) => {
      this._wait(eventNames, timeout, signal, (err, data) => (err ? reject(err) : resolve(data)));
    });
  }

  _wait(eventNames, timeout, signal, done) {
    const names = [...new Set(eventNames)];
    const eventData = {};
    const listeners = new Map();
    let remaining = names.length;
    let timer = null;
    let settled = false;

    const cleanup = () => {
      settled = true;
      for (const [name, fn] of listeners) this.removeListener(name, fn);
      listeners.clear();
      if (timer !== null) clearTimeout(timer);
      if (signal) signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      if (settled) return;
      cleanup();
      done(abortError(signal));
    };

    if (signal && signal.aborted) {
      process.nextTick(() => done(abortError(signal)));
      return;
    }
    if (remaining === 0) {
      process.nextTick(() => done(null, eventData));
      return;
    }
    for (const name of names) {
      const fn = (data) => {
        if (settled) return;
        this.removeListener(name, fn);
        listeners.delete(name);
        eventData[name] = data;
        if (--remaining === 0) {
          cleanup();
          done(null, eventData);
        }
      };
      listeners.set(name, fn);
      this.on(name, fn);
    }
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        if (settled) return;
        const missing = names.filter((n) => !(n in eventData)).map(String);
        cleanup();
        done(
          codedError(
            Error,
            'ERR_AGGREGATE_TIMEOUT',
            `waitForEvents timed out after ${timeout} ms waiting for: ${missing.join(', ')}`,
          ),
        );
      }, timeout);
    }
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  }
}

function validateWaitOptions(options) {
  if (options === undefined) return {};
  validateObject(options, 'options');
  const out = {};
  if (options.timeout !== undefined) {
    out.timeout = validateNumber(options.timeout, 'options.timeout', { min: 0, max: 2 ** 31 - 1 });
  }
  if (options.signal !== undefined) {
    const s = options.signal;
    if (s === null || typeof s !== 'object' || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
      throw invalidType('options.signal', 'an instance of AbortSignal', s);
    }
    out.signal = s;
  }
  return out;
}

module.exports = { EventAggregator };
