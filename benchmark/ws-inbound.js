'use strict';

// Inbound WebSocket messages/s reaching a JS `message` listener: ferrocast/ws vs ws vs
// uWebSockets.js (issue 4). 1,000 clients (Rust load generator on CPU 1) send 64-byte binary
// messages as fast as TCP lets them; the server (CPU 0) counts what its listener receives and
// the rate is taken from the server's own counter and clock over the measured window.
//
//   node benchmark/ws-inbound.js [--quick] [--rounds 3] [--duration 5] [--warmup 1]
//        [--conns 1000] [--sizes 64] [--kinds ferrocast,ws,uws] [--ferrocast-batch] [--no-write]
// --ferrocast-batch runs ferrocast with its messageBatch option ('messages' arrays) instead of one
// 'message' event per message.

const h = require('./lib/harness');

async function main() {
  const args = h.parseArgs();
  const quick = Boolean(args.quick);
  const rounds = Number(args.rounds || (quick ? 1 : 3));
  const duration = Number(args.duration || (quick ? 1 : 5));
  const warmup = Number(args.warmup || (quick ? 0.5 : 1));
  const connsList = h.list(args.conns, quick ? ['100'] : ['1000']).map(Number);
  const sizes = h.list(args.sizes, ['64']).map(Number);
  h.watchdog(Number(args['max-minutes'] || 15), 'ws-inbound');
  const batch = Boolean(args['ferrocast-batch']);
  if (batch) process.env.FERROCAST_MESSAGE_BATCH = '1';
  h.ensureLoadgen();
  const { kinds, missing } = await h.availableKinds(h.list(args.kinds, h.KINDS));
  if (kinds.length === 0) throw new Error('no server kind available');

  const cells = [];
  for (const conns of connsList) {
    for (const size of sizes) {
      const label = `${conns} clients × ${size} B`;
      h.log(`inbound ${label}`);
      const runs = await h.interleaved(kinds, rounds, async (kind) => {
        const server = await h.startServer(kind, 'inbound');
        let s0;
        let s1;
        let c0;
        let c1;
        try {
          const res = await h.runLoadgen(
            ['inbound', '--port', server.port, '--conns', conns, '--size', size, '--duration', duration, '--warmup', warmup],
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
          const wall = (s1.t_ms - s0.t_ms) / 1000;
          const received = s1.received - s0.received;
          const cpu = s1.cpu_s - s0.cpu_s;
          const run = {
            // The listener's own rate (sampled inside it); the window average as a fallback.
            rate: s1.listener_rate || received / wall,
            server_util: cpu / wall,
            server_us_per_msg: (cpu / received) * 1e6,
            sent_rate: res.send_rate,
            gen_util: res.gen_cpu_util,
            eld_p99_ms: s1.eld_p99_ms,
            rss: s1.rss,
            other: h.otherLoad(c0, c1),
          };
          h.log(
            `  ${kind.padEnd(9)} ${h.fmt(run.rate)} msg/s received (generator wrote ${h.fmt(run.sent_rate)}/s, ` +
              `${run.gen_util.toFixed(2)} CPU)  server ${run.server_util.toFixed(2)} CPU  ` +
              `${run.server_us_per_msg.toFixed(2)} µs/msg  ELD p99 ${run.eld_p99_ms} ms  ` +
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
      'Every client writes binary messages back to back (16 KiB per write); the rate is what the ' +
      "server's JS `message` listener counted, timed inside the listener (every 4,096th message), so " +
      'event-loop turns that last seconds under the flood do not skew it.' +
      (batch ? " ferrocast counts from its messageBatch 'messages' arrays (maxSize 4096, maxDelay 1 ms)." : ''),
    '',
    '**Messages per second reaching the JS listener** (higher is better):',
    '',
    h.compareTable('Cell', cells, kinds, (r) => r.rate),
    '',
    '**Server CPU per message, µs** (lower is better; whole process):',
    '',
    h.compareTable('Cell', cells, kinds, (r) => r.server_us_per_msg, (v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a')),
    '',
    'Event-loop delay p99 (ms), server RSS, the generator’s CPU use (1.00 = saturated) and the share of ' +
      'CPU 0 / CPU 1 that other processes on this shared machine used meanwhile:',
    '',
    h.table(
      ['Cell', ...kinds.flatMap((k) => [`${h.LABEL[k]} ELD p99`, 'RSS MiB', 'generator CPU', 'others CPU0/CPU1'])],
      cells.map((c) => [
        c.label,
        ...kinds.flatMap((k) => [
          h.median(c.runs[k].map((r) => r.eld_p99_ms)).toFixed(1),
          (h.median(c.runs[k].map((r) => r.rss)) / 2 ** 20).toFixed(0),
          h.median(c.runs[k].map((r) => r.gen_util)).toFixed(2),
          h.otherCell(c.runs[k]),
        ]),
      ]),
    ),
  ].join('\n');
  h.saveRaw('ws-inbound', { args, kinds, cells });
  console.log(body);
  const title = quick ? 'Inbound (quick run)' : `Inbound messages${batch ? ', ferrocast with messageBatch' : ''}`;
  if (h.shouldWrite(args)) h.writeBenchmarks('WebSocket', title, body);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err.stack || err);
    process.exit(1);
  },
);
