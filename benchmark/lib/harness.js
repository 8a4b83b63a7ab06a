'use strict';

// Shared machinery of the WebSocket benchmarks (ws-echo.js, ws-inbound.js, ws-memory.js,
// fanout.js): builds the Rust load generator, starts servers of each kind pinned to CPU 0 and the
// generator pinned to CPU 1, talks to both over JSON lines, bounds everything in time and kills
// every child on exit, and writes Markdown sections into BENCHMARKS.md. A driver's skeleton:
// `prepare` (watchdog, generator, kinds), `interleaved` rounds of `measuredRun`, tables
// (`compareTable`, `kindTable`) and `publish` (raw JSON, stdout, BENCHMARKS.md). Argument parsing
// (cli.js) and figures / Markdown tables (table.js) live beside it, free of side effects, for the
// in-process drivers too; they are re-exported here.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { list, numbers, parseArgs, runMain } = require('./cli');
const { fixed, fmt, median, pct, ratio, rotated, table } = require('./table');

const ROOT = path.join(__dirname, '..', '..');
const LOADGEN_DIR = path.join(ROOT, 'benchmark', 'loadgen');
const LOADGEN = path.join(LOADGEN_DIR, 'target', 'release', 'loadgen');
const SERVERS = path.join(ROOT, 'benchmark', 'servers');
/**
 * `floor` (echo only, named in --kinds or a driver's defaults): the load generator crate's
 * `echo-floor raw`, a one-thread Rust WebSocket echo with no JavaScript (see its source).
 */
const ECHO_FLOOR = path.join(LOADGEN_DIR, 'target', 'release', 'echo-floor');
const KINDS = ['ferrocast', 'ws', 'uws'];
const LABEL = { ferrocast: 'ferrocast', ws: 'ws', uws: 'uWS.js', floor: 'Rust floor (no JS)' };

const children = new Set();

function killAll() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
  children.clear();
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** Kills everything and exits if the whole benchmark runs longer than `minutes`. */
function watchdog(minutes, name) {
  const t = setTimeout(
    () => {
      process.stderr.write(`${name}: gave up after ${minutes} min (--max-minutes); killing children\n`);
      killAll();
      process.exit(124);
    },
    minutes * 60 * 1000,
  );
  t.unref();
}

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the load generator with cargo --release unless the binary is newer than its sources. */
function ensureLoadgen() {
  const sources = Math.max(
    newestMtime(path.join(LOADGEN_DIR, 'src')),
    fs.statSync(path.join(LOADGEN_DIR, 'Cargo.toml')).mtimeMs,
  );
  const built = (bin) => fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= sources;
  if (built(LOADGEN) && built(ECHO_FLOOR)) return LOADGEN;
  log('building benchmark/loadgen (cargo build --release) …');
  const r = spawnSync('cargo', ['build', '--release', '--manifest-path', path.join(LOADGEN_DIR, 'Cargo.toml')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 15 * 60 * 1000,
  });
  if (r.status !== 0 || !fs.existsSync(LOADGEN) || !fs.existsSync(ECHO_FLOOR)) {
    throw new Error('cargo build of benchmark/loadgen failed');
  }
  return LOADGEN;
}

const PIN = fs.existsSync('/usr/bin/taskset') && os.cpus().length >= 2 && !process.argv.includes('--no-pin');

function pinned(cpu, cmd, args) {
  return PIN ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function withTimeout(promise, ms, what) {
  let t;
  const timer = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timer]).finally(() => clearTimeout(t));
}

/** Keeps the last 4,000 characters a child writes to stderr; returns a getter of them, trimmed. */
function stderrTail(child) {
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  return () => stderr.trim();
}

/** Calls `onMessage(msg)` for each line of `input` that parses as JSON (others are skipped); returns the readline interface. */
function jsonLines(input, onMessage) {
  const lines = readline.createInterface({ input });
  lines.on('line', (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    onMessage(msg);
  });
  return lines;
}

/**
 * Starts `benchmark/servers/<kind>.js <mode>` on CPU 0. Resolves to a handle with `port`,
 * `cmd(obj)` (one JSON command → its JSON reply) and `stop()`, or to null when the kind
 * reports itself unavailable (ferrocast before ferrocast/ws exists).
 */
