'use strict';

/**
 * Debugging helpers for event emitters, from the seed's "Debugging Real-Time Events":
 *
 *   debugEvent(emitter, name | '*', { logger, trace })  logs each emit; returns restore()
 *   monitorListeners(emitter, { interval, threshold, logger })  logs listener counts, warns on
 *       growth; returns stop()
 *   traceEvents(emitter)  counts emits per event; returns { stats(), reset(), stop() }
 *
 * They work on any object with an `emit` method (node's EventEmitter, ferrocast's classes).
 * Wrapping is done on the instance, never on a prototype, and undone exactly: restore() puts the
 * instance back as it was (or, when something else wrapped `emit` on top since, turns this wrapper
 * into a pass-through so the other wrapper keeps working). Timers are unref'd: a monitor never
 * keeps the process alive.
 */

const { invalidType, validateBoolean, validateNumber, validateObject } = require('./validate');

function validateEmitter(emitter) {
  if (emitter === null || typeof emitter !== 'object' || typeof emitter.emit !== 'function') {
    throw invalidType('emitter', 'an instance of EventEmitter', emitter);
  }
}

function validateLogger(logger, name) {
  if (logger === null || typeof logger !== 'object' || typeof logger.log !== 'function') {
    throw invalidType(name, 'an object with a log method (like console)', logger);
  }
}

/** Replaces emitter.emit with a wrapper calling hook(event, args) first; returns restore(). */
function wrapEmit(emitter, hook) {
  const hadOwn = Object.prototype.hasOwnProperty.call(emitter, 'emit');
  const ownValue = hadOwn ? emitter.emit : undefined;
  const original = emitter.emit;
  let active = true;
  const wrapper = function emit(event, ...args) {
    if (active) hook(event, args);
    return original.call(this, event, ...args);
  };
  emitter.emit = wrapper;
  return function restore() {
    if (!active) return;
    active = false;
    if (emitter.emit === wrapper) {
      if (hadOwn) emitter.emit = ownValue;
      else delete emitter.emit;
    }
  };
}

function label(event) {
  return typeof event === 'symbol' ? event.toString() : String(event);
}

/**
 * Logs `[DEBUG] Event "name" emitted with args: [...]` through `logger.log` each time `eventName`
 * is emitted (every event for '*'), and a stack trace when `trace` is true (`logger.trace`, or the
 * stack through `logger.log` when the logger has no trace method).
 *
 * @param {EventEmitter} emitter
 * @param {string|symbol} eventName an event name, or '*' for every event
 * @param {object} [options]
 * @param {{ log: Function, trace?: Function }} [options.logger=console]
 * @param {boolean} [options.trace=false]
 * @returns {() => void} restore: puts `emitter.emit` back; idempotent
 */
function debugEvent(emitter, eventName, options = {}) {
  validateEmitter(emitter);
  if (typeof eventName !== 'string' && typeof eventName !== 'symbol') {
    throw invalidType('eventName', 'of type string or symbol', eventName);
  }
  validateObject(options, 'options');
  const logger = options.logger ?? console;
  validateLogger(logger, 'options.logger');
  const trace = validateBoolean(options.trace ?? false, 'options.trace');
  const all = eventName === '*';
  return wrapEmit(emitter, (event, args) => {
    if (!all && event !== eventName) return;
    logger.log(`[DEBUG] Event "${label(event)}" emitted with args:`, args);
    if (trace) {
      if (typeof logger.trace === 'function') logger.trace('Stack trace:');
      else logger.log(new Error('Stack trace:').stack.replace(/^Error: /, ''));
    }
  });
}

/**
 * Every `interval` ms, logs the listener count of each event (`Event listener count:` then
 * ` - name: n` lines, through `logger.log`) and warns (`logger.warn`, else `logger.log`) when an
 * event's count has grown on `threshold` checks in a row: the usual sign of a listener leak. The
 * counts at the time of the call are the baseline. The timer is unref'd.
 *
 * @param {EventEmitter} emitter
 * @param {object} [options]
 * @param {number} [options.interval=5000] ms between checks
 * @param {number} [options.threshold=3] consecutive growing checks before a warning (and again
 *   after each further `threshold` growing checks)
 * @param {{ log: Function, warn?: Function }} [options.logger=console]
 * @returns {() => void} stop: clears the timer; idempotent
 */
function monitorListeners(emitter, options = {}) {
  validateEmitter(emitter);
  if (typeof emitter.eventNames !== 'function' || typeof emitter.listenerCount !== 'function') {
    throw invalidType('emitter', 'an instance of EventEmitter', emitter);
  }
  validateObject(options, 'options');
  const interval = validateNumber(options.interval ?? 5000, 'options.interval', { min: 1, max: 2 ** 31 - 1 });
  const threshold = validateNumber(options.threshold ?? 3, 'options.threshold', { min: 1, integer: true });
  const logger = options.logger ?? console;
  validateLogger(logger, 'options.logger');
  const warn = typeof logger.warn === 'function' ? logger.warn.bind(logger) : logger.log.bind(logger);

  // name -> { count, streak (consecutive growing checks), from (count when the streak began) }
  const seen = new Map();
  for (const name of emitter.eventNames()) {
    const count = emitter.listenerCount(name);
    seen.set(name, { count, streak: 0, from: count });
  }

  const check = () => {
    const names = emitter.eventNames();
    logger.log('Event listener count:');
    const present = new Set(names);
    for (const name of names) {
      const count = emitter.listenerCount(name);
      logger.log(` - ${label(name)}: ${count}`);
      const prev = seen.get(name);
      let next;
      if (prev !== undefined && count > prev.count) {
        next = { count, streak: prev.streak + 1, from: prev.streak === 0 ? prev.count : prev.from };
      } else if (prev === undefined && count > 0) {
        next = { count, streak: 1, from: 0 };
      } else {
        next = { count, streak: 0, from: count };
      }
      seen.set(name, next);
      if (next.streak > 0 && next.streak % threshold === 0) {
        warn(
          `[monitorListeners] possible listener leak: "${label(name)}" listeners grew on ${next.streak} checks in a row (${next.from} -> ${count})`,
        );
      }
    }
    for (const name of seen.keys()) if (!present.has(name)) seen.delete(name);
  };

  const timer = setInterval(check, interval);
  timer.unref();
  let stopped = false;
  return function stop() {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
  };
}

/**
 * Counts every emit per event from now on. Returns a tracer:
 *   stats()  -> { [eventName]: { count, rate } }, rate in emits per second since the start (or
 *               the last reset)
 *   reset()  zeroes the counts and restarts the clock
 *   stop()   puts `emitter.emit` back (the counts stay readable); idempotent
 *
 * @param {EventEmitter} emitter
 */
function traceEvents(emitter) {
  validateEmitter(emitter);
  let counts = new Map();
  let since = performance.now();
  let stoppedAt = null;
  const restore = wrapEmit(emitter, (event) => {
    counts.set(event, (counts.get(event) ?? 0) + 1);
  });
  return {
    stats() {
      const seconds = Math.max(((stoppedAt ?? performance.now()) - since) / 1000, 1e-3);
      const out = {};
      for (const [event, count] of counts) out[event] = { count, rate: count / seconds };
      return out;
    },
    reset() {
      counts = new Map();
      since = performance.now();
      if (stoppedAt !== null) stoppedAt = since;
    },
    stop() {
      if (stoppedAt !== null) return;
      stoppedAt = performance.now();
      restore();
    },
  };
}

module.exports = { debugEvent, monitorListeners, traceEvents };
