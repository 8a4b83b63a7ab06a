'use strict';

// WebSocket echo round-trips/s: ferrocast/ws vs ws vs uWebSockets.js (issue 4).
// Matrix: 1, 100 and 1,000 connections × 64 B and 16 KiB messages; each connection keeps one
// message in flight. The Rust load generator (benchmark/loadgen) runs on CPU 1, the server on
// CPU 0; kinds are interleaved, several rounds, medians reported. `floor` is a one-thread Rust
// WebSocket echo with no JavaScript (benchmark/loadgen/src/bin/echo-floor.rs): what the kernel's
// loopback TCP and the least framing cost per round-trip, the ceiling for any Node server here.
//
//   node benchmark/ws-echo.js [--quick] [--rounds 3] [--duration 3] [--warmup 1]
//        [--conns 1,100,1000] [--sizes 64,16384] [--inflight 1] [--kinds ferrocast,ws,uws,floor] [--no-write]

const h = require('./lib/harness');

async function main() {
  const args = h.parseArgs();
  const { quick, rounds, duration, warmup, inflight } = h.numbers(args, {
    rounds: [3, 1],
    duration: [3, 1],
    warmup: [1, 0.5],
    // Messages each connection keeps in flight (written together, then their echoes read).
    inflight: [1, 1],
  });
  const connsList = h.list(args.conns, quick ? ['1', '100'] : ['1', '100', '1000']).map(Number);
  const sizes = h.list(args.sizes, quick ? ['64'] : ['64', '16384']).map(Number);
  const { kinds, missing } = await h.prepare(args, 'ws-echo', 25, [...h.KINDS, 'floor']);

  const cells = [];
  for (const size of sizes) {
    for (const conns of connsList) {
      const label =
        `${conns} conn × ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}` + (inflight > 1 ? ` × ${inflight} in flight` : '');
      h.log(`echo ${label}`);
      const runs = await h.interleaved(kinds, rounds, async (kind) => {
        const { res, s1, other, serverCpu, wall } = await h.measuredRun(
          kind,
          'echo',
          (port) => [
            'echo',
            ...['--port', port, '--conns', conns, '--size', size, '--inflight', inflight],
            ...['--duration', duration, '--warmup', warmup],
          ],
          { timeoutMs: (duration + warmup + 60) * 1000 },
        );
        const cpu = serverCpu;
        const run = {
          rate: res.rate,
          p99_us: res.latency ? res.latency.p99 : NaN,
          server_us_per_rt: (cpu / res.roundtrips) * 1e6,
          server_util: cpu / wall,
          gen_util: res.gen_cpu_util,
          eld_p99_ms: s1.eld_p99_ms,
          errors: res.errors,
          other,
        };
        h.log(
          `  ${kind.padEnd(9)} ${h.fmt(run.rate)} rt/s  p99 ${run.p99_us} µs  server ${run.server_util.toFixed(2)} CPU ` +
            `(${run.server_us_per_rt.toFixed(2)} µs/rt)  generator ${run.gen_util.toFixed(2)} CPU  ${h.othersLog(run.other)}`,
        );
        return run;
      });
      cells.push({ label, runs });
    }
  }

  const body = [
    `${h.intro(missing)}${rounds} round(s) of ${duration} s after ${warmup} s warm-up, kinds interleaved, medians. ` +
      (inflight > 1
        ? `Each connection writes ${inflight} binary messages at once, then reads their echoes, and repeats.`
        : 'Each connection keeps one binary message in flight (send, wait for the echo, repeat).'),
    '',
    '**Round-trips per second** (higher is better):',
    '',
    h.compareTable('Cell', cells, kinds, (r) => r.rate),
    '',
    '**Server CPU per round-trip, µs** (lower is better; whole process, all threads):',
    '',
    h.compareTable('Cell', cells, kinds, (r) => r.server_us_per_rt, h.fixed(2)),
    '',
    '**Round-trip latency p99, µs**, the load generator’s own CPU use (1.00 = its core saturated) and ' +
      'the share of CPU 0 / CPU 1 that other processes on this shared machine used meanwhile:',
    '',
    h.kindTable(cells, kinds, [
      [(label) => `${label} p99`, (c, k) => h.fmt(h.cellMedian(c, k, (r) => r.p99_us))],
      ['generator CPU', (c, k) => h.cellMedian(c, k, (r) => r.gen_util).toFixed(2)],
      ['others CPU0/CPU1', (c, k) => h.otherCell(c.runs[k])],
    ]),
  ].join('\n');
  const title = quick ? 'Echo (quick run)' : `Echo round-trips${inflight > 1 ? `, ${inflight} in flight` : ''}`;
  h.publish(args, { name: 'ws-echo', raw: { args, kinds, cells }, body, section: 'WebSocket', title });
}

h.runMain(main);
