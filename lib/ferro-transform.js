'use strict';

/**
 * FerroTransform: a stream.Transform whose work runs in Rust, off the main thread
 * (src/transform/). Made by the factories in lib/transforms.js; not constructed directly.
 *
 * Each chunk, or every chunk the writable side buffered while the previous call was running
 * (`_writev`), goes to Rust with one call; the result comes back through a promise and is pushed
 * in call order. Up to IN_FLIGHT (lines: IN_FLIGHT_LINES) calls run ahead of delivery while the
 * readable side has room; beyond that a write callback waits for its result to be pushed, so
 * backpressure and highWaterMark are the stream's own. Input Buffers are read in place on a
 * worker thread, as node:zlib does (lines and ndjson copy them first): do not modify a chunk
 * after writing it.
 */

const { EventEmitter } = require('node:events');
const { Transform } = require('node:stream');
const { performance } = require('node:perf_hooks');
const { NativeTransform } = require('../binding');
const { codedError } = require('./validate');

const kOps = Symbol('ferrocast.transformOps');
/** Where Node keeps an emitter's `captureRejections` flag (own property; see emit below). */
const kCapture = Object.getOwnPropertySymbols(new EventEmitter()).find((s) => s.description === 'kCapture');

/**
 * How long object delivery may hold the event loop before it yields (setImmediate), in ms. Short,
 * so that the source's next chunk (a file read that completed meanwhile) reaches Rust while this
 * thread is still pushing the current result: with 2 ms, one result's lines went out in one
 * slice and the next chunk waited for it, then this thread waited for Rust (lines() at 1 GiB:
 * 831 -> 971 MB/s with 0.25 ms, BENCHMARKS.md).
 */
const SLICE_MS = 0.25;
/** Objects pushed between two looks at the clock. */
const SLICE_STEP = 256;
/**
 * Calls to Rust submitted and not yet delivered, at most (see FerroTransform#_release): for
 * lines(), and for the others. lines() pushes in slices that yield to the event loop, and each
 * hop (the source's read completing, the call settling) waits for a slice to end: with 2, the
 * next result was often not ready when the previous one was pushed, and this thread sat idle
 * 90-130 ms per GiB; with 3, 25-46 ms (1.13 -> 1.04 s per GiB, BENCHMARKS.md). Byte transforms
 * did not gain from 3, nor did ndjson(), whose Rust parse is its bound; with 3 its peak RSS growth
 * reached 65-67 MiB in 2 of 5 runs at 1 GiB (2: at most 59).
 */
const IN_FLIGHT = 2;
const IN_FLIGHT_LINES = 3;
/**
 * Calls running in Rust at once, at most. Rust keeps call order whatever the number, but the
 * engine runs one input at a time, so a second call only waits for the first. Measured on
 * 2 cores (BENCHMARKS.md): with 2, uppercase() did not gain and lines() ran slower (530 vs
 * 670 MB/s at 1 GiB) with a higher peak RSS. Rust still overlaps with this thread: the next chunk
 * is handed over before a result is pushed (see `settle` in _submit).
 */
const MAX_COMPUTING = 1;

/** Bit 31 of a line's start in `ends`: the line is in the UTF-16 pieces (see _deliverLines). */
const WIDE = 2 ** 31;

/**
 * Cuts lines out of consecutive pieces of text, `piece(0)`, `piece(1)`...: `(start, end)` counts
 * UTF-16 units over all the pieces, and calls come in increasing order. A piece is made when its
 * first line is due and let go once passed, so that only one lives at a time.
 */
function slicer(piece) {
  let p = -1;
  let text = '';
  let before = 0; // units in the pieces before `text`
  return (start, end) => {
    if (start === end) return '';
    while (start - before >= text.length) {
      before += text.length;
      text = piece(++p);
    }
    return text.slice(start - before, end - before);
  };
}

function errorFrom(out) {
  const err = codedError(Error, out.errorCode, out.errorMessage);
  if (out.errorLine != null) err.lineNumber = out.errorLine;
  return err;
}

