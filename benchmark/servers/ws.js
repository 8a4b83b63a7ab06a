'use strict';

// Benchmark server on npm `ws`, written the way its README teaches: echo with ws.send, broadcast
// with `wss.clients.forEach(client => client.send(data))` (echo and counting: common.js's
// onWsConnection, shared with ferrocast.js).
// Usage: node benchmark/servers/ws.js <echo|inbound|fanout|idle>   (see common.js for control)

const { WebSocketServer, WebSocket } = require('ws');
const { onWsConnection, serve, wsListening } = require('./common');

serve('ws', (mode, counters) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024 });
  wss.on('connection', onWsConnection(mode, counters));
  return wsListening(wss, (data) => {
    wss.clients.forEach((client) => {
      if (client.readyState === WebSocket.OPEN) client.send(data);
    });
  });
});
