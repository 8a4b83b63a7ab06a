'use strict';

// MetricWindow against the seed's / opossum's approach (push every value into an array, sort it
// at the window end to read percentiles) and hdr-histogram-js, interleaved, median of several
// rounds. Then: snapshot() of a window holding 10 million samples, and memory as samples grow.
//
//   node benchmark/aggregate.js [--quick]
//
// Build the release addon first (npm run build).

const hdr = require('hdr-histogram-js');
const { MetricWindow } = require('..');
const { machineLine, median, rotated, table } = require('./lib/table');

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 5 : 9;
const N = quick ? 1000000 : 4000000;
const CHUNK = 4096;
const PERCENTILES = [50, 90, 99, 99.9];

// Latency-like values: log-uniform over 0.01 .. 10,000 ms.
const values = new Float64Array(N);
let seed = 42;
for (let i = 0; i < N; i++) {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  values[i] = 10 ** ((seed / 2 ** 32) * 6 - 2);
}
// hdr-histogram-js records integers: the same values in microseconds, converted up front.
const micros = new Float64Array(N).map((_, i) => Math.round(values[i] * 1000));

function exact(sorted, p) {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}

/** Each peer: record all values, then return the percentiles (as a window end would). */
const peers = {
  'MetricWindow.record': () => {
    const w = new MetricWindow({ window: 3600000 });
    for (let i = 0; i < N; i++) w.record(values[i]);
    const s = w.snapshot();
    w.close();
    return [s.p50, s.p90, s.p99, s.p999];
  },
  'MetricWindow.recordMany': () => {
    const w = new MetricWindow({ window: 3600000 });
    for (let i = 0; i < N; i += CHUNK) w.recordMany(values.subarray(i, i + CHUNK));
    const s = w.snapshot();
    w.close();
    return [s.p50, s.p90, s.p99, s.p999];
  },
  'hdr-histogram-js': () => {
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e8, numberOfSignificantValueDigits: 3 });
    for (let i = 0; i < N; i++) h.recordValue(micros[i]);
    const r = PERCENTILES.map((p) => h.getValueAtPercentile(p) / 1000);
    h.destroy();
    return r;
  },
  'sorted array': () => {
    const arr = [];
    for (let i = 0; i < N; i++) arr.push(values[i]);
    arr.sort((a, b) => a - b);
    return PERCENTILES.map((p) => exact(arr, p));
  },
};

function time(fn) {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t0), r];
}

async function recording() {
  // Results first: every peer must report the same percentiles (within HDR's 0.1 %).
  const sorted = Array.from(values).sort((a, b) => a - b);
  const truth = PERCENTILES.map((p) => exact(sorted, p));
  for (const [name, fn] of Object.entries(peers)) {
    const got = fn();
    got.forEach((v, i) => {
      if (Math.abs(v - truth[i]) > truth[i] * 1e-3 + 1e-3) {
        throw new Error(`${name}: p${PERCENTILES[i]} = ${v}, exact ${truth[i]}`);
      }
    });
  }
  const names = Object.keys(peers);
  const res = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of rotated(names, round)) {
      const [ns] = time(peers[name]);
      res[name].push(ns / N);
      await new Promise((r) => setImmediate(r));
    }
  }
  const base = median(res['hdr-histogram-js']);
  console.log(`\nrecord ${N} values + read 4 percentiles, ${ROUNDS} rounds, median`);
  const rows = names.map((name) => {
    const m = median(res[name]);
    return [name, m.toFixed(2), `${(1e3 / m).toFixed(0)} M`, `${(base / m).toFixed(1)}x`];
  });
  console.log(table(['peer', 'ns/value', 'values/s', 'vs hdr-histogram-js'], rows));
}

function snapshotOf10M() {
  // "after new values": one more value is recorded before each timed read, so the read merges
  // and walks the histograms; "repeated": reads in a row reuse the cached percentiles.
  const measure = (w) => {
    const fresh = [];
    const repeated = [];
    for (let i = 0; i < 21; i++) {
      w.record(values[i]);
      fresh.push(time(() => w.snapshot())[0] / 1e6);
      repeated.push(time(() => w.snapshot())[0] / 1e6);
    }
    const s = w.snapshot();
    w.close();
    if (s.count !== 10000021) throw new Error(`snapshot counted ${s.count}`);
    return [median(fresh), median(repeated)];
  };
  const chunk = values.subarray(0, 1000000);
  const w1 = new MetricWindow({ window: 3600000 });
  for (let i = 0; i < 10; i++) w1.recordMany(chunk);
  const [t1, r1] = measure(w1);
  // Sliding: 10 sub-windows of 200 ms, the values spread over all of them.
  const w = new MetricWindow({ window: 2000, slide: 200 });
  const t0 = Date.now();
  for (let i = 0; i < 10; i++) {
    w.recordMany(chunk);
    while (Date.now() - t0 < (i + 1) * 180);
  }
  const [t, r] = measure(w);
  console.log('\nsnapshot() of a window holding 10,000,000 samples, median of 21');
  console.log(`- tumbling window: ${t1.toFixed(3)} ms after new values, ${r1.toFixed(4)} ms repeated`);
  console.log(`- sliding window (10 sub-windows): ${t.toFixed(3)} ms after new values, ${r.toFixed(4)} ms repeated`);
}

function memory() {
  const w = new MetricWindow({ window: 3600000 });
  const chunk = values.subarray(0, 1000000);
  const rows = [];
  global.gc?.();
  const base = process.memoryUsage();
  let total = 0;
  for (const target of [1e6, 1e7, 5e7, 1e8]) {
    while (total < target) {
      w.recordMany(chunk);
      total += chunk.length;
    }
    for (let i = 0; i < 100000; i++) w.record(values[i]); // and the staging path
    total += 100000;
    global.gc?.();
    const m = process.memoryUsage();
    rows.push([total, (m.rss - base.rss) / 2 ** 20, (m.external - base.external) / 2 ** 20]);
  }
  if (w.snapshot().count !== total) throw new Error('lost samples');
  w.close();
  console.log('\nmemory as samples grow (one series, RSS and external growth since start)');
  const cells = rows.map(([n, rss, ext]) => [n.toLocaleString('en'), `${rss.toFixed(1)} MiB`, `${ext.toFixed(1)} MiB`]);
  console.log(table(['samples', 'RSS growth', 'external growth'], cells, 0));
}

(async () => {
  console.log(machineLine());
  await recording();
  snapshotOf10M();
  memory();
})();
