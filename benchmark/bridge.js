'use strict';

// Bridge benchmark (issue 2): events delivered per second to a JS listener, and the main
// thread's event-loop utilisation, for one threadsafe-function call per event (the baseline)
// against the batched bridge. Each measurement runs in a fresh child process; configurations
// are interleaved round by round and medians are reported.
//
//   node benchmark/bridge.js [--rounds 5] [--seconds 2] [--quick]
//
// Needs the release addon (`npm run build`).

const { spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { median, table } = require('./lib/table');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3]));
} else {
  main();
}

function child({ mode, payload, rate, seconds }) {
  const { performance } = require('node:perf_hooks');
  const { BenchSource } = require(path.join(__dirname, '..', 'lib', 'bench-source'));
  const source = new BenchSource({ mode, payload, overflow: rate === 0 ? 'wait' : 'drop' });
  let count = 0;
  source.on('data', () => {
    count++;
  });
  // Warm up for 300 ms, then measure for `seconds`.
  source.start(rate, 0);
  setTimeout(() => {
    const c0 = count;
    const e0 = performance.eventLoopUtilization();
    const t0 = process.hrtime.bigint();
    setTimeout(() => {
      const elu = performance.eventLoopUtilization(e0);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const delivered = count - c0;
      const stats = source.stats();
      source.close();
      process.stdout.write(
        JSON.stringify({
          eventsPerSec: delivered / secs,
          utilization: elu.utilization,
          // main-thread active time per delivered event, in nanoseconds
          nsPerEvent: delivered ? (elu.active * 1e6) / delivered : null,
          dropped: stats.dropped,
        }),
      );
      // Exit without waiting for the queue to drain: a per-event run can be far behind.
      process.exit(0);
    }, seconds * 1000);
  }, 300);
}

function main() {
  const quick = process.argv.includes('--quick');
  const rounds = arg('rounds', quick ? 1 : 5);
  const seconds = arg('seconds', quick ? 1 : 2);
  const configs = [];
  for (const payload of ['number', 'bytes']) {
    for (const load of [
      { name: '1M events/s', rate: 1e6 },
      { name: 'saturation', rate: 0 },
    ]) {
      for (const mode of ['per-event', 'batched']) configs.push({ mode, payload, rate: load.rate, load: load.name });
    }
  }
  const results = new Map(configs.map((c) => [c, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of configs) {
      const out = spawnSync(process.execPath, [__filename, '--child', JSON.stringify({ ...c, seconds })], {
        encoding: 'utf8',
        timeout: (seconds + 10) * 1000,
      });
      if (out.status !== 0) throw new Error(`child failed: ${out.stderr}`);
      results.get(c).push(JSON.parse(out.stdout));
      process.stderr.write('.');
    }
  }
  process.stderr.write('\n');
  const rows = [];
  for (const c of configs) {
    const rs = results.get(c);
    rows.push({
      ...c,
      eventsPerSec: median(rs.map((x) => x.eventsPerSec)),
      utilization: median(rs.map((x) => x.utilization)),
      nsPerEvent: median(rs.map((x) => x.nsPerEvent)),
      dropped: median(rs.map((x) => x.dropped)),
    });
  }
  const fmt = (x, d = 0) => (Number.isNaN(x) ? 'n/a' : x.toLocaleString('en-US', { maximumFractionDigits: d }));
  const lines = [];
  lines.push(`Machine: ${os.cpus().length} × ${os.cpus()[0].model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; ${rounds} rounds × ${seconds} s, medians.`);
  lines.push('');
  lines.push(
    table(
      ['payload', 'load', 'delivery', 'events/s to a JS listener', 'main-thread utilisation', 'main-thread ns/event'],
      rows.map((r) => [r.payload, r.load, r.mode, fmt(r.eventsPerSec), `${fmt(r.utilization * 100, 1)}%`, fmt(r.nsPerEvent, 1)]),
      3,
    ),
  );
  lines.push('');
  for (const payload of ['number', 'bytes']) {
    for (const load of ['1M events/s', 'saturation']) {
      const per = rows.find((r) => r.payload === payload && r.load === load && r.mode === 'per-event');
      const bat = rows.find((r) => r.payload === payload && r.load === load && r.mode === 'batched');
      lines.push(`- ${payload}, ${load}: batched costs ${fmt(per.nsPerEvent / bat.nsPerEvent, 1)}x less main-thread time per event and delivers ${fmt(bat.eventsPerSec / per.eventsPerSec, 1)}x the events/s of per-event calls.`);
    }
  }
  console.log(lines.join('\n'));
}
