'use strict';

// The control side shared by every benchmark server kind (benchmark/servers/<kind>.js).
//
// A kind module calls `serve(kind, start)`, where `start(mode, counters)` returns a promise of
// `{ port, broadcast(buf), connections() }`. This module then prints one JSON line
// `{"event":"listening","kind","port","pid"}` and answers JSON commands read from stdin, one
// JSON line per command:
//   {"cmd":"stats","reset":bool}  event-loop delay, RSS, CPU seconds, messages received by JS
//   {"cmd":"gc"}                  full GC (the driver starts node with --expose-gc), then stats
//   {"cmd":"burst","count":K,"size":S}              K broadcasts in one synchronous loop
//   {"cmd":"rate","rate":R,"duration":D,"size":S}   R broadcasts/s for D seconds
//   {"cmd":"quit"}
// Broadcast payloads carry their send time in the first 8 bytes (little-endian ns of
// process.hrtime, i.e. CLOCK_MONOTONIC, the clock the Rust load generator reads).
// The server exits when stdin closes, so a dying driver never leaves it behind.
// Kinds with ws's API (ws.js, ferrocast.js) also share their `connection` listener
// (`onWsConnection`) and their `start` result (`wsListening`).

const readline = require('node:readline');
const { createHistogram } = require('node:perf_hooks');

const MODES = new Set(['echo', 'inbound', 'fanout', 'idle']);

/**
 * A broadcast payload: bytes 0–7 hold the time the server's broadcast call is made, bytes 8–15
 * (when the payload has them) the time the message was scheduled for, `scheduled` (the call
 * time when omitted); CLOCK_MONOTONIC ns, little-endian. A server whose event loop is blocked
 * makes its calls late: latency counted from the call time leaves that delay out (coordinated
 * omission), latency counted from the scheduled time keeps it in.
 */
function makeMessage(template, scheduled) {
  const buf = Buffer.from(template);
  if (buf.length >= 8) {
    const now = process.hrtime.bigint();
    buf.writeBigUInt64LE(now, 0);
    if (buf.length >= 16) buf.writeBigUInt64LE(scheduled ?? now, 8);
  }
  return buf;
}

/**
 * Runs the broadcast path 5,000 times before any client connects (they reach no one). V8
 * optimizes a function only after some thousands of calls: without this, a fresh server's
 * first burst of 1,000 broadcasts ran at interpreter speed (5–7 ms for the loop with ferrocast,
 * against ~1.2 ms warm), which a long-running server never sees. The same for every kind.
 */
function warmUp(server) {
  const template = Buffer.alloc(64, 'x');
  for (let i = 0; i < 5000; i++) server.broadcast(makeMessage(template, process.hrtime.bigint()));
}

function ms(ns) {
  return Math.round(ns / 1e4) / 100;
}

/**
 * Event-loop delay: a 1 ms timer records how late each of its turns comes (0 when on time).
 * Unlike perf_hooks.monitorEventLoopDelay, a reset keeps the previous turn's time, so a block
 * that starts right after a reset is still measured.
 */
function loopDelay() {
  let hist = createHistogram();
  let last = process.hrtime.bigint();
  const tick = () => {
    const now = process.hrtime.bigint();
    const late = Number(now - last) - 1e6;
    hist.record(Math.max(1, Math.round(late)));
    last = now;
    timer = setTimeout(tick, 1);
    timer.unref();
  };
  let timer = setTimeout(tick, 1);
  timer.unref();
  return {
    get: () => hist,
    reset() {
      hist = createHistogram();
    },
  };
}

