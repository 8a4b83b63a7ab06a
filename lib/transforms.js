'use strict';

/**
 * `transforms`: factories of stream.Transform instances whose work runs in Rust, off the main
 * thread (see lib/ferro-transform.js and src/transform/).
 *
 * Every factory takes stream options too: `highWaterMark`, `readableHighWaterMark`,
 * `writableHighWaterMark` (Node's defaults when absent).
 */

const { Transform } = require('node:stream');
const { FerroTransform, kOps } = require('./ferro-transform');
const {
  codedError,
  invalidType,
  validateBoolean,
  validateNumber,
  validateObject,
  validateOneOf,
  validateString,
} = require('./validate');

/** The longest line line-based transforms accept by default, in bytes: 16 MiB. */
const DEFAULT_MAX_LINE_LENGTH = 16 * 1024 * 1024;

const STREAM_OPTIONS = ['highWaterMark', 'readableHighWaterMark', 'writableHighWaterMark'];

function streamOptions(options) {
  const out = {};
  for (const key of STREAM_OPTIONS) {
    if (options[key] !== undefined) {
      out[key] = validateNumber(options[key], `options.${key}`, { min: 0, integer: true });
    }
  }
  return out;
}

function maxLineLength(options) {
  if (options.maxLineLength === undefined) return DEFAULT_MAX_LINE_LENGTH;
  return validateNumber(options.maxLineLength, 'options.maxLineLength', {
    min: 1,
    max: 2 ** 32 - 1,
    integer: true,
  });
}

function batch(options) {
  return options.batch === undefined ? false : validateBoolean(options.batch, 'options.batch');
}

function make(ops, options) {
  try {
    return new FerroTransform(ops, streamOptions(options));
  } catch (err) {
    if (err.code === 'InvalidArg') {
      throw codedError(SyntaxError, 'ERR_INVALID_PATTERN', `Invalid regular expression: ${err.message}`);
    }
    throw err;
  }
}

/** A pattern string (Rust regex syntax) or a RegExp (its source; the `i` flag is honoured). */
function pattern(value, options) {
  let ignoreCase = false;
  let source;
  if (value instanceof RegExp) {
    source = value.source;
    ignoreCase = value.flags.includes('i');
  } else if (typeof value === 'string') {
    source = value;
  } else {
    throw invalidType('pattern', 'of type string or an instance of RegExp', value);
  }
  if (options.ignoreCase !== undefined) ignoreCase = validateBoolean(options.ignoreCase, 'options.ignoreCase');
  return { pattern: source, ignoreCase };
}

/**
 * Uppercases text like String#toUpperCase (Unicode default case mapping; a character split
 * across chunks is handled).
 * @param {object} [options] stream options
 */
function uppercase(options = {}) {
  validateObject(options, 'options');
  return make([{ kind: 'uppercase' }], options);
}

/** Lowercases text like String#toLowerCase, Final_Sigma included. */
function lowercase(options = {}) {
  validateObject(options, 'options');
  return make([{ kind: 'lowercase' }], options);
}

/**
 * Splits text into lines (LF or CRLF, terminators removed); objectMode output.
 * @param {object} [options]
 * @param {number} [options.maxLineLength=16777216] bytes; a longer line is an ERR_LINE_TOO_LONG error
 * @param {'string'|'buffer'} [options.output='string']
 * @param {boolean} [options.batch=false] push an array of lines per processed chunk
 */
function lines(options = {}) {
  validateObject(options, 'options');
  const output = validateOneOf(options.output ?? 'string', 'options.output', ['string', 'buffer']);
  return make([{ kind: 'lines', maxLineLength: maxLineLength(options), output, batch: batch(options) }], options);
}

/**
 * Keeps the lines that match `pattern` (Rust regex syntax), terminators included.
 * @param {string|RegExp} pattern
 * @param {object} [options]
 * @param {boolean} [options.invert=false] keep the lines that do not match
 * @param {boolean} [options.ignoreCase=false]
 * @param {number} [options.maxLineLength=16777216]
 */
function grep(patternValue, options = {}) {
  validateObject(options, 'options');
  const p = pattern(patternValue, options);
  const invert = options.invert === undefined ? false : validateBoolean(options.invert, 'options.invert');
  return make(
    [{ kind: 'grep', ...p, invert, maxLineLength: maxLineLength(options) }],
    options,
  );
}

