// The seed's "Event Aggregation" example, run against ferrocast: only the require line differs
// (the seed defines EventAggregator itself on top of require('events')).
//
//   node examples/event-aggregation.js
//
// The last lines (marked) emit the two events so the example has something to show.
'use strict';

const { EventAggregator } = require('ferrocast');

// Usage
const aggregator = new EventAggregator();

aggregator.waitForEvents(['userLoggedIn', 'dataLoaded'], (eventData) => {
    console.log('All events received:', eventData);
    // Now we have both user login and data loaded
});

// --- not in the seed: fire the events ---
aggregator.emit('userLoggedIn', { user: 'ada' });
aggregator.emit('dataLoaded', { rows: 3 });