function serve(kind, start) {
  const mode = process.argv[2] || process.env.BENCH_MODE || 'echo';
  if (!MODES.has(mode)) {
    process.stderr.write(`${kind}: unknown mode ${mode} (expected ${[...MODES].join(', ')})\n`);
    process.exit(2);
  }
  // Kinds count each message their JS listener receives and call sample() every 4096th, so the
  // listener's own rate is known even when one event-loop turn lasts seconds (as under a flood).
  const counters = {
    received: 0,
    receivedBytes: 0,
    first: null,
    last: null,
    sample() {
      const at = { count: this.received, t: process.hrtime.bigint() };
      if (!this.first) this.first = at;
      this.last = at;
    },
  };
  const delay = loopDelay();
  let server;
  let broadcasts = 0;

  const reply = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

  function stats(reset) {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const eld = delay.get();
    const out = {
      reply: 'stats',
      kind,
      t_ms: Number(process.hrtime.bigint()) / 1e6,
      rss: mem.rss,
      max_rss: process.resourceUsage().maxRSS * 1024,
      heap_used: mem.heapUsed,
      external: mem.external,
      cpu_s: (cpu.user + cpu.system) / 1e6,
      eld_p50_ms: ms(eld.percentile(50)),
      eld_p99_ms: ms(eld.percentile(99)),
      eld_max_ms: ms(eld.max),
      received: counters.received,
      received_bytes: counters.receivedBytes,
      // Messages/s the listener handled between its first and last sample since the last reset.
      listener_rate: listenerRate(),
      connections: server.connections(),
      broadcasts,
    };
    if (reset) {
      delay.reset();
      counters.first = null;
      counters.last = null;
    }
    return out;
  }

  function listenerRate() {
    const { first, last } = counters;
    if (!first || !last || last.t <= first.t) return null;
    return (last.count - first.count) / (Number(last.t - first.t) / 1e9);
  }

  function burst(count, size) {
    const template = Buffer.alloc(size, 'x');
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) server.broadcast(makeMessage(template));
    broadcasts += count;
    return { reply: 'burst', sent: count, loop_ms: Number(process.hrtime.bigint() - t0) / 1e6 };
  }

  function rate(perSecond, seconds, size) {
    const template = Buffer.alloc(size, 'x');
    const total = Math.round(perSecond * seconds);
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(Math.round(seconds * 1e9));
    let sent = 0;
    return new Promise((resolve) => {
      const tick = () => {
        let now = process.hrtime.bigint();
        const due = Math.min(total, Math.floor((Number(now - t0) / 1e9) * perSecond));
        // A server that falls behind catches up, but never past the deadline.
        while (sent < due && now < end) {
          server.broadcast(makeMessage(template, t0 + BigInt(Math.round((sent * 1e9) / perSecond))));
          sent++;
          broadcasts++;
          if ((sent & 15) === 0) now = process.hrtime.bigint();
        }
        if (sent >= total || process.hrtime.bigint() >= end) {
          // The event-loop delay over the sending window (since the driver's last reset).
          const eld = delay.get();
          resolve({
            reply: 'rate',
            sent,
            target: total,
            elapsed_s: Number(process.hrtime.bigint() - t0) / 1e9,
            eld_p99_ms: ms(eld.percentile(99)),
            eld_max_ms: ms(eld.max),
          });
        } else {
          setTimeout(tick, 1);
        }
      };
      tick();
    });
  }

  async function handle(line) {
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch {
      return reply({ reply: 'error', message: `not JSON: ${line}` });
    }
    switch (cmd.cmd) {
      case 'stats':
        return reply(stats(Boolean(cmd.reset)));
      case 'gc':
        if (typeof global.gc === 'function') {
          global.gc();
          global.gc();
        }
        return reply({ ...stats(false), reply: 'gc' });
      case 'burst':
        return reply(burst(cmd.count, cmd.size));
      case 'rate':
        return reply(await rate(cmd.rate, cmd.duration, cmd.size));
      case 'quit':
        reply({ reply: 'quit' });
        return process.exit(0);
      default:
        return reply({ reply: 'error', message: `unknown command ${cmd.cmd}` });
    }
  }

  new Promise((resolve) => resolve(start(mode, counters))).then(
    (s) => {
      server = s;
      if (mode === 'fanout') warmUp(s);
      reply({ event: 'listening', kind, mode, port: s.port, pid: process.pid, node: process.version });
      const rl = readline.createInterface({ input: process.stdin });
      rl.on('line', (line) => {
        if (line.trim()) handle(line.trim());
      });
      rl.on('close', () => process.exit(0));
    },
    (err) => {
      reply({ event: 'unavailable', kind, message: String(err && err.message) });
      process.exit(3);
    },
  );
}

/**
 * The `connection` listener of a server with ws's API (ws and ferrocast/ws): in echo mode each
 * message is counted and sent back as it came; in the other modes it is counted with its bytes,
 * unless `listen` is false (the kind counts its messages elsewhere). Errors are ignored.
 */
function onWsConnection(mode, counters, listen = true) {
  return (ws) => {
    if (mode === 'echo') {
      ws.on('message', (data, isBinary) => {
        if ((++counters.received & 4095) === 0) counters.sample();
        ws.send(data, { binary: isBinary });
      });
    } else if (listen) {
      ws.on('message', (data) => {
        if ((++counters.received & 4095) === 0) counters.sample();
        counters.receivedBytes += data.length;
      });
    }
    ws.on('error', () => {});
  };
}

/** What `start` resolves to for a server with ws's API: once `wss` listens, its port, client count and `broadcast`. */
function wsListening(wss, broadcast) {
  return new Promise((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => resolve({ port: wss.address().port, connections: () => wss.clients.size, broadcast }));
  });
}

module.exports = { onWsConnection, serve, wsListening };
