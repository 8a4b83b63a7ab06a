'use strict';

// A native source keeps the event loop alive only while it is open. After close() the process
// must exit by itself: each kind of source is checked in a child process that must be gone
// within 1 s of close(), and, while open, must still be running.

const assert = require('node:assert');
const { runNode } = require('./helpers');

// Each kind: `open` makes and starts a source in the child and assigns it to `source`;
// `close` closes it.
const kinds = {
  'bench source (batched bridge)': {
    open: "const { BenchSource } = require('./lib/bench-source'); source = new BenchSource().start(1000, 0); source.on('data', () => {});",
    close: 'source.close()',
  },
  'WebSocket server (listening, then closed)': {
    open: "const { WebSocketServer } = require('./ws'); source = new WebSocketServer({ port: 0, host: '127.0.0.1' });",
    close: 'source.close()',
  },
  'WebSocket server and client (connected and talking, then both closed)': {
    open: `const WebSocket = require('./ws');
      const wss = new WebSocket.WebSocketServer({ port: 0, host: '127.0.0.1' }, () => {
        const ws = new WebSocket('ws://127.0.0.1:' + wss.address().port);
        ws.on('open', () => ws.send('hi'));
        source = { close() { ws.close(); wss.close(); } };
      });
      wss.on('connection', (c) => c.on('message', (d) => c.send(d)));`,
    close: 'source.close()',
  },
  'bench source (per-event threadsafe function)': {
    open: "const { BenchSource } = require('./lib/bench-source'); source = new BenchSource({ mode: 'per-event' }).start(1000, 0); source.on('data', () => {});",
    close: 'source.close()',
  },
  // An EventBuffer keeps the process alive only while it holds events: this one holds one with a
  // 60 s delay, so only close() (which flushes it) lets the process go.
  'event buffer (holding events)': {
    open: "const { EventBuffer } = require('.'); source = new EventBuffer(60000); source.add(1);",
    close: 'source.close()',
  },
  'metric window': {
    open: "const { MetricWindow } = require('.'); source = new MetricWindow({ window: 50 }); source.record(1); source.on('window', () => {});",
    close: 'source.close()',
  },
  'real-time dashboard (HTTP + WebSocket server, interval timer)': {
    open: "const { RealTimeDashboard } = require('./lib/dashboard'); source = new RealTimeDashboard({ port: 0, host: '127.0.0.1', interval: 50 });",
    close: 'source.close()',
  },
  'real-time dashboard with a connected page': {
    open: "const { RealTimeDashboard } = require('./lib/dashboard'); const WebSocket = require('ws'); source = new RealTimeDashboard({ port: 0, host: '127.0.0.1', interval: 50 }); source.on('listening', () => { const ws = new WebSocket('ws://127.0.0.1:' + source.port); ws.on('error', () => {}); });",
    close: 'source.close()',
  },
};

function program(kind, closeAfter) {
  return `
    let source;
    ${kind.open}
    ${
      closeAfter === null
        ? ''
        : `setTimeout(() => {
      const t = process.hrtime.bigint();
      process.on('exit', () => console.log('exit-after-close-ms', Number(process.hrtime.bigint() - t) / 1e6));
      ${kind.close};
    }, ${closeAfter});`
    }
  `;
}

describe('process exit', function () {
  for (const [name, kind] of Object.entries(kinds)) {
    describe(name, function () {
      it('exits by itself within 1 s of close()', async function () {
        const r = await runNode(program(kind, 200), { limit: 5000 });
        assert.strictEqual(r.signal, null, `child was killed: ${r.stderr}`);
        assert.strictEqual(r.code, 0, r.stderr);
        const m = /exit-after-close-ms ([\d.]+)/.exec(r.stdout);
        assert.ok(m, `no exit line: ${r.stdout} ${r.stderr}`);
        assert.ok(Number(m[1]) < 1000, `took ${m[1]} ms to exit after close`);
      });

      it('keeps the process alive while open', async function () {
        const r = await runNode(program(kind, null), { limit: 1500 });
        assert.strictEqual(r.signal, 'SIGKILL', 'an open source should keep the process running');
      });
    });
  }
});

module.exports = { kinds };
