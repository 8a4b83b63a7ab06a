'use strict';

// EventBuffer.add throughput against the seed's JS EventBuffer (clearTimeout + setTimeout per
// add) and RxJS bufferTime, interleaved, median of several rounds; then how late the quiet flush
// fires after the last add (ferrocast vs the seed's setTimeout).
//
//   node benchmark/buffer.js [--quick]
//
// Build the release addon first (npm run build).

const EventEmitter = require('node:events');
const { Subject, bufferTime } = require('rxjs');
const { EventBuffer } = require('..');
const { machineLine, median, rotated, table } = require('./lib/table');

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 5 : 9;
const N = quick ? 200000 : 1000000;
const LATENCY_SAMPLES = quick ? 40 : 150;
const DELAY = 20;

// The seed's EventBuffer, verbatim.
class SeedEventBuffer extends EventEmitter {
  constructor(delay = 100) {
    super();
    this.buffer = [];
    this.delay = delay;
    this.timerId = null;
  }

  add(event) {
    this.buffer.push(event);

    // Reset timer
    if (this.timerId) {
      clearTimeout(this.timerId);
    }

    // Set new timer
    this.timerId = setTimeout(() => {
      this.flush();
    }, this.delay);
  }

  flush() {
    if (this.buffer.length > 0) {
      this.emit('bufferFlush', [...this.buffer]);
      this.buffer = [];
    }
    this.timerId = null;
  }
}

/** Each peer: make() returns { add(v), done(): Promise<number flushed> }. */
const peers = {
  ferrocast: () => {
    const b = new EventBuffer(100);
    let got = 0;
    b.on('bufferFlush', (e) => (got += e.length));
    return {
      add: (v) => b.add(v),
      done: () => {
        b.close();
        return Promise.resolve(got);
      },
    };
  },
  seed: () => {
    const b = new SeedEventBuffer(100);
    let got = 0;
    b.on('bufferFlush', (e) => (got += e.length));
    return {
      add: (v) => b.add(v),
      done: () => {
        clearTimeout(b.timerId);
        b.flush();
        return Promise.resolve(got);
      },
    };
  },
  'rxjs bufferTime': () => {
    const s = new Subject();
    let got = 0;
    const sub = s.pipe(bufferTime(100)).subscribe((e) => (got += e.length));
    return {
      add: (v) => s.next(v),
      done: () => {
        s.complete(); // emits what is buffered
        sub.unsubscribe();
        return Promise.resolve(got);
      },
    };
  },
};

function percentile(xs, p) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function throughput() {
  const names = Object.keys(peers);
  const results = Object.fromEntries(names.map((n) => [n, []]));
  const events = Array.from({ length: 1024 }, (_, i) => ({ id: i }));
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const name of rotated(names, round)) {
      const p = peers[name]();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) p.add(events[i & 1023]);
      const ns = Number(process.hrtime.bigint() - t0);
      const flushed = await p.done();
      if (flushed !== N) throw new Error(`${name} flushed ${flushed} of ${N} events`);
      if (round > 0) results[name].push(ns / N); // round 0 warms up
      await new Promise((r) => setImmediate(r));
    }
  }
  const base = median(results.ferrocast);
  console.log(`\nadd() throughput: ${N} adds per round, ${ROUNDS} rounds (+1 warm-up), median`);
  const rows = names.map((name) => {
    const m = median(results[name]);
    const ratio = name === 'ferrocast' ? '1x' : `${(m / base).toFixed(1)}x faster`;
    return [name, m.toFixed(1), `${(1e9 / m / 1e6).toFixed(1)} M`, ratio];
  });
  console.log(table(['peer', 'ns/add', 'adds/s', 'ferrocast is'], rows));
}

/** How late after `delay` the flush of a burst fires, measured from the last add. */
async function lateness(kind) {
  const late = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const b = kind === 'ferrocast' ? new EventBuffer(DELAY) : new SeedEventBuffer(DELAY);
    const flushed = new Promise((resolve) => b.once('bufferFlush', () => resolve(performance.now())));
    for (let j = 0; j < 100; j++) b.add(j);
    const last = performance.now();
    const at = await flushed;
    late.push(at - last - DELAY);
    if (kind === 'ferrocast') b.close();
    await new Promise((r) => setTimeout(r, 2 + (i % 5)));
  }
  return late;
}

async function flushTiming() {
  console.log(`\nflush timing: delay ${DELAY} ms, ${LATENCY_SAMPLES} bursts of 100 adds, ms after delay`);
  const res = {};
  for (const kind of ['ferrocast', 'seed', 'ferrocast', 'seed']) {
    res[kind] = (res[kind] || []).concat(await lateness(kind));
  }
  const rows = Object.entries(res).map(([kind, late]) => [
    kind,
    percentile(late, 50).toFixed(2),
    percentile(late, 99).toFixed(2),
    Math.max(...late).toFixed(2),
  ]);
  console.log(table(['peer', 'p50', 'p99', 'max'], rows));
}

(async () => {
  console.log(machineLine());
  await throughput();
  await flushTiming();
})();
