'use strict';

/**
 * `require('ferrocast/events')` is shaped like `require('events')`: the module is the
 * EventEmitter class itself and carries every static of node:events, so
 *
 *     const EventEmitter = require('ferrocast/events');
 *
 * is a one-line swap. Every ferrocast class extends this EventEmitter; it changes none of
 * node's semantics (synchronous emit, 'error' throws without a listener, newListener /
 * removeListener, captureRejections, the max-listeners warning, events.once / events.on).
 */
const events = require('node:events');

class EventEmitter extends events.EventEmitter {}

// Own copies of every static of node:events (functions, symbols, accessors such as
// defaultMaxListeners and captureRejections), so that property lookups, destructuring and
// `Object.keys` see what they see on node:events. `EventEmitter` points at this class.
const skip = new Set(['length', 'name', 'prototype', 'EventEmitter', 'arguments', 'caller']);
for (const key of Reflect.ownKeys(events)) {
  if (skip.has(key)) continue;
  const desc = Object.getOwnPropertyDescriptor(events, key);
  Object.defineProperty(EventEmitter, key, desc);
}
Object.defineProperty(EventEmitter, 'EventEmitter', {
  value: EventEmitter,
  writable: true,
  enumerable: true,
  configurable: true,
});

module.exports = EventEmitter;