class FerroTransform extends Transform {
  /**
   * @param {object[]} ops the stages, validated (see TransformOp in binding.d.ts)
   * @param {object} [streamOptions] highWaterMark, readableHighWaterMark, writableHighWaterMark
   */
  constructor(ops, streamOptions = {}) {
    const sink = ops[ops.length - 1].kind;
    const objectOut = sink === 'lines' || sink === 'ndjson';
    super({ ...streamOptions, readableObjectMode: objectOut, decodeStrings: true });
    this[kOps] = ops;
    this._native = new NativeTransform(ops);
    this._sink = objectOut ? sink : 'bytes';
    this._lineBuffers = sink === 'lines' && ops[ops.length - 1].output === 'buffer';
    this._batch = objectOut && ops[ops.length - 1].batch === true;
    this._inFlight = sink === 'lines' ? IN_FLIGHT_LINES : IN_FLIGHT;
    /** ndjson with `onError: 'skip'`: bad lines skipped so far. */
    this.skipped = 0;
    this._jobs = [];
    this._delivering = false;
    this._failed = false;
    /** Calls running in Rust (not settled yet). */
    this._computing = 0;
    /** Line (ndjson: string) boundaries of the result being delivered, reused from call to call. */
    this._ends = null;
    /** ndjson: the record shapes Rust has described so far, compiled (see compileShape). */
    this._shapes = [];
    /** ndjson: shape ids and numbers of the result being delivered (reused like `_ends`). */
    this._recs = null;
    this._nums = null;
  }

  /**
   * EventEmitter#emit, with 'data' to a single listener (the usual case: a pipe, `on('data')`)
   * called directly. Node's own emit looks the listener up with `events[type]`, a lookup that
   * goes slow (megamorphic) as soon as the process emits a second event name anywhere, here the
   * source's 'pause' and 'resume' on the first backpressure: one object per line makes that
   * lookup a cost (lines() at 1 GiB: 7% less main-thread CPU, BENCHMARKS.md). Same behaviour:
   * listeners that return a value only matter with `captureRejections`, which takes Node's path,
   * and so does every other case.
   */
  emit(type, chunk) {
    if (type === 'data' && arguments.length === 2 && kCapture !== undefined && this[kCapture] === false) {
      const handler = this._events?.data;
      if (typeof handler === 'function') {
        handler.call(this, chunk);
        return true;
      }
    }
    return super.emit.apply(this, arguments);
  }

  _transform(chunk, _encoding, callback) {
    const chunks = Array.isArray(chunk) ? chunk.filter((c) => c.length > 0) : [chunk];
    if (chunks.length === 0 || chunks[0].length === 0) {
      callback();
      return;
    }
    this._submit(this._native.process(chunks), callback, false);
    this._release();
  }

  // Chunks written while a call was running go to Rust together, in one call.
  _writev(entries, callback) {
    this._write(
      entries.map((e) => e.chunk),
      'buffer',
      callback,
    );
  }

  _flush(callback) {
    this._submit(this._native.finish(), callback, true);
  }

  /**
   * Queues a Rust call's result for delivery, in call order. Rust processes the calls' inputs one
   * at a time, in call order, whichever worker thread runs them.
   */
  _submit(promise, callback, flush) {
    const job = { callback, flush, released: false, out: null, result: null, err: null, settled: false };
    this._jobs.push(job);
    this._computing++;
    const settle = () => {
      job.settled = true;
      this._computing--;
      this._release();
      // Deliver after the ticks the write callback queued (drain, the source's next chunk, its
      // _transform): Rust then works on the next chunk while this thread pushes this result.
      process.nextTick(() => this._pump());
    };
    promise.then(
      (out) => {
        job.out = out;
        settle();
      },
      (err) => {
        job.err = err;
        settle();
      },
    );
  }

