'use strict';

// Fan-out — the project's headline benchmark (issue 5): ferrocast's wss.broadcast vs ws's
// idiomatic `wss.clients.forEach(c => c.send(msg))` vs uWebSockets.js's app.publish.
// The Rust load generator (CPU 1) opens N connections and counts what arrives; the server runs
// on CPU 0.
//   (a) burst: K messages of S bytes broadcast in one synchronous loop → deliveries/s, measured
//       by the clients from the first delivery to the last;
//   (b) rate: R broadcasts/s for D s, each stamped with its send time and its scheduled time
//       (CLOCK_MONOTONIC) → latency p50/p99/p999 from each, and the fraction delivered;
//   (c) the server's event-loop delay p99 (and max) during (a) and (b);
//   (d) server RSS and server CPU-seconds per million deliveries.
// Default matrix: N = 1,000 and 10,000; S = 64 B and 1 KiB; K = 1,000; R = 1,000/s; D = 10 s.
//
//   node benchmark/fanout.js [--quick] [--rounds 2] [--conns 1000,10000] [--sizes 64,1024]
//        [--count 1000] [--rate 1000] [--duration 10] [--only burst|rate] [--ws-max-deliveries 1e6]
//        [--kinds ferrocast,ws,uws] [--no-write]
// Environment: FANOUT_READ_KIB overrides the generator's read size (KiB); FANOUT_IDLE_MS its idle cut-off in the rate runs;
// FANOUT_DISCARD=0 makes the generator copy and parse every burst message (see `discardArgs`); FANOUT_LAZY_ACK=0 makes
// its sockets ACK at once in the rate runs (see `lazyAckArgs`).

const h = require('./lib/harness');

// The generator's read size, the same for every kind in a cell: 64 KiB reads for 1 KiB
// messages at N ≤ 2,000 (fewer system calls; at 16 KiB the generator capped the 1 KiB bursts),
// 16 KiB otherwise (for 64 B messages the smaller working set is faster: 64 KiB reads cut its
// 64 B ceiling from ~11M to ~7M deliveries/s).
const readArgs = (conns, size) => ['--read-kib', process.env.FANOUT_READ_KIB || (size >= 1024 && conns <= 2000 ? 64 : 16)];

// Bursts: the generator receives with MSG_TRUNC (the kernel drops the bytes instead of copying
// them out), counts messages from bytes (every message of a burst has the same length) and parses
// the first and last frame and a frame every 64 reads. Copying ~2.3 GB/s of 1 KiB messages saturated its
// core and capped the 1 KiB cells; the same generator serves every kind.
const discardArgs = () => (process.env.FANOUT_DISCARD === '0' ? [] : ['--discard']);

// Rate runs: the generator's sockets delay their ACKs (TCP_QUICKACK off after each read), as a
// receiver across a network does. On loopback an ACK after every read was half of the
// generator's CPU at 1,000 × 1,000 msg/s (it ran at 0.93–0.98 of its core, 0.79–0.87 with lazy
// ACKs). The same for every kind; FANOUT_LAZY_ACK=0 turns it off.
const lazyAckArgs = () => (process.env.FANOUT_LAZY_ACK === '0' ? [] : ['--lazy-ack']);

async function burstRun(kind, conns, size, wantCount, wsBudget) {
  // ws needs ~10 µs of main-thread time per delivery: its burst is capped at `wsBudget`
  // deliveries (K = 100 at N = 10,000 by default) to keep the run in minutes. Its rate is
  // linear in the number of sends, so deliveries/s stays comparable.
  const count = kind === 'ws' ? Math.max(1, Math.min(wantCount, Math.floor(wsBudget / conns))) : wantCount;
  const { res, s0, s1, other, started: reply } = await h.measuredRun(
    kind,
    'fanout',
    (port) => ['fanout-burst', '--port', port, '--conns', conns, '--expect', count, '--idle-ms', 3000, '--timeout', 300, ...readArgs(conns, size), ...discardArgs()],
    {
      timeoutMs: 400000,
      startOn: 'ready',
      beforeStart: (server) => h.waitConnections(server, conns),
      afterStart: (server) => server.cmd({ cmd: 'burst', count, size }, 300000),
    },
  );
  const cpu = s1.cpu_s - s0.cpu_s;
  return {
    rate: res.rate,
    fraction: res.fraction,
    cpu_per_m: cpu / (res.delivered / 1e6),
    loop_ms: reply.loop_ms,
    eld_p99_ms: s1.eld_p99_ms,
    eld_max_ms: s1.eld_max_ms,
    rss: s1.rss,
    max_rss: s1.max_rss,
    gen_util: res.gen_cpu_util,
    span_s: res.first_to_last_s,
    outcome: res.outcome,
    count,
    other,
  };
}

