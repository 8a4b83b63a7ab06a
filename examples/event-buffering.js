// The seed's "Event Buffering" example, run against ferrocast: only the require line differs
// (the seed defines EventBuffer itself on top of require('events')).
//
//   node examples/event-buffering.js
//
// The last lines (marked) add a burst of events; the buffer flushes them 500 ms after the last
// one, then the process exits by itself (an idle buffer does not hold the event loop).
'use strict';

const { EventBuffer } = require('ferrocast');

// Usage
const buffer = new EventBuffer(500); // 500ms delay

buffer.on('bufferFlush', (events) => {
    console.log('Processing batch:', events.length, 'events');
    // Process all events at once
});

// --- not in the seed: a burst of 25 events, 10 ms apart ---
let n = 0;
const timer = setInterval(() => {
    buffer.add({ id: n++ });
    if (n === 25) clearInterval(timer);
}, 10);
