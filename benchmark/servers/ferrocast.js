'use strict';

// Benchmark server on ferrocast's ws drop-in (`require('ferrocast/ws')`, here the package root's
// ws.js): echo with ws.send, broadcast with wss.broadcast (framed once, fanned out in Rust).
// Reports itself unavailable (exit code 3) while ferrocast/ws is not built.
// Usage: node benchmark/servers/ferrocast.js <echo|inbound|fanout|idle>   (see common.js)

const { serve } = require('./common');

serve('ferrocast', (mode, counters) => {
  const WebSocket = require('../../ws');
  const WebSocketServer = WebSocket.WebSocketServer || WebSocket.Server;
  if (typeof WebSocketServer !== 'function') throw new Error('ferrocast/ws has no WebSocketServer');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024 });
  if (mode === 'fanout' && typeof wss.broadcast !== 'function') {
    throw new Error('ferrocast/ws has no wss.broadcast yet');
  }
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
          wss.broadcast(data);
        },
      }),
    );
  });
});
