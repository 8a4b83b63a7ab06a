'use strict';

// Benchmark server on npm `ws`, written the way its README teaches: echo with ws.send, broadcast
// with `wss.clients.forEach(client => client.send(data))`.
// Usage: node benchmark/servers/ws.js <echo|inbound|fanout|idle>   (see common.js for control)

const { WebSocketServer, WebSocket } = require('ws');
const { serve } = require('./common');

serve('ws', (mode, counters) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024 });
  wss.on('connection', (ws) => {
    if (mode === 'echo') {
      ws.on('message', (data, isBinary) => {
        if ((++counters.received & 4095) === 0) counters.sample();
        ws.send(data, { binary: isBinary });
      });
    } else {
      ws.on('message', (data) => {
        if ((++counters.received & 4095) === 0) counters.sample();
        counters.receivedBytes += data.length;
      });
    }
    ws.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () =>
      resolve({
        port: wss.address().port,
        connections: () => wss.clients.size,
        broadcast(data) {
          wss.clients.forEach((client) => {
            if (client.readyState === WebSocket.OPEN) client.send(data);
          });
        },
      }),
    );
  });
});
