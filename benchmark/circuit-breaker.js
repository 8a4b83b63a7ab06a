'use strict';

// CircuitBreaker against opossum and the seed's EventCircuitBreaker, in one run, interleaved.
//
//   node benchmark/circuit-breaker.js [--quick]
//
// 1. Calls per second through a CLOSED breaker around an async function that resolves at once,
//    1,000 calls in flight per batch: without a call timeout, and with opossum's default 10 s
//    call timeout (one timer per call).
// 2. The cost of reading `stats` with N calls in the rolling window (the seed's class has none):
//    ferrocast keeps running totals and a fixed-size histogram; opossum concatenates and sorts the
//    window's latencies on each read. "repeated": reads in a row; "after a call": one call
//    completes between reads, so no cached figure can be reused.
// Rounds alternate the peers; figures are medians over rounds. Everything runs in this process.

const EventEmitter = require('node:events');
const CircuitBreakerOpossum = require('opossum');
const { CircuitBreaker } = require('../lib/circuit-breaker');
const { median, rotated, table } = require('./lib/table');

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const RUN_MS = quick ? 300 : 800;
const BATCH = 1000;

// The seed's class, verbatim (from "Circuit Breaker Pattern").
class EventCircuitBreaker extends EventEmitter {
  constructor(threshold = 5, timeout = 60000) {
    super();
    this.failures = 0;
    this.threshold = threshold;
    this.timeout = timeout;
    this.state = 'CLOSED';
    this.lastFailure = null;
  }
  async processEvent(event, processor) {
    if (this.state === 'OPEN') {
      if (Date.now() - this.lastFailure > this.timeout) {
        this.state = 'HALF_OPEN';
      } else {
        throw new Error('Circuit breaker is OPEN');
      }
    }
    try {
      const result = await processor(event);
      if (this.state === 'HALF_OPEN') {
        this.reset();
      }
      return result;
    } catch (error) {
      this.recordFailure();
      throw error;
    }
  }
  recordFailure() {
    this.failures++;
    this.lastFailure = Date.now();
    if (this.failures >= this.threshold) {
      this.state = 'OPEN';
      this.emit('circuitOpen');
    }
  }
  reset() {
    this.failures = 0;
    this.state = 'CLOSED';
    this.emit('circuitClosed');
  }
}

const action = async (x) => x;

// Each peer: make(timeout) -> { call(i), stats(), close() }.
const peers = {
  ferrocast: (timeout) => {
    const b = new CircuitBreaker(action, { timeout });
    return { call: (i) => b.fire(i), stats: () => b.stats, close: () => b.shutdown() };
  },
  opossum: (timeout) => {
    const b = new CircuitBreakerOpossum(action, { timeout });
    return { call: (i) => b.fire(i), stats: () => b.stats, close: () => b.shutdown() };
  },
  'seed EventCircuitBreaker': () => {
    const b = new EventCircuitBreaker(5, 60000);
    return { call: (i) => b.processEvent(i, action), stats: null, close: () => {} };
  },
};

async function throughput(make, timeout) {
  const p = make(timeout);
  let calls = 0;
  const batch = new Array(BATCH);
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < RUN_MS) {
    for (let i = 0; i < BATCH; i++) batch[i] = p.call(i);
    const results = await Promise.all(batch);
    if (results[BATCH - 1] !== BATCH - 1) throw new Error('wrong result');
    calls += BATCH;
    now = performance.now();
  }
  p.close();
  return (calls * 1000) / (now - t0);
}

async function statsCost(make, n, fresh) {
  const p = make(false);
  for (let done = 0; done < n; done += BATCH) {
    const batch = [];
    for (let i = 0; i < BATCH; i++) batch.push(p.call(i));
    await Promise.all(batch);
  }
  const s = p.stats();
  const fires = s.fires;
  if (fires !== n) throw new Error(`expected ${n} fires in the window, saw ${fires}`);
  let reads = 0;
  let spent = 0;
  if (fresh) {
    while (spent < RUN_MS / 4 && reads < 20000) {
      await p.call(reads);
      const t = performance.now();
      p.stats();
      spent += performance.now() - t;
      reads += 1;
    }
  } else {
    const t0 = performance.now();
    while (spent < RUN_MS / 2) {
      for (let i = 0; i < 10; i++) p.stats();
      reads += 10;
      spent = performance.now() - t0;
    }
  }
  p.close();
  return (spent * 1e6) / reads; // ns per read
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');

async function main() {
  console.log(`CircuitBreaker benchmark: node ${process.version}, ${ROUNDS} rounds, ${new Date().toISOString().slice(0, 10)}`);
  const results = new Map();
  const add = (key, v) => {
    if (!results.has(key)) results.set(key, []);
    results.get(key).push(v);
  };
  const names = Object.keys(peers);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so no peer always runs first.
    for (const name of rotated(names, round)) {
      add(`fire|no call timeout|${name}`, await throughput(peers[name], false));
      if (name !== 'seed EventCircuitBreaker') {
        add(`fire|10 s call timeout|${name}`, await throughput(peers[name], 10000));
        for (const n of [10000, 100000]) {
          add(`stats|${n}|repeated|${name}`, await statsCost(peers[name], n, false));
          add(`stats|${n}|after a call|${name}`, await statsCost(peers[name], n, true));
        }
      }
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
  }

  const fires = [];
  const reads = [];
  for (const [key, xs] of results) {
    const [kind, ...rest] = key.split('|');
    if (kind === 'fire') fires.push([rest[0], rest[1], fmt(median(xs))]);
    else reads.push([`${fmt(Number(rest[0]))} calls in the window, ${rest[1]}`, rest[2], fmt(median(xs))]);
  }
  console.log(`\n${table(['calls through a CLOSED breaker', 'peer', 'calls/s (median)'], fires, 2)}`);
  console.log(`\n${table(['reading `stats`', 'peer', 'ns per read (median)'], reads, 2)}`);
  const m = (key) => median(results.get(key));
  console.log('');
  for (const variant of ['no call timeout', '10 s call timeout']) {
    console.log(
      `- fire, ${variant}: ferrocast ${(m(`fire|${variant}|ferrocast`) / m(`fire|${variant}|opossum`)).toFixed(2)}x opossum's calls/s`,
    );
  }
  console.log(
    `- fire, no call timeout: ferrocast ${(m('fire|no call timeout|ferrocast') / m('fire|no call timeout|seed EventCircuitBreaker')).toFixed(2)}x the seed class's calls/s`,
  );
  for (const n of [10000, 100000]) {
    for (const how of ['repeated', 'after a call']) {
      const ratio = m(`stats|${n}|${how}|opossum`) / m(`stats|${n}|${how}|ferrocast`);
      console.log(`- stats with ${fmt(n)} calls in the window, ${how}: ferrocast reads ${ratio.toFixed(0)}x faster than opossum`);
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