function startServer(kind, mode) {
  const [cmd, args] =
    kind === 'floor'
      ? pinned(0, ECHO_FLOOR, ['raw', mode])
      : pinned(0, process.execPath, ['--expose-gc', path.join(SERVERS, `${kind}.js`), mode]);
  const child = track(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT }));
  const stderr = stderrTail(child);
  const waiters = [];
  let onListening;
  jsonLines(child.stdout, (msg) => {
    if (msg.event) return onListening && onListening(msg);
    const i = waiters.findIndex((w) => w.cmd === msg.reply || msg.reply === 'error');
    if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  exited.then(({ code, signal }) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`${kind} server exited (${code ?? signal}): ${stderr()}`));
  });
  const handle = {
    kind,
    child,
    port: 0,
    cmd(obj, ms = 120000) {
      return withTimeout(
        new Promise((resolve, reject) => {
          waiters.push({ cmd: obj.cmd, resolve, reject });
          child.stdin.write(`${JSON.stringify(obj)}\n`);
        }),
        ms,
        `${kind} server command ${obj.cmd}`,
      );
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        child.stdin.end();
      } catch {}
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
  return withTimeout(
    new Promise((resolve, reject) => {
      onListening = (msg) => {
        if (msg.event === 'listening') {
          handle.port = msg.port;
          resolve(handle);
        } else if (msg.event === 'unavailable') {
          handle.unavailable = msg.message;
          resolve(null);
        }
      };
      exited.then(({ code, signal }) => reject(new Error(`${kind} server exited (${code ?? signal}) before listening: ${stderr()}`)));
    }),
    20000,
    `${kind} server start`,
  ).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
}

/** Which server kinds load here: ferrocast is skipped (with its reason) until ferrocast/ws exists. */
async function availableKinds(requested) {
  const ok = [];
  const missing = {};
  for (const kind of requested) {
    try {
      const s = await startServer(kind, 'echo');
      if (s) {
        ok.push(kind);
        await s.stop();
      } else {
        missing[kind] = 'unavailable';
      }
    } catch (err) {
      missing[kind] = err.message.split('\n')[0];
    }
  }
  for (const [kind, why] of Object.entries(missing)) log(`${kind}: not available (${why}); benchmarking the others`);
  return { kinds: ok, missing };
}

/**
 * Runs the load generator on CPU 1 with `args`. `onEvent(event)` is awaited for each progress
 * event (ready, measure-start, measure-end), in order. Resolves to the result object; the
 * generator is killed after `timeoutMs`.
 */
function runLoadgen(args, { onEvent = async () => {}, timeoutMs = 120000, keepStdin = false } = {}) {
  // LOADGEN_PREFIX="perf record -g -o /tmp/perf.data" profiles the generator.
  const prefix = (process.env.LOADGEN_PREFIX || '').split(' ').filter(Boolean);
  const [cmd, argv] = prefix.length
    ? pinned(1, prefix[0], [...prefix.slice(1), LOADGEN, ...args.map(String)])
    : pinned(1, LOADGEN, args.map(String));
  const child = track(spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] }));
  if (!keepStdin) child.stdin.end();
  const stderr = stderrTail(child);
  let result = null;
  let chain = Promise.resolve();
  const lines = jsonLines(child.stdout, (msg) => {
    if (msg.event === 'result') result = msg;
    else chain = chain.then(() => onEvent(msg, child));
  });
  const done = new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => {
      lines.close();
      chain.then(
        () => {
          if (code === 0 && result) resolve(result);
          else reject(new Error(`loadgen ${args[0]} exited (${code ?? signal}): ${stderr()}`));
        },
        reject,
      );
    });
  });
  return withTimeout(done, timeoutMs, `loadgen ${args[0]}`).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
}

