'use strict';

// Stream transforms, ferrocast (Rust, off the main thread) against the JS equivalents, piped
// file → transform → file (or → a counting object sink for lines and ndjson).
//
//   node benchmark/transform.js              # 256 MiB files, 3 rounds
//   node benchmark/transform.js --size 1g    # the issue's 1 GiB
//   node benchmark/transform.js --quick      # 64 MiB, 2 rounds
//   options: --rounds N, --warmup N (uncounted rounds first, default 1), --chunk 1m (read chunk
//            size), --only uppercase,grep,...,
//            --dir DIR (where files go: default /dev/shm when it exists, else os.tmpdir(); on a
//            disk, writeback throttling of the output files caps both peers at the disk's speed),
//            --base DIR (also run the transforms of another ferrocast checkout, built, as
//            "before", interleaved with this one: a before/after table),
//            --impls js,ferro,base (which to run; default js,ferro, plus base with --base)
//   ceilings (one implementation, not in the default run): --only passthrough (fs streams with a
//   PassThrough: what any byte transform can reach here), --only lines-floor (a Transform that
//   pushes precomputed strings, one per line: what any lines() can reach here), --only
//   ndjson-floor (JSON.parse of precomputed groups of records and one push per record: what an
//   ndjson() that makes objects with JSON.parse on the main thread can reach here)
//
// Each measurement runs in a fresh process so that its event-loop delay and peak RSS are its own;
// peers alternate within each round (interleaved) and figures are medians. The first round checks
// that both produce the same output. Files are generated in --dir and removed at the end.

