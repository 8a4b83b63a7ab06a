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
const { NativeTransform } = require('../binding');
const { codedError } = require('./validate');

const kOps = Symbol('ferrocast.transformOps');

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
    /** ndjson with `onError: 'skip'`: bad lines skipped so far. */
    this.skipped = 0;
  }

  _transform(chunk, _encoding, callback) {
    const chunks = Array.isArray(chunk) ? chunk.filter((c) => c.length > 0) : [chunk];
    if (chunks.length === 0 || chunks[0].length === 0) {
      callback();
      return;
    }
    this._run(this._native.process(chunks), callback);
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
    this._run(this._native.finish(), callback);
  }

  _run(promise, callback) {
    promise.then(
      (out) => {
        if (this.destroyed) return;
        let err = null;
        try {
          this._deliver(out);
        } catch (e) {
          err = e;
        }
        if (err === null && out.errorCode != null) err = errorFrom(out);
        callback(err);
      },
      (err) => {
        if (!this.destroyed) callback(err);
      },
    );
  }

  _deliver(out) {
    this.skipped += out.skipped;
    const data = out.data;
    if (data == null) return;
    if (this._sink === 'bytes') {
      this.push(data);
    } else if (this._sink === 'lines') {
      const ends = out.ends;
      if (this._lineBuffers) {
        for (let i = 0; i < ends.length; i += 2) this.push(data.subarray(ends[i], ends[i + 1]));
      } else {
        const text = data.toString('utf8');
        for (let i = 0; i < ends.length; i += 2) this.push(text.slice(ends[i], ends[i + 1]));
      }
    } else {
      // Rust validated every record: one JSON.parse makes them all.
      const records = JSON.parse(data.toString('utf8'));
      // A stream cannot carry null (push(null) ends it): `null` records are dropped.
      for (let i = 0; i < records.length; i++) if (records[i] !== null) this.push(records[i]);
    }
  }
}

module.exports = { FerroTransform, kOps };
