'use strict';

// Memory per idle WebSocket connection: ferrocast/ws vs ws vs uWebSockets.js (issue 4).
// The server (CPU 0) is measured after a full GC before and after the Rust load generator
// (CPU 1) opens N idle connections; the figure is (RSS after − RSS before) / N.
//
//   node benchmark/ws-memory.js [--quick] [--rounds 3] [--conns 10000] [--settle 1]
//        [--kinds ferrocast,ws,uws] [--no-write]

const h = require('./lib/harness');

async function main() {
  const args = h.parseArgs();
  const { quick, rounds, settle } = h.numbers(args, { rounds: [3, 1], settle: [1, 1] });
  const connsList = h.list(args.conns, quick ? ['1000'] : ['10000']).map(Number);
  const { kinds, missing } = await h.prepare(args, 'ws-memory', 15);

  const cells = [];
  for (const conns of connsList) {
    const label = `${conns.toLocaleString('en-US')} idle connections`;
    h.log(`memory ${label}`);
    const runs = await h.interleaved(kinds, rounds, async (kind) => {
      const server = await h.startServer(kind, 'idle');
      try {
        await h.sleep(200);
        const before = await server.cmd({ cmd: 'gc' });
        let after;
        let connectMs;
        await h.runLoadgen(['idle', '--port', server.port, '--conns', conns, '--duration', 120], {
          keepStdin: true,
          timeoutMs: 180000,
          onEvent: async (ev, child) => {
            if (ev.event !== 'ready') return;
            connectMs = ev.connect_ms;
            await h.waitConnections(server, conns);
            await h.sleep(settle * 1000);
            after = await server.cmd({ cmd: 'gc' });
            child.stdin.end('quit\n');
          },
        });
        const run = {
          per_conn: (after.rss - before.rss) / conns,
          heap_per_conn: (after.heap_used + after.external - before.heap_used - before.external) / conns,
          rss_before: before.rss,
          rss_after: after.rss,
          connect_ms: connectMs,
        };
        h.log(
          `  ${kind.padEnd(9)} ${(run.per_conn / 1024).toFixed(2)} KiB/conn RSS ` +
            `(JS heap + external ${(run.heap_per_conn / 1024).toFixed(2)} KiB/conn; ` +
            `${(run.rss_before / 2 ** 20).toFixed(0)} → ${(run.rss_after / 2 ** 20).toFixed(0)} MiB; connected in ${connectMs} ms)`,
        );
        return run;
      } finally {
        await server.stop();
      }
    });
    cells.push({ label, runs });
  }

  const kib = (v) => (Number.isFinite(v) ? (v / 1024).toFixed(2) : 'n/a');
  const body = [
    `${h.intro(missing)}${rounds} round(s), kinds interleaved, medians. Server RSS after a full GC (node --expose-gc), ` +
      `before the clients connect and ${settle} s after all are open; no messages are exchanged.`,
    '',
    '**RSS per idle connection, KiB** (lower is better; the target is ferrocast ÷ uWS.js ≤ 1):',
    '',
    h.compareTable('Cell', cells, kinds, (r) => r.per_conn, kib),
    '',
    '**JS heap + external per idle connection, KiB** (part of the RSS above):',
    '',
    h.compareTable('Cell', cells, kinds, (r) => r.heap_per_conn, kib),
  ].join('\n');
  const title = quick ? 'Memory (quick run)' : 'Memory per idle connection';
  h.publish(args, { name: 'ws-memory', raw: { args, kinds, cells }, body, section: 'WebSocket', title });
}

h.runMain(main);
