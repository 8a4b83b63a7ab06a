'use strict';

// Benchmark server on uWebSockets.js (npm `@trufflesuite/uws-js-unofficial`, a build that loads
// on Node 20): echo with ws.send, broadcast with app.publish to a topic every client joins.
// Usage: node benchmark/servers/uws.js <echo|inbound|fanout|idle>   (see common.js for control)

const { serve } = require('./common');

serve('uws', (mode, counters) => {
  const uWS = require('@trufflesuite/uws-js-unofficial');
  let connections = 0;
  const app = uWS.App().ws('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: 64 * 1024 * 1024,
    // ws sends no pings by default either; a burst of K × S bytes per client must not be
    // skipped for backpressure (uWS's default limit is 64 KiB), so the limit is raised.
    idleTimeout: 0,
    maxBackpressure: 256 * 1024 * 1024,
    open(ws) {
      connections++;
      if (mode === 'fanout') ws.subscribe('all');
    },
    message(ws, message, isBinary) {
      if ((++counters.received & 4095) === 0) counters.sample();
      counters.receivedBytes += message.byteLength;
      if (mode === 'echo') ws.send(message, isBinary);
    },
    close() {
      connections--;
    },
  });
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (token) => {
      if (!token) return reject(new Error('uWS could not listen on 127.0.0.1'));
      resolve({
        port: uWS.us_socket_local_port(token),
        connections: () => connections,
        broadcast(data) {
          app.publish('all', data, true);
        },
      });
    });
  });
});
