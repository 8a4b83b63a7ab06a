'use strict';

// The live dashboard with a demo workload, so the charts move.
//
//   npm start                      # http://localhost:3000/
//   PORT=8080 npm start            # another port; HOST=127.0.0.1 to listen on loopback only
//
// The workload is real traffic on this machine: an HTTP API on 127.0.0.1 whose handler takes a
// few ms (sometimes much longer), a client calling it at a rate that rises and falls, demo users
// that join and leave the dashboard's own WebSocket and send it messages, and a few app metrics
// recorded with dashboard.record(). Ctrl+C (SIGINT) or SIGTERM stops everything and exits.

const http = require('node:http');
const WebSocket = require('../ws'); // demo users' client
const { RealTimeDashboard } = require('ferrocast');

const port = process.env.PORT === undefined ? 3000 : Number(process.env.PORT);
const host = process.env.HOST || undefined;

const dashboard = new RealTimeDashboard({ port, host });
const timers = new Set();
const every = (ms, fn) => {
  const t = setInterval(fn, ms);
  timers.add(t);
  return t;
};

// --- an HTTP API whose response times the dashboard tracks ---------------------------------------
const api = http.createServer((req, res) => {
  // Mostly quick, with a long tail: 5-40 ms, and 1 call in 25 takes 80-250 ms.
  const slow = Math.random() < 0.04;
  const ms = slow ? 80 + Math.random() * 170 : 5 + Math.random() ** 2 * 35;
  const t = setTimeout(() => {
    timers.delete(t);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  }, ms);
  timers.add(t);
});
dashboard.trackRequests(api);

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
let stopping = false;
let orders = 0;

function callApi(apiPort) {
  if (stopping) return;
  const req = http.get({ host: '127.0.0.1', port: apiPort, path: '/orders', agent }, (res) => {
    res.resume();
    res.on('end', () => {
      orders += 1;
      // The rate swings between about 10 and 70 requests per second over a minute.
      const phase = (Date.now() / 60000) * 2 * Math.PI;
      const perSecond = 40 + 30 * Math.sin(phase);
      const wait = (4 * 1000) / perSecond; // 4 callers
      const t = setTimeout(() => {
        timers.delete(t);
        callApi(apiPort);
      }, wait * (0.5 + Math.random()));
      timers.add(t);
    });
  });
  req.on('error', () => {}); // shutting down
}

// --- demo users on the dashboard's WebSocket --------------------------------------------------
const users = new Set();
function addUser() {
  const ws = new WebSocket(`ws://127.0.0.1:${dashboard.port}/ws`);
  users.add(ws);
  ws.on('error', () => {});
  ws.on('close', () => users.delete(ws));
  ws.on('open', () => {
    const chat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"type":"chat"}'), 200 + Math.random() * 600);
    ws.on('close', () => clearInterval(chat));
  });
}

// --- app metrics ------------------------------------------------------------------------------
let queue = 20;
function appMetrics() {
  queue = Math.max(0, queue + (Math.random() - 0.48) * 6);
  dashboard.record('queue.depth', Math.round(queue));
  dashboard.record('orders.total', orders);
  dashboard.record('cache.hitRatio', 80 + 15 * Math.sin(Date.now() / 20000) + Math.random() * 3);
}

dashboard.on('listening', () => {
  api.listen(0, '127.0.0.1', () => {
    const apiPort = api.address().port;
    for (let i = 0; i < 4; i++) callApi(apiPort);
  });
  // Between 2 and 6 demo users, one joining or leaving every few seconds.
  for (let i = 0; i < 3; i++) addUser();
  every(3000, () => {
    if (users.size <= 2 || (users.size < 6 && Math.random() < 0.5)) addUser();
    else [...users][0].close();
  });
  every(250, appMetrics);
  const shown = host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost';
  console.log(`Dashboard running at http://${shown}:${dashboard.port}/ (demo workload on; Ctrl+C to stop)`);
});

function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  for (const t of timers) clearTimeout(t);
  for (const ws of users) ws.terminate();
  agent.destroy();
  api.close();
  api.closeAllConnections();
  dashboard.close(() => console.log('stopped'));
  // If something still holds the process after a few seconds, say so and leave anyway.
  setTimeout(() => {
    console.error('still running 3 s after close; exiting');
    process.exit(1);
  }, 3000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
