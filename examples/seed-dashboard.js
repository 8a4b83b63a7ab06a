'use strict';

// The seed's "Building a Real-Time Dashboard" usage, against ferrocast.
//   Run: node examples/seed-dashboard.js    then open http://localhost:3000/ (Ctrl+C to stop)
// For the dashboard with a demo workload, run `npm start` (examples/dashboard.js).

const { RealTimeDashboard } = require('ferrocast'); // was: const EventEmitter = require('events'); const WebSocket = require('ws'); class RealTimeDashboard ...

// Usage
// eslint-disable-next-line no-unused-vars -- the seed's line, verbatim
const dashboard = new RealTimeDashboard(3000);
console.log('Dashboard running on port 3000');
