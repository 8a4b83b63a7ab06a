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
  const { quick, rounds, duration, warmup } = h.numbers(args, { rounds: [3, 1], duration: [5, 1], warmup: [1, 0.5] });
  const connsList = h.list(args.conns, quick ? ['100'] : ['1000']).map(Number);
  const sizes = h.list(args.sizes, ['64']).map(Number);
  const batch = Boolean(args['ferrocast-batch']);
  if (batch) process.env.FERROCAST_MESSAGE_BATCH = '1';
  const { kinds, missing } = await h.prepare(args, 'ws-inbound', 15);

  const cells = [];
  for (const conns of connsList) {
    for (const size of sizes) {
      const label = `${conns} clients × ${size} B`;
      h.log(`inbound ${label}`);
      const runs = await h.interleaved(kinds, rounds, async (kind) => {
        const { res, s0, s1, other } = await h.measuredRun(
          kind,
          'inbound',
          (port) => ['inbound', '--port', port, '--conns', conns, '--size', size, '--duration', duration, '--warmup', warmup],
          { timeoutMs: (duration + warmup + 60) * 1000 },
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
          other,
        };
        h.log(
          `  ${kind.padEnd(9)} ${h.fmt(run.rate)} msg/s received (generator wrote ${h.fmt(run.sent_rate)}/s, ` +
            `${run.gen_util.toFixed(2)} CPU)  server ${run.server_util.toFixed(2)} CPU  ` +
            `${run.server_us_per_msg.toFixed(2)} µs/msg  ELD p99 ${run.eld_p99_ms} ms  ${h.othersLog(run.other)}`,
        );
        return run;
      });
      cells.push({ label, runs });
    }
  }

  const body = [
    `${h.intro(missing)}${rounds} round(s) of ${duration} s after ${warmup} s warm-up, kinds interleaved, medians. ` +
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
    h.compareTable('Cell', cells, kinds, (r) => r.server_us_per_msg, h.fixed(2)),
    '',
    'Event-loop delay p99 (ms), server RSS, the generator’s CPU use (1.00 = saturated) and the share of ' +
      'CPU 0 / CPU 1 that other processes on this shared machine used meanwhile:',
    '',
    h.kindTable(cells, kinds, [
      [(label) => `${label} ELD p99`, (c, k) => h.cellMedian(c, k, (r) => r.eld_p99_ms).toFixed(1)],
      ['RSS MiB', (c, k) => (h.cellMedian(c, k, (r) => r.rss) / 2 ** 20).toFixed(0)],
      ['generator CPU', (c, k) => h.cellMedian(c, k, (r) => r.gen_util).toFixed(2)],
      ['others CPU0/CPU1', (c, k) => h.otherCell(c.runs[k])],
    ]),
  ].join('\n');
  const title = quick ? 'Inbound (quick run)' : `Inbound messages${batch ? ', ferrocast with messageBatch' : ''}`;
  h.publish(args, { name: 'ws-inbound', raw: { args, kinds, cells }, body, section: 'WebSocket', title });
}

h.runMain(main);