  /**
   * Takes the next chunk before this one's result has been pushed: the newest call's write
   * callback runs at once (or when an earlier call settles) while fewer than `_inFlight` calls
   * are undelivered, at most MAX_COMPUTING run in Rust and the readable side has room, so that Rust
   * works on the next chunk while results cross threads and are pushed (bounded memory, same
   * order). Otherwise the callback waits for the call's delivery, and the stream's own
   * backpressure applies.
   */
  _release() {
    const job = this._jobs[this._jobs.length - 1];
    if (
      job === undefined ||
      job.released ||
      job.flush ||
      this._jobs.length >= this._inFlight ||
      this._computing >= MAX_COMPUTING ||
      this._failed ||
      this.destroyed ||
      this.readableLength >= this.readableHighWaterMark
    ) {
      return;
    }
    job.released = true;
    job.callback();
  }

  /** Delivers the oldest settled result, then releases the newest call if there is room. */
  _pump() {
    if (this.destroyed || this._delivering) return;
    const job = this._jobs[0];
    if (job === undefined || !job.settled) return;
    this._delivering = true;
    // Rust kept the result until now (see NativeStepResult); line boundaries go into one reused
    // array, or come in a new one that is reused from then on.
    if (job.err === null) {
      job.result = job.out;
      job.out = job.result.take(this._ends, this._recs, this._nums);
      if (job.out.ends != null) this._ends = job.out.ends;
      if (job.out.recs != null) this._recs = job.out.recs;
      if (job.out.nums != null) this._nums = job.out.nums;
    }
    if (job.err !== null || job.out.errorCode != null) this._failed = true;
    this._deliver(job, (err) => {
      this._jobs.shift();
      job.result?.release();
      this._delivering = false;
      if (!job.released) {
        job.released = true;
        job.callback(err);
      } else if (err) this.destroy(err);
      this._release();
      this._pump();
    });
  }

  _deliver(job, done) {
    if (job.err !== null) {
      done(job.err);
      return;
    }
    const out = job.out;
    this.skipped += out.skipped;
    const finish = (err) => {
      if (this.destroyed) return;
      if (err == null && out.errorCode != null) err = errorFrom(out);
      done(err ?? null);
    };
    if (out.data == null && out.pieces == null && out.widePieces == null && out.recsLength == null) finish(null);
    else if (this._sink === 'bytes') {
      this.push(out.data);
      finish(null);
    } else if (this._sink === 'lines') this._deliverLines(job.result, out, finish);
    else this._deliverRecords(job.result, out, finish);
  }

  // Lines go out as strings made from pieces of text (see `texts`), or as Buffers over `data`.
  _deliverLines(result, out, done) {
    const { data } = out;
    const ends = this._ends;
    let line;
    if (this._lineBuffers) line = (j) => data.subarray(ends[2 * j], ends[2 * j + 1]);
    else {
      const text = texts(result, ends);
      line = (j) => text(2 * j);
    }
    this._deliverObjects(out.endsLength / 2, line, done);
  }

  // ndjson: each record is made from its shape (keys, nesting, the kind of each value; compiled
  // once into a function, see compileShape) and its values, which Rust parsed off the main
  // thread: numbers and booleans from `nums`, strings from the texts (see `texts`), in order. A
  // record without a shape (shape id 0) comes as its JSON text, for JSON.parse.
  _deliverRecords(result, out, done) {
    const shapes = this._shapes;
    if (out.shapes != null) for (const d of out.shapes) shapes.push(compileShape(JSON.parse(d)));
    const recs = this._recs;
    const nums = this._nums;
    const text = texts(result, this._ends);
    let k = 0;
    const str = () => {
      const s = text(k);
      k += 2;
      return s;
    };
    let at = 0;
    const record = (r) => {
      const id = recs[r];
      if (id === 0) return JSON.parse(str());
      const shape = shapes[id - 1];
      const value = shape.make(nums, at, str);
      at += shape.nums;
      return value;
    };
    this._deliverObjects(out.recsLength ?? 0, record, done);
  }

