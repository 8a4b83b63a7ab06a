'use strict';

// WebSocket echo round-trips/s: ferrocast/ws vs ws vs uWebSockets.js (issue 4).
// Matrix: 1, 100 and 1,000 connections × 64 B and 16 KiB messages; each connection keeps one
// message in flight. The Rust load generator (benchmark/loadgen) runs on CPU 1, the server on
// CPU 0; kinds are interleaved, several rounds, medians reported.
//
//   node benchmark/ws-echo.js [--quick] [--rounds 3] [--duration 3] [--warmup 1]
//        [--conns 1,100,1000] [--sizes 64,16384] [--inflight 1] [--kinds ferrocast,ws,uws] [--no-write]

const h = require('./lib/harness');

async function main() {
  const args = h.parseArgs();
  const quick = Boolean(args.quick);
  const rounds = Number(args.rounds || (quick ? 1 : 3));
  const duration = Number(args.duration || (quick ? 1 : 3));
  const warmup = Number(args.warmup || (quick ? 0.5 : 1));
  const connsList = h.list(args.conns, quick ? ['1', '100'] : ['1', '100', '1000']).map(Number);
  const sizes = h.list(args.sizes, quick ? ['64'] : ['64', '16384']).map(Number);
  // Messages each connection keeps in flight (written together, then their echoes read).
  const inflight = Number(args.inflight || 1);
  h.watchdog(Number(args['max-minutes'] || 20), 'ws-echo');
  h.ensureLoadgen();
  const { kinds, missing } = await h.availableKinds(h.list(args.kinds, h.KINDS));
  if (kinds.length === 0) throw new Error('no server kind available');

  const cells = [];
  for (const size of sizes) {
    for (const conns of connsList) {
      const label =
        `${conns} conn × ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}` + (inflight > 1 ? ` × ${inflight} in flight` : '');
      h.log(`echo ${label}`);
      const runs = await h.interleaved(kinds, rounds, async (kind) => {
        const server = await h.startServer(kind, 'echo');
        let s0;
        let s1;
        let c0;
        let c1;
        try {
          const res = await h.runLoadgen(
            [
              'echo',
              ...['--port', server.port, '--conns', conns, '--size', size, '--inflight', inflight],
              ...['--duration', duration, '--warmup', warmup],
            ],
            {
              keepStdin: true,
              timeoutMs: (duration + warmup + 60) * 1000,
              onEvent: async (ev, child) => {
                if (ev.event === 'measure-start') {
                  c0 = h.cpuSnap(server.child.pid, child.pid);
                  s0 = await server.cmd({ cmd: 'stats', reset: true });
                }
                if (ev.event === 'measure-end') {
                  c1 = h.cpuSnap(server.child.pid, child.pid);
                  s1 = await server.cmd({ cmd: 'stats' });
                  child.stdin.end();
                }
              },
            },
          );
          const cpu = s1.cpu_s - s0.cpu_s;
          const wall = (s1.t_ms - s0.t_ms) / 1000;
          const run = {
            rate: res.rate,
            p99_us: res.latency ? res.latency.p99 : NaN,
            server_us_per_rt: (cpu / res.roundtrips) * 1e6,
            server_util: cpu / wall,
            gen_util: res.gen_cpu_util,
            eld_p99_ms: s1.eld_p99_ms,
            errors: res.errors,
            other: h.otherLoad(c0, c1),
          };
          h.log(
            `  ${kind.padEnd(9)} ${h.fmt(run.rate)} rt/s  p99 ${run.p99_us} µs  server ${run.server_util.toFixed(2)} CPU ` +
              `(${run.server_us_per_rt.toFixed(2)} µs/rt)  generator ${run.gen_util.toFixed(2)} CPU  ` +
              `others on CPU0/1 ${h.pct(run.other.cpu0)}/${h.pct(run.other.cpu1)}`,
          );
          return run;
        } finally {
          await server.stop();
        }
      });
      cells.push({ label, runs });
    }
  }

  const body = [
    `${h.peersNote(missing, h.commandLine())}Machine: ${h.machine()}. Command: \`${h.commandLine()}\`; ` +
      `${rounds} round(s) of ${duration} s after ${warmup} s warm-up, kinds interleaved, medians. ` +
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
    h.compareTable('Cell', cells, kinds, (r) => r.server_us_per_rt, (v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a')),
    '',
    '**Round-trip latency p99, µs**, the load generator’s own CPU use (1.00 = its core saturated) and ' +
      'the share of CPU 0 / CPU 1 that other processes on this shared machine used meanwhile:',
    '',
    h.table(
      ['Cell', ...kinds.flatMap((k) => [`${h.LABEL[k]} p99`, `generator CPU`, `others CPU0/CPU1`])],
      cells.map((c) => [
        c.label,
        ...kinds.flatMap((k) => [
          h.fmt(h.median(c.runs[k].map((r) => r.p99_us))),
          h.median(c.runs[k].map((r) => r.gen_util)).toFixed(2),
          h.otherCell(c.runs[k]),
        ]),
      ]),
    ),
  ].join('\n');
  h.saveRaw('ws-echo', { args, kinds, cells });
  console.log(body);
  const title = quick ? 'Echo (quick run)' : `Echo round-trips${inflight > 1 ? `, ${inflight} in flight` : ''}`;
  if (h.shouldWrite(args)) h.writeBenchmarks('WebSocket', title, body);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err.stack || err);
    process.exit(1);
  },
);