/** Polls the server's stats until it counts `n` open connections. */
async function waitConnections(server, n, ms = 60000) {
  const until = Date.now() + ms;
  for (;;) {
    const s = await server.cmd({ cmd: 'stats' });
    if (s.connections >= n) return s;
    if (Date.now() > until) throw new Error(`${server.kind}: ${s.connections}/${n} connections after ${ms} ms`);
    await sleep(50);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const QUIET = {
  // Before each run, wait (up to `maxWaitS`) until other processes use less than `threshold`
  // of each of CPU 0 and CPU 1: the machine is shared with builds. --quiet 0 disables.
  threshold: Number(parseArgs().quiet ?? 0.3),
  maxWaitS: Number(parseArgs()['quiet-wait'] ?? 30),
  // A run during which others used more than `threshold` of CPU 0 or CPU 1 is run again, up to
  // `retries` times; the last attempt counts either way.
  retries: Number(parseArgs().retries ?? 2),
};

async function waitQuiet() {
  if (!(QUIET.threshold > 0)) return;
  const until = Date.now() + QUIET.maxWaitS * 1000;
  let waited = false;
  for (;;) {
    const a = cpuTimes();
    await sleep(500);
    const b = cpuTimes();
    if (a.length < 2) return;
    const busy = [0, 1].map((i) => (b[i].busy - a[i].busy) / 0.5);
    if (busy.every((x) => x < QUIET.threshold)) {
      if (waited) log(`  (machine quiet again: CPU0 ${pct(busy[0])}, CPU1 ${pct(busy[1])})`);
      return;
    }
    if (Date.now() > until) {
      log(`  (still busy after ${QUIET.maxWaitS} s: CPU0 ${pct(busy[0])}, CPU1 ${pct(busy[1])} used by others; running anyway)`);
      return;
    }
    if (!waited) log(`  (waiting for other processes: CPU0 ${pct(busy[0])}, CPU1 ${pct(busy[1])} busy)`);
    waited = true;
  }
}

/**
 * Runs `fn(kind, round)` for every kind in every round, rotating the order each round, after
 * waiting for the shared machine to be quiet, and again when it was not quiet meanwhile.
 */
async function interleaved(kinds, rounds, fn) {
  const out = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const kind of rotated(kinds, r)) {
      let run;
      for (let attempt = 0; ; attempt++) {
        await waitQuiet();
        run = await fn(kind, r);
        const o = run && run.other;
        const noisy = o && (o.cpu0 > QUIET.threshold || o.cpu1 > QUIET.threshold);
        if (!noisy || attempt >= QUIET.retries) break;
        log(`  (${kind}: other processes used CPU0 ${pct(o.cpu0)} / CPU1 ${pct(o.cpu1)} during the run; running it again)`);
      }
      out[kind].push(run);
    }
  }
  return out;
}