const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { StringDecoder } = require('node:string_decoder');
const { PassThrough, Transform, Writable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const { parseArgs } = require('./lib/cli');
const { median, table } = require('./lib/table');

function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)i?b?$/i.exec(String(s));
  if (!m) throw new Error(`bad size: ${s}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()];
  return Math.round(Number(m[1]) * mult);
}

const GREP = 'ERROR|timeout';

// ---------------------------------------------------------------------------------------------
// The JS peers.

/** The seed's toUpperCase Transform, with a StringDecoder so a character split across chunks is
 * decoded correctly and the output can be compared byte for byte. */
function jsUppercase() {
  const decoder = new StringDecoder('utf8');
  return new Transform({
    transform(chunk, _enc, cb) {
      cb(null, decoder.write(chunk).toUpperCase());
    },
    flush(cb) {
      cb(null, decoder.end().toUpperCase());
    },
  });
}

/**
 * The JS peers that work on lines: decodes UTF-8 across chunks, splits on '\n' and passes each
 * chunk's complete lines to `lines(parts)` and, at the end, the unterminated rest to
 * `rest(tail)`, both called with the stream as `this`; what they return (unless undefined) is
 * pushed, and what they throw fails the stream.
 */
function lineSplitter({ objects, lines, rest }) {
  const decoder = new StringDecoder('utf8');
  let tail = '';
  return new Transform({
    readableObjectMode: objects,
    transform(chunk, _enc, cb) {
      const parts = (tail + decoder.write(chunk)).split('\n');
      tail = parts.pop();
      let out;
      try {
        out = lines.call(this, parts);
      } catch (e) {
        return cb(e);
      }
      cb(null, out);
    },
    flush(cb) {
      let out;
      try {
        out = rest.call(this, tail + decoder.end());
      } catch (e) {
        return cb(e);
      }
      cb(null, out);
    },
  });
}

const withoutCR = (l) => (l.endsWith('\r') ? l.slice(0, -1) : l);

/** Split into lines, keep those that match, join them back (then `map` what is kept). */
function jsGrep(map = (s) => s) {
  const re = new RegExp(GREP);
  return lineSplitter({
    objects: false,
    lines(parts) {
      const kept = parts.filter((l) => re.test(l));
      return kept.length ? map(kept.join('\n') + '\n') : undefined;
    },
    rest: (tail) => (tail && re.test(tail) ? map(tail) : undefined),
  });
}

/** grep, then toUpperCase on what is kept: the JS version of chain(grep(), uppercase()). */
function jsGrepUpper() {
  return jsGrep((s) => s.toUpperCase());
}

/** Split into lines, one object per line. */
function jsLines() {
  return lineSplitter({
    objects: true,
    lines(parts) {
      for (const l of parts) this.push(withoutCR(l));
    },
    rest(tail) {
      if (tail) this.push(tail);
    },
  });
}

/** Split into lines, one array of lines per chunk. */
function jsLinesBatch() {
  return lineSplitter({ objects: true, lines: (parts) => parts.map(withoutCR), rest: (tail) => (tail ? [tail] : undefined) });
}

/** JSON.parse per line, one array of records per chunk. */
function jsNdjsonBatch() {
  return lineSplitter({
    objects: true,
    lines(parts) {
      const out = [];
      for (const l of parts) if (l.trim()) out.push(JSON.parse(l));
      return out;
    },
    rest: (tail) => (tail.trim() ? [JSON.parse(tail)] : undefined),
  });
}

/** JSON.parse per line. */
function jsNdjson() {
  return lineSplitter({
    objects: true,
    lines(parts) {
      for (const l of parts) if (l.trim()) this.push(JSON.parse(l));
    },
    rest(tail) {
      if (tail.trim()) this.push(JSON.parse(tail));
    },
  });
}

/** Counts the lines of the generated input (makeBlock(kind), repeated) that end below byte `x`. */
function lineCounter(block) {
  const newlines = [];
  for (let i = block.indexOf(10); i !== -1; i = block.indexOf(10, i + 1)) newlines.push(i);
  const linesBelow = (x) => {
    const r = x % block.length;
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newlines[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return Math.floor(x / block.length) * newlines.length + lo;
  };
  return linesBelow;
}

/** The ceiling of a lines() transform: one push per line of strings made before the run. */
function jsLinesFloor() {
  const block = makeBlock('text');
  const lines = block.toString().split('\n');
  lines.pop();
  const linesBelow = lineCounter(block);
  let pos = 0;
  return new Transform({
    readableObjectMode: true,
    transform(chunk, _enc, cb) {
      const end = linesBelow(pos + chunk.length);
      for (let j = linesBelow(pos); j < end; j++) this.push(lines[j % lines.length]);
      pos += chunk.length;
      cb();
    },
  });
}

/**
 * The ceiling of an ndjson() transform that makes its objects with JSON.parse on the main thread:
 * JSON.parse of ~64 KiB groups of records (`[a,b,...]`, made before the run) and one push per
 * record.
 */
function jsNdjsonFloor() {
  const block = makeBlock('ndjson');
  const lines = block.toString().split('\n');
  lines.pop();
  const groups = [];
  for (let i = 0; i < lines.length; ) {
    const group = [];
    for (let bytes = 0; i < lines.length && bytes < 65536; i++) {
      group.push(lines[i]);
      bytes += lines[i].length;
    }
    groups.push(`[${group.join(',')}]`);
  }
  const linesBelow = lineCounter(block);
  let pos = 0;
  let g = 0;
  let records = [];
  let k = 0;
  return new Transform({
    readableObjectMode: true,
    transform(chunk, _enc, cb) {
      let n = linesBelow(pos + chunk.length) - linesBelow(pos);
      pos += chunk.length;
      for (; n > 0; n--) {
        if (k === records.length) {
          records = JSON.parse(groups[g]);
          g = (g + 1) % groups.length;
          k = 0;
        }
        this.push(records[k++]);
      }
      cb();
    },
  });
}

const CASES = {
  uppercase: { file: 'text', objects: false, js: jsUppercase, ferro: (t) => t.uppercase(), jsName: "seed's toUpperCase Transform" },
  grep: { file: 'text', objects: false, js: jsGrep, ferro: (t) => t.grep(GREP), jsName: 'split + RegExp filter' },
  'chain-grep-uppercase': {
    file: 'text',
    objects: false,
    js: jsGrepUpper,
    ferro: (t) => t.chain(t.grep(GREP), t.uppercase()),
    jsName: 'chain(grep(), uppercase()) vs split + RegExp filter + toUpperCase',
  },
  lines: { file: 'text', objects: true, js: jsLines, ferro: (t) => t.lines(), jsName: 'split, one push per line' },
  'lines-batch': {
    file: 'text',
    objects: true,
    js: jsLinesBatch,
    ferro: (t) => t.lines({ batch: true }),
    jsName: 'split, one array of lines per chunk',
  },
  ndjson: { file: 'ndjson', objects: true, js: jsNdjson, ferro: (t) => t.ndjson(), jsName: 'split + JSON.parse per line' },
  'ndjson-batch': {
    file: 'ndjson',
    objects: true,
    js: jsNdjsonBatch,
    ferro: (t) => t.ndjson({ batch: true }),
    jsName: 'split + JSON.parse per line, one array per chunk',
  },
  gzip: {
    file: 'text',
    objects: false,
    js: () => zlib.createGzip({ level: 6 }),
    ferro: (t) => t.gzip({ level: 6 }),
    jsName: 'zlib.createGzip level 6',
  },
  // Ceilings: one implementation each, run only when named in --only.
  passthrough: { file: 'text', objects: false, js: () => new PassThrough(), ferro: null, jsName: 'PassThrough' },
  'lines-floor': { file: 'text', objects: true, js: jsLinesFloor, ferro: null, jsName: 'Transform pushing precomputed strings' },
  'ndjson-floor': {
    file: 'ndjson',
    objects: true,
    js: jsNdjsonFloor,
    ferro: null,
    jsName: 'JSON.parse of precomputed 64 KiB groups, one push per record',
  },
};
const DEFAULT_CASES = Object.keys(CASES).filter((n) => CASES[n].ferro !== null);

// ---------------------------------------------------------------------------------------------
// Child: one measurement.

async function child([name, impl, input, output, chunk, base]) {
  const c = CASES[name];
  let transform;
  if (impl === 'js') transform = c.js();
  // Both load the package's entry point, as users do: what else is loaded changes what V8 has
  // seen when it optimizes the stream code.
  else if (impl === 'base') transform = c.ferro(require(path.resolve(base)).transforms);
  else transform = c.ferro(require('..').transforms);
  const hash = crypto.createHash('sha256');
  // The previous round's output goes before the clock starts: truncating a 1 GiB file on tmpfs
  // frees its pages (0.2 s here), which createWriteStream's open would otherwise do inside the
  // measured time.
  fs.rmSync(output, { force: true });
  let records = 0;
  let check = 0;
  const sink = c.objects
    ? new Writable({
        objectMode: true,
        highWaterMark: 1024,
        write(v, _e, cb) {
          const count = (x) => {
            records++;
            check += typeof x === 'string' ? x.length : x.n;
          };
          if (Array.isArray(v)) v.forEach(count);
          else count(v);
          cb();
        },
      })
    : fs.createWriteStream(output);
  const rss0 = process.memoryUsage.rss();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const t0 = process.hrtime.bigint();
  await pipeline(fs.createReadStream(input, { highWaterMark: Number(chunk) }), transform, sink);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  delay.disable();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  let digest = `${records}:${check}`;
  let outBytes = 0;
  if (!c.objects) {
    outBytes = fs.statSync(output).size;
    if (name !== 'gzip') {
      for await (const b of fs.createReadStream(output, { highWaterMark: 1 << 20 })) hash.update(b);
      digest = hash.digest('hex');
    }
  }
  const result = {
    seconds,
    loopP99: delay.percentile(99) / 1e6,
    loopMax: delay.max / 1e6,
    rssGrowth: maxRss - rss0,
    outBytes,
    digest,
  };
  process.stdout.write(JSON.stringify(result));
}

// ---------------------------------------------------------------------------------------------
// Parent: files, rounds, table.

/** A few MiB of distinct lines, which generate() repeats (deflate's 32 KiB window sees no repetition). */
function makeBlock(kind) {
  let seed = 42;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const words = ['alpha', 'beta', 'gamma', 'delta', 'request', 'user', 'session', 'cache', 'disk', 'queue', 'naïve', 'café', 'über'];
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
  const lines = [];
  let bytes = 0;
  for (let i = 0; bytes < 4 * 1024 * 1024; i++) {
    let line;
    if (kind === 'text') {
      const msg = Array.from({ length: 6 + rnd(8) }, () => words[rnd(words.length)]).join(' ');
      const tail = rnd(20) === 0 ? ' timeout after 30s' : '';
      line = `2026-11-27T04:${String(rnd(60)).padStart(2, '0')}:00.${rnd(1000)}Z ${levels[rnd(levels.length)]} [worker-${rnd(16)}] ${msg}${tail} id=${i}`;
    } else {
      line = JSON.stringify({ n: i, ts: 1764216000000 + i, level: levels[rnd(levels.length)], user: { id: rnd(1e6), name: words[rnd(words.length)] }, tags: [words[rnd(13)], words[rnd(13)]], ok: rnd(2) === 0, latency: rnd(10000) / 10 });
    }
    lines.push(line);
    bytes += line.length + 1;
  }
  return Buffer.from(lines.join('\n') + '\n');
}

function generate(kind, file, size) {
  const block = makeBlock(kind);
  const fd = fs.openSync(file, 'w');
  for (let written = 0; written < size; written += block.length) {
    fs.writeSync(fd, block, 0, Math.min(block.length, size - written));
  }
  fs.closeSync(fd);
  // End on a complete line.
  const s = fs.statSync(file).size;
  const fdr = fs.openSync(file, 'r+');
  const tail = Buffer.alloc(Math.min(4096, s));
  fs.readSync(fdr, tail, 0, tail.length, s - tail.length);
  fs.ftruncateSync(fdr, s - tail.length + tail.lastIndexOf(10) + 1);
  fs.closeSync(fdr);
}

const fmt = (n, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

function main() {
  const args = parseArgs();
  const opt = (name, dflt) => args[name] ?? dflt;
  const quick = Boolean(args.quick);
  const size = parseSize(opt('size', quick ? '64m' : '256m'));
  const rounds = Number(opt('rounds', quick ? 2 : 3));
  // On this VM the first writes into memory the guest has not touched before run several times
  // slower (every peer's first round here: 1 GiB uppercase 283-346 MB/s, then 800-1,100), so a
  // round that is not counted comes first.
  const warmup = Number(opt('warmup', 1));
  const chunk = parseSize(opt('chunk', '1m'));
  const only = opt('only', DEFAULT_CASES.join(',')).split(',');
  const base = opt('base', null);
  const impls = opt('impls', base ? 'js,ferro,base' : 'js,ferro').split(',');
  for (const name of only) if (!CASES[name]) throw new Error(`unknown case: ${name}`);
  const where = opt('dir', fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  const dir = fs.mkdtempSync(path.join(where, 'ferrocast-bench-'));
  const files = { text: path.join(dir, 'input.log'), ndjson: path.join(dir, 'input.ndjson') };
  const output = path.join(dir, 'output');
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  process.on('exit', cleanup);
  process.on('SIGINT', () => process.exit(130));

  const needed = new Set(only.map((n) => CASES[n].file));
  for (const kind of needed) generate(kind, files[kind], size);
  const sizes = Object.fromEntries([...needed].map((k) => [k, fs.statSync(files[k]).size]));
  console.log(
    `transform benchmark: ${Object.entries(sizes).map(([k, s]) => `${k} ${fmt(s / 2 ** 20)} MiB`).join(', ')}; ` +
      `read chunks ${fmt(chunk / 1024)} KiB; files in ${where}; ${rounds} rounds after ${warmup} uncounted; node ${process.version}; ${os.cpus().length} cores; ` +
      `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}${base ? `; before: ${base}` : ''}`,
  );

  const results = {};
  for (let r = -warmup; r < rounds; r++) {
    for (const name of only) {
      const mine = CASES[name].ferro === null ? ['js'] : impls;
      // Rotate the order from round to round (interleaved).
      const order = mine.map((_, i) => mine[(((i + r) % mine.length) + mine.length) % mine.length]);
      const last = {};
      for (const impl of order) {
        const res = spawnSync(
          process.execPath,
          // Each case and peer has its own output file, so that a run frees (rm, before its
          // clock starts) and then reuses the pages of its own previous output. Shared between
          // cases, uppercase's 1 GiB went to pages grep had freed tens of seconds before, which
          // this VM's balloon (free page reporting) had handed back to the host by then:
          // writing into them cost 2-4x the kernel time, and uppercase's rounds in a mixed run
          // came out at 350-750 or 1,000-1,300 MB/s depending on what ran before.
          [__filename, '--child', name, impl, files[CASES[name].file], `${output}-${name}-${impl}`, String(chunk), base ?? ''],
          { encoding: 'utf8', maxBuffer: 1 << 20 },
        );
        if (res.status !== 0) throw new Error(`${name}/${impl} failed: ${res.stderr}`);
        const m = JSON.parse(res.stdout);
        m.mbps = sizes[CASES[name].file] / 1e6 / m.seconds;
        last[impl] = m;
        if (r >= 0) ((results[name] ??= {})[impl] ??= []).push(m);
      }
      const digests = new Set(Object.values(last).map((m) => m.digest));
      if (r === -warmup && name !== 'gzip' && digests.size > 1) {
        throw new Error(`${name}: outputs differ (${mine.map((i) => `${i} ${last[i].digest}`).join(', ')})`);
      }
      const label = r < 0 ? `warm-up ${r + warmup + 1} (not counted)` : `round ${r + 1}`;
      process.stderr.write(`${label} ${name}: ${mine.map((i) => `${i} ${fmt(last[i].mbps)} MB/s`).join(', ')}\n`);
    }
  }
  const med = (xs, k) => median(xs.map((x) => x[k]));
  const mib = (xs) => fmt(med(xs, 'rssGrowth') / 2 ** 20, 1);

  const ceilings = only.filter((n) => CASES[n].ferro === null);
  if (ceilings.length > 0) {
    console.log('\n| ceiling | MB/s | loop p99 (ms) | peak RSS growth (MiB) |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const name of ceilings) {
      const { js } = results[name];
      console.log(`| ${name}: ${CASES[name].jsName} | ${fmt(med(js, 'mbps'))} | ${fmt(med(js, 'loopP99'), 1)} | ${mib(js)} |`);
    }
  }
  const compared = only.filter((n) => CASES[n].ferro !== null);
  if (base && impls.includes('base') && impls.includes('ferro')) {
    console.log('\n| transform | before MB/s | after MB/s | after / before | loop p99 before / after (ms) | peak RSS growth before / after (MiB) |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const name of compared) {
      const { base: b, ferro: a } = results[name];
      console.log(
        `| ${name} | ${fmt(med(b, 'mbps'))} | ${fmt(med(a, 'mbps'))} | ${fmt(med(a, 'mbps') / med(b, 'mbps'), 2)}x | ` +
          `${fmt(med(b, 'loopP99'), 1)} / ${fmt(med(a, 'loopP99'), 1)} | ${mib(b)} / ${mib(a)} |`,
      );
    }
  }
  if (compared.length === 0 || !impls.includes('js') || !impls.includes('ferro')) return;

  const rows = compared.map((name) => {
    const { js, ferro } = results[name];
    const ratio = med(ferro, 'mbps') / med(js, 'mbps');
    let extra = '';
    if (name === 'gzip') extra = ` (sizes: zlib ${fmt(med(js, 'outBytes') / 2 ** 20, 1)} MiB, ferrocast ${fmt(med(ferro, 'outBytes') / 2 ** 20, 1)} MiB)`;
    return [
      name,
      `${CASES[name].jsName}${extra}`,
      fmt(med(js, 'mbps')),
      fmt(med(ferro, 'mbps')),
      `${fmt(ratio, 2)}x`,
      `${fmt(med(js, 'loopP99'), 1)} / ${fmt(med(ferro, 'loopP99'), 1)}`,
      `${fmt(med(js, 'rssGrowth') / 2 ** 20, 1)} / ${fmt(med(ferro, 'rssGrowth') / 2 ** 20, 1)}`,
    ];
  });
  const header = ['transform', 'peer', 'JS MB/s', 'ferrocast MB/s', 'ratio', 'loop p99 JS / ferrocast (ms)', 'peak RSS growth JS / ferrocast (MiB)'];
  console.log(`\n${table(header, rows, 2)}`);
}

if (process.argv[2] === '--child') {
  child(process.argv.slice(3)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main();
}