/**
 * Replaces every match of `pattern` in each line with `replacement` (JS syntax: `$&`, `$1`,
 * `$<name>`, `$$`).
 * @param {string|RegExp} pattern
 * @param {string} replacement
 * @param {object} [options] ignoreCase (default false), maxLineLength (default 16777216)
 */
function replace(patternValue, replacement, options = {}) {
  validateObject(options, 'options');
  const p = pattern(patternValue, options);
  validateString(replacement, 'replacement');
  return make(
    [{ kind: 'replace', ...p, replacement, maxLineLength: maxLineLength(options) }],
    options,
  );
}

/**
 * Parses newline-delimited JSON into objects (objectMode output). Blank lines are ignored;
 * `null` records are dropped (a stream cannot carry null).
 * @param {object} [options]
 * @param {'error'|'skip'} [options.onError='error'] a bad line is an ERR_NDJSON_INVALID_JSON
 *   error naming its line number, or is skipped and counted in `transform.skipped`
 * @param {number} [options.maxLineLength=16777216]
 * @param {boolean} [options.batch=false] push arrays of records (up to 64 KiB of JSON each, nulls
 *   kept) instead of one record per object
 */
function ndjson(options = {}) {
  validateObject(options, 'options');
  const onError = validateOneOf(options.onError ?? 'error', 'options.onError', ['error', 'skip']);
  return make([{ kind: 'ndjson', onError, maxLineLength: maxLineLength(options), batch: batch(options) }], options);
}

/**
 * Turns objects into newline-delimited JSON. Runs JSON.stringify on the main thread (it reads
 * the JS heap); objects written together are joined into one chunk.
 * @param {object} [options] stream options
 */
function stringify(options = {}) {
  validateObject(options, 'options');
  return new Transform({
    ...streamOptions(options),
    writableObjectMode: true,
    transform(value, _encoding, callback) {
      const text = JSON.stringify(value);
      callback(null, text === undefined ? undefined : `${text}\n`);
    },
    writev(entries, callback) {
      let text = '';
      for (const { chunk } of entries) {
        const one = JSON.stringify(chunk);
        if (one !== undefined) text += `${one}\n`;
      }
      if (text.length > 0) this.push(text);
      callback();
    },
  });
}

/**
 * Compresses into gzip, compatible with zlib.createGunzip().
 * @param {object} [options]
 * @param {number} [options.level=6] 0 (none) to 9 (smallest), as zlib
 */
function gzip(options = {}) {
  validateObject(options, 'options');
  const level =
    options.level === undefined || options.level === -1
      ? 6
      : validateNumber(options.level, 'options.level', { min: -1, max: 9, integer: true });
  return make([{ kind: 'gzip', level }], options);
}

/** Decompresses gzip (as written by zlib.createGzip() or gzip(1); members may be concatenated). */
function gunzip(options = {}) {
  validateObject(options, 'options');
  return make([{ kind: 'gunzip' }], options);
}

/**
 * Fuses transforms made by these factories into one, run in one Rust pass per chunk.
 * `lines()` and `ndjson()` may only come last; `stringify()` cannot be chained. The transforms
 * passed in are used as descriptions only; a trailing plain object gives stream options.
 * @param {...(Transform|object)} ops
 */
function chain(...ops) {
  let options = {};
  const last = ops[ops.length - 1];
  if (last !== undefined && !(last instanceof Transform)) {
    options = validateObject(ops.pop(), 'options');
  }
  if (ops.length === 0) {
    throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "ops" argument must be specified');
  }
  const stages = [];
  ops.forEach((op, i) => {
    if (!(op instanceof FerroTransform)) {
      throw invalidType(`ops[${i}]`, 'a transform made by ferrocast transforms (not stringify())', op);
    }
    const own = op[kOps];
    const kind = own[own.length - 1].kind;
    if ((kind === 'lines' || kind === 'ndjson') && i !== ops.length - 1) {
      throw codedError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        `The argument 'ops[${i}]' is ${kind}(), which produces objects and must come last`,
      );
    }
    stages.push(...own);
  });
  return make(stages, options);
}

module.exports = {
  DEFAULT_MAX_LINE_LENGTH,
  chain,
  grep,
  gunzip,
  gzip,
  lines,
  lowercase,
  ndjson,
  replace,
  stringify,
  uppercase,
};