  /**
   * Pushes `item(0)` .. `item(n - 1)` in order: as one array with `batch`, else one object each,
   * for at most SLICE_MS at a time, yielding to the event loop in between, so that a big chunk of
   * short lines or records never holds the main thread for long. A stream cannot carry null
   * (push(null) ends it): `null` items (ndjson records) are dropped, except in a batch. What
   * `item` throws fails the stream.
   */
  _deliverObjects(n, item, done) {
    let i = 0;
    const step = () => {
      if (this.destroyed) return;
      const deadline = performance.now() + SLICE_MS;
      try {
        if (this._batch) {
          const batch = new Array(n);
          for (; i < n; i++) batch[i] = item(i);
          this.push(batch);
          done(null);
          return;
        }
        do {
          const stop = Math.min(n, i + SLICE_STEP);
          for (; i < stop; i++) {
            const value = item(i);
            if (value !== null) this.push(value);
          }
        } while (i < n && performance.now() < deadline);
      } catch (err) {
        done(err);
        return;
      }
      if (i < n) setImmediate(step);
      else done(null);
    };
    step();
  }
}

/**
 * The strings of a result whose text came in pieces (lines as strings, ndjson): `text(i)` is the
 * string at `ends[i]`, `ends[i + 1]`, with `i` even and increasing from call to call. Rust
 * decoded the text off the main thread into pieces of about 32 KiB (whole lines or strings):
 * one-byte pieces for what is all below U+0100 (`result.text(p)`), UTF-16 for the rest
 * (`result.wideText(p)`), each made into a JS string when its first string is due. A start with
 * bit 31 set (WIDE) counts in the UTF-16 pieces; a string is a slice of its piece.
 */
function texts(result, ends) {
  const narrow = slicer((p) => result.text(p));
  const wide = slicer((p) => result.wideText(p));
  return (i) => {
    const start = ends[i];
    return start >= WIDE ? wide(start - WIDE, ends[i + 1]) : narrow(start, ends[i + 1]);
  };
}

/**
 * Compiles an ndjson record shape (`describe` in src/transform/ndjson.rs: 0 a number, 1 a
 * string, 2 a boolean, 3 null, an array of shapes, or `{ k: keys, v: shapes }`) into
 * `{ make(nums, at, str), nums }`: `make` builds a record from the numbers at `nums[at]` on and
 * the strings `str()` hands out in order; `nums` is how many numbers it takes. The function is an
 * object literal made with `new Function` (keys written with JSON.stringify, so any key is a
 * plain string literal; Rust leaves out `__proto__` and index keys, whose literal would mean
 * something else than JSON.parse's property). Where code generation is disallowed
 * (`--disallow-code-generation-from-strings`), the shape is walked instead.
 */
function compileShape(desc) {
  let nums = 0;
  const expr = (d) => {
    if (d === 0) return `n[i + ${nums++}]`;
    if (d === 1) return 's()';
    if (d === 2) return `n[i + ${nums++}] === 1`;
    if (d === 3) return 'null';
    if (Array.isArray(d)) return `[${d.map(expr).join(', ')}]`;
    return `{ ${d.k.map((key, j) => `${JSON.stringify(key)}: ${expr(d.v[j])}`).join(', ')} }`;
  };
  const body = expr(desc);
  if (codegen) {
    try {
      return { make: new Function('n', 'i', 's', `return ${body};`), nums };
    } catch (err) {
      if (!(err instanceof EvalError)) throw err;
      codegen = false;
    }
  }
  return { make: (n, i, s) => walkShape(desc, n, { i }, s), nums };
}

/** Whether `new Function` works here (see compileShape). */
let codegen = true;

/** Builds a record from its shape without generated code (see compileShape). */
function walkShape(d, n, at, s) {
  if (d === 0) return n[at.i++];
  if (d === 1) return s();
  if (d === 2) return n[at.i++] === 1;
  if (d === 3) return null;
  if (Array.isArray(d)) return d.map((e) => walkShape(e, n, at, s));
  const o = {};
  for (let j = 0; j < d.k.length; j++) o[d.k[j]] = walkShape(d.v[j], n, at, s);
  return o;
}

module.exports = { FerroTransform, kOps };
