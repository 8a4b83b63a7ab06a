'use strict';

// The seed's debugging helpers, from ferrocast.   Run: node examples/debugging.js
//
// The seed's usage, with the helpers imported instead of written out: debugEvent logs every emit
// of one event, monitorListeners logs listener counts (and warns when they keep growing),
// traceEvents counts emits per event.

const { EventEmitter, debugEvent, monitorListeners, traceEvents } = require('ferrocast'); // was: require('events') and the seed's functions

// Usage (the seed's)
const emitter = new EventEmitter();
debugEvent(emitter, 'importantEvent');

// Monitor event listener count
const stop = monitorListeners(emitter, { interval: 100, threshold: 3 });

const trace = traceEvents(emitter);
emitter.on('importantEvent', () => {});
emitter.emit('importantEvent', { id: 1 });

// A leak: one more 'tick' listener every 100 ms, never removed.
let n = 0;
const leak = setInterval(() => {
  emitter.on('tick', () => {});
  emitter.emit('tick', ++n);
  if (n === 5) {
    clearInterval(leak);
    stop();
    console.log('emits per event:', trace.stats());
    trace.stop();
  }
}, 100);
