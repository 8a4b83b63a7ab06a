'use strict';

/**
 * FerroTransform: a stream.Transform whose work runs in Rust, off the main thread
 * (src/transform/). Made by the factories in lib/transforms.js; not constructed directly.
 *
 * Each chunk, or every chunk the writable side buffered while the previous call was running
 * (`_writev`), goes to Rust with one call; the result comes back through a promise and is pushed
 * before the write callback runs, so chunk order, backpressure and highWaterMark are the
 * stream's own. Input Buffers are read in place on a worker thread, as node:zlib does: do not
 * modify a chunk after writing it.
 */

const { Transform } = require('node:stream');
const { performance } = require('node:perf_hooks');
const { NativeTransform } = require('../binding');
const { codedError } = require('./validate');

const kOps = Symbol('ferrocast.transformOps');

/** How long object delivery may hold the event loop before it yields (setImmediate), in ms. */
const SLICE_MS = 2;
/** Objects pushed between two looks at the clock. */
const SLICE_STEP = 256;

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
    /** ndjson with `onError: 'skip'`: bad lines skipped so far. */
    this.skipped = 0;
    this._jobs = [];
    this._delivering = false;
  }

  _transform(chunk, _encoding, callback) {
    const chunks = Array.isArray(chunk) ? chunk.filter((c) => c.length > 0) : [chunk];
    if (chunks.length === 0 || chunks[0].length === 0) {
      callback();
      return;
    }
    this._submit(this._native.process(chunks), callback, false);
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
   * Queues a Rust call's result for delivery, in call order. Rust runs one call at a time for a
   * transform: the next chunk is only taken once the previous call has returned.
   */
  _submit(promise, callback, flush) {
    const job = { callback, flush, out: null, err: null, settled: false };
    this._jobs.push(job);
    promise.then(
      (out) => {
        job.out = out;
        job.settled = true;
        this._pump();
      },
      (err) => {
        job.err = err;
        job.settled = true;
        this._pump();
      },
    );
  }

  /**
   * Delivers the oldest settled result. When the readable side has room, the write callback runs
   * before the objects are pushed, so Rust works on the next chunk while this thread pushes
   * the current one (at most one chunk ahead: bounded memory, same order). Otherwise the
   * callback waits for the push, and the stream's own backpressure applies.
   */
  _pump() {
    if (this.destroyed || this._delivering) return;
    const job = this._jobs[0];
    if (job === undefined || !job.settled) return;
    this._delivering = true;
    const early =
      !job.flush &&
      job.err === null &&
      job.out.errorCode == null &&
      this.readableLength < this.readableHighWaterMark;
    if (early) job.callback();
    this._deliver(job, (err) => {
      this._jobs.shift();
      this._delivering = false;
      if (!early) job.callback(err);
      else if (err) this.destroy(err);
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
    if (out.data == null && out.texts == null) finish(null);
    else if (this._sink === 'bytes') {
      this.push(out.data);
      finish(null);
    } else if (this._sink === 'lines') this._deliverLines(out, finish);
    else this._deliverRecords(out, finish);
  }

  // Objects are pushed for at most SLICE_MS at a time, yielding to the event loop in between, so
  // that a big chunk of short lines never holds the main thread for long. Strings come as
  // `texts`: pieces of about 32 KiB of whole lines, decoded by Rust off the main thread; `ends`
  // counts UTF-16 units over all of them, and a line's string is a slice of its piece.
  _deliverLines(out, done) {
    const { data, texts, ends } = out;
    let line;
    if (this._lineBuffers) line = (i) => data.subarray(ends[i], ends[i + 1]);
    else {
      let p = -1;
      let piece = '';
      let pieceUnits = 0; // UTF-16 units before `piece`
      line = (i) => {
        let start = ends[i] - pieceUnits;
        while (start >= piece.length) {
          pieceUnits += piece.length;
          if (p >= 0) texts[p] = undefined; // let a delivered piece be collected
          piece = texts[++p];
          start = ends[i] - pieceUnits;
        }
        return piece.slice(start, ends[i + 1] - pieceUnits);
      };
    }
    if (this._batch) {
      const batch = new Array(ends.length / 2);
      for (let i = 0; i < ends.length; i += 2) batch[i / 2] = line(i);
      this.push(batch);
      done(null);
      return;
    }
    this._deliverEach(ends.length, line, done);
  }

  /** Pushes `line(i)` for every even `i` below `n`, in SLICE_MS slices. */
  _deliverEach(n, line, done) {
    let i = 0;
    const step = () => {
      if (this.destroyed) return;
      const deadline = performance.now() + SLICE_MS;
      do {
        const stop = Math.min(n, i + 2 * SLICE_STEP);
        for (; i < stop; i += 2) this.push(line(i));
      } while (i < n && performance.now() < deadline);
      if (i < n) setImmediate(step);
      else done(null);
    };
    step();
  }

  // `texts` holds groups of records, each a JSON array text Rust validated: one JSON.parse per
  // group makes its objects. The texts are ASCII only (Rust escaped the rest), so they are
  // one-byte strings, which V8 parses fastest.
  _deliverRecords(out, done) {
    const { texts } = out;
    let group = 0;
    let records = null;
    let k = 0;
    const step = () => {
      if (this.destroyed) return;
      const deadline = performance.now() + SLICE_MS;
      let pushed = 0;
      try {
        for (;;) {
          if (pushed >= SLICE_STEP) {
            if (performance.now() >= deadline) break;
            pushed = 0;
          }
          if (records === null) {
            if (group === texts.length) {
              done(null);
              return;
            }
            records = JSON.parse(texts[group]);
            texts[group++] = undefined;
            k = 0;
            if (this._batch) {
              this.push(records);
              pushed += records.length;
              records = null;
              continue;
            }
          }
          // A stream cannot carry null (push(null) ends it): `null` records are dropped.
          for (; k < records.length && pushed < SLICE_STEP; k++, pushed++) {
            if (records[k] !== null) this.push(records[k]);
          }
          if (k === records.length) records = null;
        }
      } catch (err) {
        done(err);
        return;
      }
      setImmediate(step);
    };
    step();
  }
}

module.exports = { FerroTransform, kOps };