async function rateRun(kind, conns, size, rate, duration) {
  const expect = Math.round(rate * duration);
  const { res, s0, s1, other, started: reply } = await h.measuredRun(
    kind,
    'fanout',
    (port) => ['fanout-rate', '--port', port, '--conns', conns, '--expect', expect, '--idle-ms', Number(process.env.FANOUT_IDLE_MS || 2000), '--timeout', duration + 120, ...readArgs(conns, size), ...lazyAckArgs()],
    {
      timeoutMs: (duration + 200) * 1000,
      startOn: 'ready',
      beforeStart: (server) => h.waitConnections(server, conns),
      afterStart: (server) => server.cmd({ cmd: 'rate', rate, duration, size }, (duration + 120) * 1000),
    },
  );
  const cpu = s1.cpu_s - s0.cpu_s;
  const lat = res.latency || {};
  const sched = res.latency_scheduled || {};
  return {
    p50_us: lat.p50,
    p99_us: lat.p99,
    p999_us: lat.p999,
    sched_p50_us: sched.p50,
    sched_p99_us: sched.p99,
    sched_p999_us: sched.p999,
    fraction: res.fraction,
    sent_fraction: reply.sent / reply.target,
    cpu_per_m: cpu / (res.delivered / 1e6),
    server_util: cpu / ((s1.t_ms - s0.t_ms) / 1000),
    // Over the sending window only: the idle wait for the last deliveries would dilute it.
    eld_p99_ms: reply.eld_p99_ms,
    eld_max_ms: reply.eld_max_ms,
    rss: s1.rss,
    gen_util: res.gen_cpu_util,
    other,
  };
}

const sizeLabel = (s) => (s >= 1024 ? `${s / 1024} KiB` : `${s} B`);
const num = h.fixed;
const mib = (v) => (Number.isFinite(v) ? (v / 2 ** 20).toFixed(0) : 'n/a');
const us = (v) => (Number.isFinite(v) ? (v >= 10000 ? `${(v / 1000).toFixed(0)} ms` : `${h.fmt(v)} µs`) : 'n/a');

