// Public types of `require('ferrocast')`. Hand-written over the generated binding.d.ts.
import EventEmitter = require('./events');
import { Transform, TransformOptions } from 'node:stream';

declare namespace ferrocast {
  export { EventEmitter };

  /** Facts about the addon's tokio runtime. */
  export interface RuntimeInfo {
    /** Worker threads in the runtime (the machine's available parallelism). */
    workers: number;
    /** Tasks alive on the runtime now. */
    aliveTasks: number;
  }

  /** Describes the addon's tokio runtime. */
  export function runtimeInfo(): RuntimeInfo;

  /**
   * Stream transforms whose work runs in Rust, off the main thread. Each factory returns a real
   * `stream.Transform`; its options also take the stream's `highWaterMark`,
   * `readableHighWaterMark` and `writableHighWaterMark`.
   */
  export namespace transforms {
    /** Options every transform accepts: the stream's buffer limits. */
    type StreamOptions = Pick<
      TransformOptions,
      'highWaterMark' | 'readableHighWaterMark' | 'writableHighWaterMark'
    >;

    interface LineOptions extends StreamOptions {
      /** The longest line, in bytes without its terminator; longer is an `ERR_LINE_TOO_LONG` error. Default 16777216. */
      maxLineLength?: number;
    }

    interface PatternOptions extends LineOptions {
      /** Match case-insensitively. Default false (or the RegExp's `i` flag). */
      ignoreCase?: boolean;
    }

    /** A transform made by these factories (objects out for `lines` and `ndjson`). */
    interface FerroTransform extends Transform {
      /** `ndjson({ onError: 'skip' })`: bad lines skipped so far. */
      readonly skipped: number;
    }

    /** The longest line accepted by default: 16 MiB. */
    const DEFAULT_MAX_LINE_LENGTH: number;

    /** Uppercases like `String#toUpperCase()`; characters split across chunks are handled. */
    function uppercase(options?: StreamOptions): FerroTransform;
    /** Lowercases like `String#toLowerCase()` (Final_Sigma included). */
    function lowercase(options?: StreamOptions): FerroTransform;
    /** Splits into lines (LF or CRLF, terminators removed): strings, or Buffers with `output: 'buffer'`. */
    function lines(options?: LineOptions & { output?: 'string' | 'buffer'; batch?: boolean }): FerroTransform;
    /** Keeps the lines matching `pattern` (Rust `regex` syntax), or with `invert` those that do not. */
    function grep(pattern: string | RegExp, options?: PatternOptions & { invert?: boolean }): FerroTransform;
    /** Replaces every match in each line; `replacement` uses JS syntax (`$&`, `$1`, `$<name>`, `$$`). */
    function replace(pattern: string | RegExp, replacement: string, options?: PatternOptions): FerroTransform;
    /** Parses ndjson into values; a bad line is an `ERR_NDJSON_INVALID_JSON` error (default) or skipped and counted. */
    function ndjson(options?: LineOptions & { onError?: 'error' | 'skip'; batch?: boolean }): FerroTransform;
    /** Serialises values as ndjson (JSON.stringify on the main thread). */
    function stringify(options?: StreamOptions): Transform;
    /** Compresses into gzip. `level` 0-9, default 6. */
    function gzip(options?: StreamOptions & { level?: number }): FerroTransform;
    /** Decompresses gzip (concatenated members too). */
    function gunzip(options?: StreamOptions): FerroTransform;
    /** Fuses transforms from these factories into one Rust pass; `lines`/`ndjson` only last. */
    function chain(...ops: Array<FerroTransform | StreamOptions>): FerroTransform;
  }
}

export = ferrocast;
