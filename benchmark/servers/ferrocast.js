'use strict';

// Benchmark server on ferrocast's ws drop-in (`require('ferrocast/ws')`, here the package root's
// ws.js): echo with ws.send, broadcast with wss.broadcast (framed once, fanned out in Rust).
// Reports itself unavailable (exit code 3) while ferrocast/ws is not built.
// Usage: node benchmark/servers/ferrocast.js <echo|inbound|fanout|idle>   (see common.js)
// Environment: FERROCAST_WS=/path/to/ws.js benchmarks another checkout's build;
// FERROCAST_MESSAGE_BATCH=1 counts inbound messages from 'messages' batches (messageBatch
// option) instead of one 'message' event per message.

const path = require('node:path');
const { onWsConnection, serve, wsListening } = require('./common');

serve('ferrocast', (mode, counters) => {
  const WebSocket = require(process.env.FERROCAST_WS ? path.resolve(process.env.FERROCAST_WS) : '../../ws');
  const WebSocketServer = WebSocket.WebSocketServer || WebSocket.Server;
  if (typeof WebSocketServer !== 'function') throw new Error('ferrocast/ws has no WebSocketServer');
  const batched = mode === 'inbound' && process.env.FERROCAST_MESSAGE_BATCH === '1';
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    maxPayload: 64 * 1024 * 1024,
    ...(batched ? { messageBatch: { maxSize: 4096, maxDelay: 1 } } : {}),
  });
  if (mode === 'fanout' && typeof wss.broadcast !== 'function') {
    throw new Error('ferrocast/ws has no wss.broadcast yet');
  }
  if (batched) {
    wss.on('messages', (batch) => {
      const before = counters.received;
      counters.received += batch.length;
      if (before >>> 12 !== counters.received >>> 12) counters.sample();
    });
  }
  wss.on('connection', onWsConnection(mode, counters, !batched));
  return wsListening(wss, (data) => wss.broadcast(data));
});