async function main() {
  const args = h.parseArgs();
  const { quick, rounds, count, rate, duration } = h.numbers(args, {
    rounds: [2, 1],
    count: [1000, 200],
    rate: [1000, 1000],
    duration: [10, 3],
  });
  const wsBudget = Number(args['ws-max-deliveries'] || 1e6);
  const connsList = h.list(args.conns, quick ? ['1000'] : ['1000', '10000']).map(Number);
  const sizes = h.list(args.sizes, quick ? ['64'] : ['64', '1024']).map(Number);
  const only = args.only;
  const { kinds, missing } = await h.prepare(args, 'fanout', 40);

  const burst = [];
  const rated = [];
  for (const conns of connsList) {
    for (const size of sizes) {
      const label = `N=${conns.toLocaleString('en-US')}, S=${sizeLabel(size)}`;
      if (only !== 'rate') {
        h.log(`burst ${label}, K=${count}`);
        const runs = await h.interleaved(kinds, rounds, async (kind) => {
          const r = await burstRun(kind, conns, size, count, wsBudget);
          h.log(
            `  ${kind.padEnd(9)} ${h.fmt(r.rate)} deliveries/s (${(r.fraction * 100).toFixed(1)}% of ${h.fmt(conns * r.count)}, ` +
              `${r.span_s.toFixed(2)} s, ${r.outcome})  loop ${r.loop_ms.toFixed(0)} ms  ELD p99 ${r.eld_p99_ms} / max ${r.eld_max_ms} ms  ` +
              `${r.cpu_per_m.toFixed(2)} CPU-s/M  peak RSS ${mib(r.max_rss)} MiB  generator ${r.gen_util.toFixed(2)} CPU  ` +
              h.othersLog(r.other),
          );
          return r;
        });
        burst.push({ label, runs });
      }
      if (only !== 'burst') {
        h.log(`rate ${label}, R=${rate}/s for ${duration} s`);
        const runs = await h.interleaved(kinds, rounds, async (kind) => {
          const r = await rateRun(kind, conns, size, rate, duration);
          h.log(
            `  ${kind.padEnd(9)} scheduled p50 ${us(r.sched_p50_us)} p99 ${us(r.sched_p99_us)}  call p50 ${us(r.p50_us)} p99 ${us(r.p99_us)} p999 ${us(r.p999_us)}  delivered ` +
              `${(r.fraction * 100).toFixed(1)}% (sent ${(r.sent_fraction * 100).toFixed(1)}%)  ELD p99 ${r.eld_p99_ms} / max ` +
              `${r.eld_max_ms} ms  server ${r.server_util.toFixed(2)} CPU  ${r.cpu_per_m.toFixed(2)} CPU-s/M  generator ${r.gen_util.toFixed(2)} CPU  ` +
              h.othersLog(r.other),
          );
          return r;
        });
        rated.push({ label, runs });
      }
    }
  }

  const med = h.cellMedian;
  const parts = [
    `${h.intro(missing)}${rounds} round(s), kinds interleaved, medians; a fresh server and fresh connections for every run. ` +
      'Binary messages; ws broadcasts with `wss.clients.forEach(c => c.send(msg))`, uWS.js with ' +
      '`app.publish` (maxBackpressure raised to 256 MiB so no message is skipped), ferrocast with `wss.broadcast`.',
  ];
  if (burst.length) {
    parts.push(
      '',
      `**(a) Burst: deliveries per second**, K = ${count} messages broadcast in one synchronous loop ` +
        '(higher is better; clients measure from their first delivery to their last). ' +
        `ws's burst is capped at ${h.fmt(wsBudget)} deliveries (K = ${h.fmt(Math.floor(wsBudget / 10000))} at N = 10,000) ` +
        'to bound the run time; its cost per send is flat, so its rate compares:',
      '',
      h.compareTable('Cell', burst, kinds, (r) => r.rate),
      '',
      '**(c, d) Burst: server CPU-seconds per million deliveries** (lower is better):',
      '',
      h.compareTable('Cell', burst, kinds, (r) => r.cpu_per_m, num(2)),
      '',
      'Burst details per kind — fraction delivered, event-loop delay p99 / max (ms) from the burst ' +
        'until the last delivery, peak server RSS (MiB), load-generator CPU (1.00 = saturated), share of ' +
        'CPU 0 / CPU 1 used by other processes on this shared machine:',
      '',
      h.kindTable(burst, kinds, [
        [
          (label) => label,
          (c, k) =>
            `${(med(c, k, (r) => r.fraction) * 100).toFixed(1)}%, ELD ${num(1)(med(c, k, (r) => r.eld_p99_ms))} / ` +
            `${num(0)(med(c, k, (r) => r.eld_max_ms))}, ${mib(med(c, k, (r) => r.max_rss))} MiB, gen ${num(2)(med(c, k, (r) => r.gen_util))}, ` +
            `others ${h.otherCell(c.runs[k])}`,
        ],
      ]),
    );
  }
  if (rated.length) {
    parts.push(
      '',
      `**(b) Rate: ${rate} broadcasts/s for ${duration} s — fraction of the N × ${h.fmt(rate * duration)} deliveries made** ` +
        '(a server that falls behind catches up but stops sending at the deadline):',
      '',
      h.compareTable('Cell', rated, kinds, (r) => r.fraction, (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a')),
      '',
      '**(b) Rate — latency p99 from the scheduled send time** (message k of the run is due at k / R s; ' +
        'due time → client receive, over the messages delivered; lower is better). A server whose event loop is ' +
        'blocked sends late, and this counts that delay, as a producer of R messages/s sees it:',
      '',
      h.compareTable('Cell', rated, kinds, (r) => r.sched_p99_us, us),
      '',
      '**(b) Rate — latency p99 from the broadcast call** (the send stamp, taken when the server calls ' +
        'broadcast / publish / send → client receive; leaves out how late a blocked event loop made the call):',
      '',
      h.compareTable('Cell', rated, kinds, (r) => r.p99_us, us),
      '',
      'Rate details per kind — latency p50 / p99 / p999 from the scheduled time, then from the call, fraction delivered, event-loop delay p99 / max (ms), ' +
        'server CPU-seconds per million deliveries, load-generator CPU, share of CPU 0 / CPU 1 used by other processes:',
      '',
      h.kindTable(rated, kinds, [
        [
          (label) => label,
          (c, k) =>
            `${us(med(c, k, (r) => r.sched_p50_us))} / ${us(med(c, k, (r) => r.sched_p99_us))} / ${us(med(c, k, (r) => r.sched_p999_us))}; ` +
            `${us(med(c, k, (r) => r.p50_us))} / ${us(med(c, k, (r) => r.p99_us))} / ${us(med(c, k, (r) => r.p999_us))}, ` +
            `${(med(c, k, (r) => r.fraction) * 100).toFixed(1)}%, ELD ${num(1)(med(c, k, (r) => r.eld_p99_ms))} / ` +
            `${num(0)(med(c, k, (r) => r.eld_max_ms))}, ${num(2)(med(c, k, (r) => r.cpu_per_m))} CPU-s/M, gen ${num(2)(med(c, k, (r) => r.gen_util))}, ` +
            `others ${h.otherCell(c.runs[k])}`,
        ],
      ]),
    );
  }
  const body = parts.join('\n');
  const title = quick ? 'Fan-out (quick run)' : 'Broadcast burst and rate';
  h.publish(args, { name: 'fanout', raw: { args, kinds, burst, rated }, body, section: 'Fan-out', title });
}

h.runMain(main);