function machine() {
  const cpu = os.cpus()[0];
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return (
    `${os.cpus().length}-core ${cpu ? cpu.model.trim() : 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `Linux ${os.release()}, Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ` +
    `load average before the run: ${load}; server pinned to CPU 0, load generator to CPU 1: ${PIN ? 'yes' : 'no'}`
  );
}

/**
 * Replaces (or appends) the block that starts with `### <title>` inside the `## <section>` of
 * BENCHMARKS.md, so each driver owns its own sub-section and re-runs overwrite only it.
 */
function writeBenchmarks(section, title, body, file = path.join(ROOT, 'BENCHMARKS.md')) {
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `### ${title}\n\n${body.trim()}\n`;
  const secHead = `## ${section}`;
  let start = text.split('\n').findIndex((l) => l.trim() === secHead);
  if (start < 0) {
    text = `${text.trimEnd()}\n\n${secHead}\n\n${block}`;
  } else {
    const lines = text.split('\n');
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end < 0) end = lines.length;
    const sec = lines.slice(start + 1, end);
    const sub = sec.findIndex((l) => l.trim() === `### ${title}`);
    let newSec;
    if (sub < 0) {
      newSec = [...trimTail(sec), '', ...block.split('\n')];
    } else {
      let subEnd = sec.findIndex((l, i) => i > sub && /^### /.test(l));
      if (subEnd < 0) subEnd = sec.length;
      newSec = [...sec.slice(0, sub), ...block.split('\n'), ...sec.slice(subEnd)];
    }
    text = [...lines.slice(0, start + 1), ...newSec, ...lines.slice(end)].join('\n');
  }
  fs.writeFileSync(file, `${text.trimEnd()}\n`);
  log(`wrote "## ${section} / ### ${title}" in ${path.relative(ROOT, file)}`);
}

function trimTail(lines) {
  const out = lines.slice();
  while (out.length && out[out.length - 1].trim() === '') out.pop();
  return out;
}

/**
 * One comparison table: a row per cell, a column per kind (median of `get(run)` over rounds)
 * and the ratios ferrocast ÷ ws, ferrocast ÷ uWS.js and uWS.js ÷ ws (plain quotients of the
 * medians, whatever the metric's direction).
 */
function compareTable(cellLabel, cells, kinds, get, format = fmt) {
  const all = [...KINDS, 'floor'].filter((k) => k === 'ferrocast' || kinds.includes(k));
  const floor = all.includes('floor');
  const header = [
    cellLabel,
    ...all.map((k) => LABEL[k]),
    'ferrocast ÷ ws',
    'ferrocast ÷ uWS.js',
    'uWS.js ÷ ws',
    ...(floor ? ['floor ÷ ws'] : []),
  ];
  const rows = cells.map((cell) => {
    const med = Object.fromEntries(all.map((k) => [k, cell.runs[k] ? median(cell.runs[k].map(get)) : NaN]));
    return [
      cell.label,
      ...all.map((k) => (cell.runs[k] ? format(med[k]) : 'not available')),
      ratio(med.ferrocast, med.ws),
      ratio(med.ferrocast, med.uws),
      ratio(med.uws, med.ws),
      ...(floor ? [ratio(med.floor, med.ws)] : []),
    ];
  });
  return table(header, rows);
}

/** Per-CPU user+nice+system seconds from /proc/stat (empty where there is no /proc). */
function cpuTimes() {
  try {
    return fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .filter((l) => /^cpu\d+ /.test(l))
      .map((l) => {
        const f = l.trim().split(/\s+/).slice(1).map(Number);
        return { busy: (f[0] + f[1] + f[2]) / 100, steal: (f[7] || 0) / 100 };
      });
  } catch {
    return [];
  }
}

/** utime + stime of a process (all its threads), in seconds; NaN when it is gone. */
function procCpu(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * A snapshot for `otherLoad`: per-CPU busy time, the CPU time of the process pinned to CPU 0
 * (the server) and of the one pinned to CPU 1 (the generator), all read at the same moment.
 */
function cpuSnap(serverPid, genPid) {
  return { t: performance.now() / 1000, cpus: cpuTimes(), p0: procCpu(serverPid), p1: procCpu(genPid) };
}

/**
 * How busy each pinned CPU was with other work between two snapshots: (busy − ours) / wall, for
 * CPU 0 (the server's) and CPU 1 (the generator's). The machine is shared, so every table
 * reports it. Resolution is a clock tick (10 ms).
 */
function otherLoad(a, b) {
  const wall = b && a ? b.t - a.t : 0;
  if (!a || !b || a.cpus.length < 2 || b.cpus.length < 2 || !(wall > 0.05)) return { cpu0: NaN, cpu1: NaN };
  const d = (i) => b.cpus[i].busy - a.cpus[i].busy;
  return {
    cpu0: Math.min(1, Math.max(0, (d(0) - (b.p0 - a.p0)) / wall)),
    cpu1: Math.min(1, Math.max(0, (d(1) - (b.p1 - a.p1)) / wall)),
  };
}

/**
 * A details table: a row per cell and, for each kind, one column per `[title, value]` of
 * `columns`. `title` is a string or a function of the kind's label; `value(cell, kind)` is the
 * formatted figure.
 */
function kindTable(cells, kinds, columns) {
  return table(
    ['Cell', ...kinds.flatMap((k) => columns.map(([title]) => (typeof title === 'function' ? title(LABEL[k]) : title)))],
    cells.map((c) => [c.label, ...kinds.flatMap((k) => columns.map(([, value]) => value(c, k)))]),
  );
}

/** "a% / b%": median share of CPU 0 / CPU 1 used by other processes over a cell's runs. */
function otherCell(runs) {
  const m0 = median(runs.map((r) => r.other && r.other.cpu0));
  const m1 = median(runs.map((r) => r.other && r.other.cpu1));
  return `${pct(m0)} / ${pct(m1)}`;
}

/** The line that labels a table as peers-only when ferrocast could not be benchmarked. */
function peersNote(missing, command) {
  if (!missing || !missing.ferrocast) return '';
  return (
    '**Peers only — baseline.** `ferrocast/ws` was not available when this ran (`require(\'ferrocast/ws\')` ' +
    `failed), so the ferrocast columns are empty; \`${command}\` fills them in once it lands.\n\n`
  );
}

/** Writes every run's raw figures to benchmark/results/<name>-<time>.json (git-ignored). */
function saveRaw(name, data) {
  try {
    const dir = path.join(ROOT, 'benchmark', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify({ machine: machine(), ...data }, null, 2)}\n`);
    log(`raw results: ${path.relative(ROOT, file)}`);
  } catch (err) {
    log(`could not save raw results: ${err.message}`);
  }
}

/** The command that produced a table, as typed (script path relative to the package root). */
function commandLine() {
  const script = path.relative(ROOT, process.argv[1]);
  return ['node', script, ...process.argv.slice(2)].join(' ');
}

/** A --quick smoke run prints only, unless --write; --no-write always prints only. */
function shouldWrite(args) {
  if (args['no-write']) return false;
  return !args.quick || Boolean(args.write);
}

/**
 * What every WebSocket driver does before its first run: arms the watchdog (--max-minutes, else
 * `maxMinutes`), builds the load generator if needed and finds which of the --kinds load here.
 * Resolves to `{ kinds, missing }`; throws when none does.
 */
async function prepare(args, name, maxMinutes, defaultKinds = KINDS) {
  watchdog(Number(args['max-minutes'] || maxMinutes), name);
  ensureLoadgen();
  const { kinds, missing } = await availableKinds(list(args.kinds, defaultKinds));
  if (kinds.length === 0) throw new Error('no server kind available');
  return { kinds, missing };
}

/**
 * One measured run: starts a fresh `kind` server in `mode`, runs the load generator with
 * `loadgenArgs(port)` and brackets its measured window with CPU snapshots and server stats
 * (reset at the start). The window starts at the generator's `startOn` event ('measure-start',
 * or 'ready' for a driver that makes the server send): `beforeStart(server)` is awaited before
 * the snapshot and `afterStart(server)` after the reset; it ends at 'measure-end', which also
 * closes the generator's stdin. Resolves to `{ res, s0, s1, other, started, serverCpu, wall }`
 * (`started`: what `afterStart` resolved to; `serverCpu`: the server's CPU-seconds over the
 * window, from /proc; `wall`: the window's seconds); the server is stopped either way.
 */
async function measuredRun(kind, mode, loadgenArgs, { timeoutMs, startOn = 'measure-start', beforeStart, afterStart }) {
  const server = await startServer(kind, mode);
  let s0;
  let s1;
  let c0;
  let c1;
  let started;
  try {
    const res = await runLoadgen(loadgenArgs(server.port), {
      keepStdin: true,
      timeoutMs,
      onEvent: async (ev, child) => {
        if (ev.event === startOn) {
          if (beforeStart) await beforeStart(server);
          c0 = cpuSnap(server.child.pid, child.pid);
          s0 = await server.cmd({ cmd: 'stats', reset: true });
          if (afterStart) started = await afterStart(server);
        } else if (ev.event === 'measure-end') {
          c1 = cpuSnap(server.child.pid, child.pid);
          s1 = await server.cmd({ cmd: 'stats' });
          child.stdin.end();
        }
      },
    });
    // The server's CPU time from /proc over the generator's window: the snapshots are taken as
    // the events arrive, while the server's own `stats` replies can come late when its event
    // loop is busy.
    const serverCpu = c0 && c1 ? c1.p0 - c0.p0 : NaN;
    const wall = c0 && c1 ? c1.t - c0.t : NaN;
    return { res, s0, s1, other: otherLoad(c0, c1), started, serverCpu, wall };
  } finally {
    await server.stop();
  }
}

/** "others on CPU0/1 a%/b%", the end of every per-run log line. */
function othersLog(other) {
  return `others on CPU0/1 ${pct(other.cpu0)}/${pct(other.cpu1)}`;
}

/** The median over a cell's runs of kind `kind` of `get(run)`. */
function cellMedian(cell, kind, get) {
  return median(cell.runs[kind].map(get));
}

/** The opening of every table's description: the peers-only note if any, the machine and the command. */
function intro(missing) {
  return `${peersNote(missing, commandLine())}Machine: ${machine()}. Command: \`${commandLine()}\`; `;
}

/**
 * The end of every driver: saves the raw figures (`raw`) as benchmark/results/<name>-<time>.json,
 * prints `body`, and writes it as `### <title>` under `## <section>` of BENCHMARKS.md unless the
 * run is --quick (without --write) or --no-write.
 */
function publish(args, { name, raw, body, section, title }) {
  saveRaw(name, raw);
  console.log(body);
  if (shouldWrite(args)) writeBenchmarks(section, title, body);
}

module.exports = {
  KINDS,
  LABEL,
  PIN,
  ROOT,
  availableKinds,
  cellMedian,
  commandLine,
  compareTable,
  cpuSnap,
  cpuTimes,
  ensureLoadgen,
  fixed,
  fmt,
  interleaved,
  intro,
  kindTable,
  killAll,
  list,
  log,
  machine,
  measuredRun,
  median,
  numbers,
  otherCell,
  otherLoad,
  othersLog,
  parseArgs,
  pct,
  peersNote,
  prepare,
  publish,
  ratio,
  runLoadgen,
  runMain,
  saveRaw,
  shouldWrite,
  sleep,
  startServer,
  table,
  waitConnections,
  watchdog,
  writeBenchmarks,
};
