'use strict';

// How fast can the load generator count fan-out deliveries? A ws server (CPU 0) writes K
// pre-framed 64-byte binary messages to each of N clients' raw sockets in one write per client,
// so it does almost no work per message; the generator (CPU 1) counts them as in fanout.js. The
// generator's CPU per delivery here, against its CPU per delivery in fanout.js, tells whether a
// fan-out figure was limited by the generator.
//
//   node benchmark/loadgen-ceiling.js [--conns 1000] [--count 1000] [--rounds 3]

const { WebSocketServer } = require('ws');
const h = require('./lib/harness');

async function once(conns, count) {
  const frame = Buffer.alloc(66, 0x78);
  frame[0] = 0x82; // FIN + binary
  frame[1] = 64; // unmasked, 64-byte payload
  const all = Buffer.concat(Array.from({ length: count }, () => frame));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  try {
    return await h.runLoadgen(
      ['fanout-burst', '--port', wss.address().port, '--conns', conns, '--expect', count, '--idle-ms', 2000, '--timeout', 60],
      {
        timeoutMs: 90000,
        onEvent: async (ev) => {
          if (ev.event !== 'ready') return;
          while (wss.clients.size < conns) await h.sleep(20);
          for (const client of wss.clients) client._socket.write(all);
        },
      },
    );
  } finally {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
}

async function main() {
  const args = h.parseArgs();
  const conns = Number(args.conns || 1000);
  const count = Number(args.count || 1000);
  const rounds = Number(args.rounds || 3);
  h.watchdog(Number(args['max-minutes'] || 5), 'loadgen-ceiling');
  h.ensureLoadgen();
  // This process is the server here: keep it on CPU 0, away from the generator.
  if (h.PIN) require('node:child_process').spawnSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
  for (let r = 0; r < rounds; r++) {
    const res = await once(conns, count);
    const nsPerDelivery = (res.gen_cpu_s / res.delivered) * 1e9;
    console.log(
      `${h.fmt(res.rate)} deliveries/s counted (${(res.fraction * 100).toFixed(1)}% of ${h.fmt(conns * count)}), ` +
        `generator ${res.gen_cpu_util.toFixed(2)} CPU = ${nsPerDelivery.toFixed(0)} ns of generator CPU per delivery`,
    );
  }
}

h.runMain(main);
