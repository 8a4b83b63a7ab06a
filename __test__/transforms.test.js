'use strict';

const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { Readable, Writable, Transform, pipeline } = require('node:stream');
const streamPromises = require('node:stream/promises');
const { transforms } = require('ferrocast');
const { execFile } = require('node:child_process');
const { runNode, ROOT } = require('./helpers');

/** A Readable that pushes `chunk` `total` times; `source.produced` counts the pushes so far. */
function repeatingSource(chunk, total) {
  const source = new Readable({
    read() {
      if (source.produced === total) return this.push(null);
      source.produced++;
      this.push(chunk);
    },
  });
  source.produced = 0;
  return source;
}

/** Writes `chunks` into `stream` and resolves with everything it produced. */
async function collect(stream, chunks) {
  const out = [];
  await streamPromises.pipeline(Readable.from(chunks, { objectMode: false }), stream, async function (src) {
    for await (const c of src) out.push(c);
  });
  return out;
}

async function collectText(stream, chunks) {
  return Buffer.concat(await collect(stream, chunks)).toString();
}

/** Every way to cut `buf` in two. */
function splits(buf) {
  const out = [];
  for (let k = 0; k <= buf.length; k++) out.push([buf.subarray(0, k), buf.subarray(k)].filter((b) => b.length));
  return out;
}

/** Asserts that `got` is what JSON.parse made (`want`): same values (-0 too), same key order, plain prototypes. */
function assertSameJson(got, want, where) {
  if (typeof want === 'number') {
    assert.ok(Object.is(got, want), `${where}: ${got} !== ${want}`);
  } else if (want === null || typeof want !== 'object') {
    assert.strictEqual(got, want, where);
  } else if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${where}: not an array`);
    assert.strictEqual(got.length, want.length, `${where}: length`);
    want.forEach((w, i) => assertSameJson(got[i], w, `${where}[${i}]`));
  } else {
    assert.strictEqual(Object.getPrototypeOf(got), Object.prototype, `${where}: prototype`);
    assert.deepStrictEqual(Reflect.ownKeys(got), Reflect.ownKeys(want), `${where}: keys`);
    for (const k of Object.keys(want)) assertSameJson(got[k], want[k], `${where}.${k}`);
  }
}

/**
 * `n` ndjson lines (JSON texts, some blank) that JSON.parse reads, with what a shape-based
 * parser could get wrong: key order, duplicate keys, `__proto__` and index keys, escapes, lone
 * surrogates, non-BMP and Latin-1 text, -0, exponents, integers past 2^53 and past 2^64,
 * subnormals, 1e400, deep nesting, long arrays, whitespace, and many shapes.
 */
function ndjsonCorpus(n) {
  let seed = 7;
  const rnd = (k) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  const numbers = ['0', '-0', '1', '-1', '0.1', '1e3', '1E-7', '-0.0', '2.5e+10', '9007199254740993', '18446744073709551616',
    '123456789012345678901234567890', '5e-324', '1.7976931348623157e308', '1e400', '-1e400', '0.30000000000000004', '4.35', '1234.5'];
  const strings = ['', 'plain', 'café', 'naïve über', '日本語', '😀', 'a\\"b', 'tab\\tnl\\n', '\\u00e9', '\\ud83d\\ude00',
    '\\ud800 lone', 'x\\udc00', '\\u2028', '\\/', 'ÿ\\u0100', 'x'.repeat(40)];
  const keys = ['a', 'b', 'id', 'name', '', 'café', 'k"q', '__proto__', '0', '12', '1a', '-1', 'constructor', 'toString', '日本', 'a b'];
  const value = (depth) => {
    const r = rnd(depth > 3 ? 6 : 9);
    if (r === 0) return numbers[rnd(numbers.length)];
    if (r === 1) return `"${strings[rnd(strings.length)]}"`;
    if (r === 2) return ['true', 'false', 'null'][rnd(3)];
    if (r <= 4) return String(rnd(1000) - 500);
    if (r === 5) return `"${keys[rnd(keys.length)]}"`;
    if (r <= 7) {
      const m = rnd(5);
      const members = Array.from({ length: m }, () => `"${keys[rnd(keys.length)]}"${rnd(4) === 0 ? ' : ' : ':'}${value(depth + 1)}`);
      return `{${members.join(rnd(5) === 0 ? ' , ' : ',')}}`;
    }
    const len = rnd(10) === 0 ? 70 + rnd(10) : rnd(5);
    return `[${Array.from({ length: len }, () => value(depth + 1)).join(',')}]`;
  };
  const lines = [];
  for (let i = 0; i < n; i++) {
    const r = rnd(40);
    if (r === 0) lines.push('');
    else if (r === 1) lines.push('  ');
    else if (r === 2) lines.push(`${'['.repeat(200)}${']'.repeat(200)}`);
    else if (r === 3) lines.push(`{"same":1,"same":2,"x":${value(0)}}`);
    else if (r < 20) lines.push(`{"id":${i},"level":"${['INFO', 'WARN', 'café'][rnd(3)]}","ok":${rnd(2) === 0},"lat":${rnd(10000) / 10},"tags":[${value(2)},${value(2)}]}`);
    else lines.push(rnd(3) === 0 ? ` ${value(0)}\r` : value(0));
  }
  return lines;
}

function tmpFile(name) {
  return path.join(os.tmpdir(), `ferrocast-transforms-${process.pid}-${name}`);
}

describe('transforms', function () {
  describe('uppercase / lowercase', function () {
    it('is exported from the CommonJS and ESM entries', async function () {
      const r = await runNode(
        `import ferrocast, { transforms } from 'ferrocast';
         console.log(transforms === ferrocast.transforms && typeof transforms.chain);`,
        { args: ['--input-type=module'] },
      );
      assert.strictEqual(r.stdout.trim(), 'function', r.stderr);
      assert.strictEqual(require('ferrocast').transforms, transforms);
    });

    it('returns real stream.Transform instances', function () {
      for (const name of ['uppercase', 'lowercase', 'lines', 'ndjson', 'stringify', 'gzip', 'gunzip']) {
        assert.ok(transforms[name]() instanceof Transform, name);
      }
      assert.ok(transforms.grep('x') instanceof Transform);
      assert.ok(transforms.replace('x', 'y') instanceof Transform);
    });

    it('matches toUpperCase() with multi-byte characters split across chunks', async function () {
      const text = Buffer.from('straße ﬁx ŉ é日本😀 İı ǅ end');
      for (const chunks of splits(text)) {
        assert.strictEqual(await collectText(transforms.uppercase(), chunks), text.toString().toUpperCase());
      }
    });

    it('matches toLowerCase(), final sigma included, across chunks', async function () {
      const text = Buffer.from('ΟΔΟΣ ΟΔΟΣ. ΣΑΣ İSTANBUL ΑΣ\u0301 Σ');
      for (const chunks of splits(text)) {
        assert.strictEqual(await collectText(transforms.lowercase(), chunks), text.toString().toLowerCase());
      }
    });

    it('matches toUpperCase() on one-byte chunks and invalid UTF-8', async function () {
      const text = Buffer.concat([Buffer.from('añ😀'), Buffer.from([0x80, 0x61, 0xe2, 0x82, 0x62, 0xf0, 0x9f])]);
      const chunks = [...text].map((b) => Buffer.from([b]));
      assert.strictEqual(await collectText(transforms.uppercase(), chunks), text.toString().toUpperCase());
    });

    it('produces nothing from empty input', async function () {
      assert.deepStrictEqual(await collect(transforms.uppercase(), []), []);
      assert.deepStrictEqual(await collect(transforms.uppercase(), [Buffer.alloc(0)]), []);
    });
  });

  describe('lines', function () {
    it('splits LF and CRLF lines and keeps a final line without newline', async function () {
      const got = await collect(transforms.lines(), ['one\r\ntw', 'o\n\nthr', 'ee 😀\r', '\nlast']);
      assert.deepStrictEqual(got, ['one', 'two', '', 'three 😀', 'last']);
    });

    it('hands out Buffers with output: "buffer"', async function () {
      const got = await collect(transforms.lines({ output: 'buffer' }), ['é\nb']);
      assert.deepStrictEqual(got, [Buffer.from('é'), Buffer.from('b')]);
    });

    it('gives no line for empty input and none for a trailing newline', async function () {
      assert.deepStrictEqual(await collect(transforms.lines(), []), []);
      assert.deepStrictEqual(await collect(transforms.lines(), ['a\n']), ['a']);
    });

    it('delivers many lines per chunk in order, or one array per chunk with batch', async function () {
      const many = Array.from({ length: 20000 }, (_, i) => `line ${i}`);
      const text = many.join('\n');
      assert.deepStrictEqual(await collect(transforms.lines(), [text]), many);
      const batches = await collect(transforms.lines({ batch: true }), [text.slice(0, 1000), text.slice(1000)]);
      assert.ok(batches.every(Array.isArray));
      assert.deepStrictEqual(batches.flat(), many);
    });

    it('decodes big chunks of non-ASCII, invalid UTF-8, CRLF, empty and long lines like Buffer#toString', async function () {
      const parts = [];
      for (let i = 0; i < 30000; i++) {
        if (i % 1000 === 7) parts.push(Buffer.from(`${'é😀x'.repeat(30000)}\n`)); // over 64 KiB
        else if (i % 97 === 0) parts.push(Buffer.from([0x61, 0xe2, 0x82, 0x0a])); // a cut character
        else if (i % 11 === 0) parts.push(Buffer.from('\r\n'));
        else if (i % 13 === 0) parts.push(Buffer.from('\n'));
        else parts.push(Buffer.from(`${i} café 日本 😀\r\n`));
      }
      parts.push(Buffer.from('last ü'));
      const buf = Buffer.concat(parts);
      const expected = buf.toString().split('\n').map((l) => l.replace(/\r$/, ''));
      assert.deepStrictEqual(await collect(transforms.lines(), [buf]), expected);
      const cut = Array.from({ length: Math.ceil(buf.length / 100003) }, (_, i) => buf.subarray(i * 100003, (i + 1) * 100003));
      assert.deepStrictEqual(await collect(transforms.lines(), cut), expected);
      const asBuffers = await collect(transforms.lines({ output: 'buffer' }), [buf]);
      assert.deepStrictEqual(asBuffers.map((b) => b.toString()), expected);
    });

    it('keeps ASCII, Latin-1 and other lines in order across pieces and chunks', async function () {
      const lines = [];
      for (let i = 0; i < 40000; i++) {
        if (i % 5000 === 3) lines.push(`${'ascii '.repeat(8000)}${i}`); // one line over a piece
        else if (i % 3 === 0) lines.push(`naïve ${i} 😀`);
        else if (i % 4 === 1) lines.push(`café ${i} über`); // Latin-1: one-byte strings
        else if (i % 7 === 0) lines.push('');
        else lines.push(`plain line ${i}`);
      }
      const buf = Buffer.from(`${lines.join('\r\n')}\n`);
      for (const size of [7001, 1 << 20]) {
        const cut = Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size));
        assert.deepStrictEqual(await collect(transforms.lines(), cut), lines);
        const batches = await collect(transforms.lines({ batch: true }), cut);
        assert.deepStrictEqual(batches.flat(), lines);
      }
    });

    it('fails with ERR_LINE_TOO_LONG and the line number', async function () {
      await assert.rejects(collect(transforms.lines({ maxLineLength: 4 }), ['abcd\r\nok\nabc', 'de\n']), {
        code: 'ERR_LINE_TOO_LONG',
        lineNumber: 3,
        message: 'Line 3 is longer than maxLineLength (4 bytes)',
      });
    });

    it('validates its options with exact messages', function () {
      assert.throws(() => transforms.lines({ maxLineLength: 0 }), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: 'The value of "options.maxLineLength" is out of range. It must be an integer >= 1 and <= 4294967295. Received 0',
      });
      assert.throws(() => transforms.lines({ output: 'utf16' }), {
        code: 'ERR_INVALID_ARG_VALUE',
        message: "The argument 'options.output' must be one of: 'string', 'buffer'. Received type string ('utf16')",
      });
      assert.throws(() => transforms.uppercase({ highWaterMark: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    });
  });

  describe('grep / replace', function () {
    const text = ['GET /a 200\r\nPOST /b 500\n', 'get /c 404\nGET /d 200'];

    it('keeps matching lines with their terminators', async function () {
      assert.strictEqual(await collectText(transforms.grep('^GET'), text), 'GET /a 200\r\nGET /d 200');
      assert.strictEqual(await collectText(transforms.grep('^get', { ignoreCase: true }), text), 'GET /a 200\r\nget /c 404\nGET /d 200');
      assert.strictEqual(await collectText(transforms.grep(/ 200$/, { invert: true }), text), 'POST /b 500\nget /c 404\n');
      assert.strictEqual(await collectText(transforms.grep(/^post/i), text), 'POST /b 500\n');
    });

    it('never matches across a line break', async function () {
      assert.strictEqual(await collectText(transforms.grep('200\\s+POST'), text), '');
    });

    it('replaces every match in each line, with JS replacement syntax', async function () {
      const got = await collectText(transforms.replace('(?<verb>[A-Z]+) (/\\w)', '$2 <$<verb>> $$'), text);
      assert.strictEqual(got, '/a <GET> $ 200\r\n/b <POST> $ 500\nget /c 404\n/d <GET> $ 200');
    });

    it('agrees with JS line by line for patterns both syntaxes share, however the input is cut', async function () {
      const textLines = ['GET /a 200', '', 'post /b 500 ', 'ERROR timeout é', 'x', 'aaa bbb aaa', '\tTAB\t', 'last'];
      const text = Buffer.from(textLines.join('\r\n').replace(/\r\n(?=x)/, '\n'));
      const cases = [
        ['^[A-Z]+', 'i', '<$&>'],
        ['a+', '', '$&$&'],
        ['x*', '', '-'],
        ['(\\w)(\\w*)', '', '$2$1'],
        ['\\s+$', '', ''],
        ['^$', '', 'EMPTY'],
        ['é|timeout', '', '[$&]'],
      ];
      const jsLines = text.toString().split('\n').map((l) => l.replace(/\r$/, ''));
      for (const [source, flags, rep] of cases) {
        const re = new RegExp(source, flags + 'g');
        const wantGrep = jsLines.filter((l) => new RegExp(source, flags).test(l));
        const wantReplace = jsLines.map((l) => l.replace(re, rep));
        for (const cut of [1, 3, 7, 1000]) {
          const chunks = [];
          for (let i = 0; i < text.length; i += cut) chunks.push(text.subarray(i, i + cut));
          const grepped = await collect(transforms.chain(transforms.grep(new RegExp(source, flags)), transforms.lines()), chunks);
          assert.deepStrictEqual(grepped, wantGrep, `grep ${source} cut ${cut}`);
          const replaced = await collect(transforms.chain(transforms.replace(new RegExp(source, flags), rep), transforms.lines()), chunks);
          assert.deepStrictEqual(replaced, wantReplace, `replace ${source} cut ${cut}`);
        }
      }
    });

    it('rejects a pattern that does not compile', function () {
      assert.throws(() => transforms.grep('(unclosed'), { name: 'SyntaxError', code: 'ERR_INVALID_PATTERN' });
      assert.throws(() => transforms.grep(42), {
        code: 'ERR_INVALID_ARG_TYPE',
        message: 'The "pattern" argument must be of type string or an instance of RegExp. Received type number (42)',
      });
    });
  });

  describe('ndjson / stringify', function () {
    it('parses records, ignoring blank lines, with a final line without newline', async function () {
      const got = await collect(transforms.ndjson(), ['{"a":1}\r\n\n[1,', '2]\n"x"\n', '3']);
      assert.deepStrictEqual(got, [{ a: 1 }, [1, 2], 'x', 3]);
    });

    it("fails on a bad line naming its line number, after the records before it", async function () {
      const t = transforms.ndjson();
      const seen = [];
      t.on('data', (v) => seen.push(v));
      await assert.rejects(streamPromises.pipeline(Readable.from(['{"ok":1}\n{"ok":2}\n{oops}\n{"ok":3}\n']), t), (err) => {
        assert.strictEqual(err.code, 'ERR_NDJSON_INVALID_JSON');
        assert.strictEqual(err.lineNumber, 3);
        assert.match(err.message, /^Invalid JSON on line 3, column 2: /);
        return true;
      });
      assert.deepStrictEqual(seen, [{ ok: 1 }, { ok: 2 }]);
    });

    it('makes the same values as JSON.parse: key order, -0, numbers, escapes, odd keys, many shapes', async function () {
      const lines = ndjsonCorpus(4000);
      const expected = lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l)).filter((v) => v !== null);
      const text = Buffer.from(lines.join('\n') + '\n');
      // One chunk, and cuts every 997 bytes (inside strings, numbers and characters).
      const chunks = Array.from({ length: Math.ceil(text.length / 997) }, (_, i) => text.subarray(i * 997, (i + 1) * 997));
      for (const input of [[text], chunks]) {
        const got = await collect(transforms.ndjson(), input);
        assert.strictEqual(got.length, expected.length);
        for (let i = 0; i < got.length; i++) assertSameJson(got[i], expected[i], `record ${i}`);
      }
      // batch keeps the null records.
      const withNull = lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
      const batches = await collect(transforms.ndjson({ batch: true }), chunks);
      assertSameJson(batches.flat(), withNull, 'batches');
    });

    it('makes the same values without code generation (--disallow-code-generation-from-strings)', async function () {
      const r = await runNode(
        `const { transforms } = require('ferrocast');
         const { Readable } = require('node:stream');
         const lines = ['{"a":1,"b":[true,null,"x"],"c":{"d":-0}}', '{"a":2,"b":[false,null,"y"],"c":{"d":1.5}}', '{"__proto__":1}'];
         const got = [];
         Readable.from([lines.join('\\n') + '\\n']).pipe(transforms.ndjson()).on('data', (v) => got.push(v)).on('end', () => {
           let evalWorks = true;
           try { new Function('return 1'); } catch { evalWorks = false; }
           console.log(JSON.stringify({ evalWorks, got, negZero: Object.is(got[0].c.d, -0), own: Object.keys(got[2]), proto: Object.getPrototypeOf(got[2]) === Object.prototype }));
         });`,
        { args: ['--disallow-code-generation-from-strings'], limit: 10000 },
      );
      assert.strictEqual(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.strictEqual(out.evalWorks, false);
      assert.deepStrictEqual(out.got, [
        { a: 1, b: [true, null, 'x'], c: { d: 0 } },
        { a: 2, b: [false, null, 'y'], c: { d: 1.5 } },
        JSON.parse('{"__proto__":1}'),
      ]);
      assert.strictEqual(out.negZero, true);
      assert.deepStrictEqual(out.own, ['__proto__']);
      assert.strictEqual(out.proto, true);
    });

    it('parses big chunks in order, or as one array per processed chunk with batch', async function () {
      const values = Array.from({ length: 30000 }, (_, i) => ({ i, s: 'x'.repeat(i % 50) }));
      const text = values.map((v) => JSON.stringify(v)).join('\n') + '\nnull\n';
      assert.deepStrictEqual(await collect(transforms.ndjson(), [text]), values);
      const batches = await collect(transforms.ndjson({ batch: true }), [text]);
      assert.strictEqual(batches.length, 1);
      assert.deepStrictEqual(batches[0], [...values, null]);
    });

    it('parses non-ASCII records across groups and chunk boundaries like JSON.parse', async function () {
      const words = ['café', 'naïve 😀', '日本語', 'a\\u00e9b', 'plain', '\\ud800 lone'];
      const lines = Array.from({ length: 5000 }, (_, i) => `{"i":${i},"w":"${words[i % words.length]}","k":{"${words[(i + 1) % words.length]}":[${i % 7}]}}`);
      const buf = Buffer.from(lines.join('\n') + '\n');
      const expected = lines.map((l) => JSON.parse(l));
      // Cut inside multi-byte characters: every 4099 bytes.
      const chunks = Array.from({ length: Math.ceil(buf.length / 4099) }, (_, i) => buf.subarray(i * 4099, (i + 1) * 4099));
      assert.ok(chunks.some((c) => (c[0] & 0xc0) === 0x80), 'a chunk starts inside a character');
      assert.deepStrictEqual(await collect(transforms.ndjson(), chunks), expected);
      assert.deepStrictEqual(await collect(transforms.ndjson(), [buf]), expected);
    });

    for (const [kind, make] of [
      ['records', () => transforms.ndjson()],
      ['lines', () => transforms.lines()],
    ]) {
      it(`lets the event loop run while it delivers the ${kind} of one big chunk`, async function () {
        const text = Array.from({ length: 200000 }, (_, i) => `{"i":${i},"s":"some text"}`).join('\n') + '\n';
        let turns = 0;
        let turnsAtFirst = -1;
        let turnsAtLast = -1;
        const tick = () => {
          turns++;
          if (turnsAtLast === -1) setImmediate(tick);
        };
        setImmediate(tick);
        let n = 0;
        await streamPromises.pipeline(
          Readable.from([text], { objectMode: false }),
          make(),
          new Writable({
            objectMode: true,
            write(v, _e, cb) {
              if (++n === 1) turnsAtFirst = turns;
              if (n === 200000) turnsAtLast = turns;
              cb();
            },
          }),
        );
        assert.strictEqual(n, 200000);
        const during = turnsAtLast - turnsAtFirst;
        assert.ok(during > 2, `the loop turned ${during} times during delivery`);
      });
    }

    it("skips and counts bad lines with onError: 'skip'", async function () {
      const t = transforms.ndjson({ onError: 'skip' });
      const got = await collect(t, ['1\nnot json\n{"b":', '2}\n[unclosed']);
      assert.deepStrictEqual(got, [1, { b: 2 }]);
      assert.strictEqual(t.skipped, 2);
    });

    it('round-trips through stringify()', async function () {
      const values = [{ a: 1, s: 'é\n"' }, [1, [2]], 'text', 4.5, true];
      const out = [];
      await streamPromises.pipeline(Readable.from(values), transforms.stringify(), transforms.ndjson(), async function (src) {
        for await (const v of src) out.push(v);
      });
      assert.deepStrictEqual(out, values);
    });
  });

  describe('gzip / gunzip', function () {
    const payload = Buffer.from('The quick brown fox jumps over the lazy dog. 😀\n'.repeat(20000));
    const pieces = (buf, n) => Array.from({ length: Math.ceil(buf.length / n) }, (_, i) => buf.subarray(i * n, (i + 1) * n));

    it('gzip() output is read by zlib.gunzip', async function () {
      const gz = Buffer.concat(await collect(transforms.gzip(), pieces(payload, 10000)));
      assert.ok(gz.length < payload.length / 10);
      assert.deepStrictEqual(zlib.gunzipSync(gz), payload);
      const fast = Buffer.concat(await collect(transforms.gzip({ level: 1 }), [payload]));
      assert.deepStrictEqual(zlib.gunzipSync(fast), payload);
    });

    it('gunzip() reads zlib.gzip output, members concatenated too', async function () {
      const gz = zlib.gzipSync(payload);
      assert.deepStrictEqual(Buffer.concat(await collect(transforms.gunzip(), pieces(gz, 333))), payload);
      const two = Buffer.concat([gz, zlib.gzipSync('tail')]);
      assert.strictEqual(Buffer.concat(await collect(transforms.gunzip(), [two])).length, payload.length + 4);
    });

    it('round-trips empty input through zlib', async function () {
      const gz = Buffer.concat(await collect(transforms.gzip(), []));
      assert.strictEqual(zlib.gunzipSync(gz).length, 0);
      assert.deepStrictEqual(await collect(transforms.gunzip(), [zlib.gzipSync(Buffer.alloc(0))]), []);
    });

    it('fails on corrupt and truncated input with zlib codes', async function () {
      await assert.rejects(collect(transforms.gunzip(), [Buffer.from('not gzip at all')]), { code: 'Z_DATA_ERROR' });
      const gz = zlib.gzipSync(payload);
      await assert.rejects(collect(transforms.gunzip(), [gz.subarray(0, gz.length - 100)]), {
        code: 'Z_BUF_ERROR',
        message: 'unexpected end of file',
      });
    });
  });

  describe('chain', function () {
    it('fuses grep → uppercase → lines into one transform', async function () {
      const t = transforms.chain(transforms.grep('error', { ignoreCase: true }), transforms.uppercase(), transforms.lines());
      const got = await collect(t, ['ok 1\nError: straße\r\nok', ' 2\nlast error']);
      assert.deepStrictEqual(got, ['ERROR: STRASSE', 'LAST ERROR']);
    });

    it('fuses gunzip → replace → gzip and interoperates with zlib', async function () {
      const input = zlib.gzipSync('a=1\nb=2\na=3\n');
      const t = transforms.chain(transforms.gunzip(), transforms.replace('^a=', 'A:'), transforms.gzip());
      const out = Buffer.concat(await collect(t, [input]));
      assert.strictEqual(zlib.gunzipSync(out).toString(), 'A:1\nb=2\nA:3\n');
    });

    it('ends in ndjson', async function () {
      const t = transforms.chain(transforms.grep('"keep":true'), transforms.ndjson());
      assert.deepStrictEqual(await collect(t, ['{"keep":true,"n":1}\n{"keep":false}\n{"keep":true,"n":2}']), [
        { keep: true, n: 1 },
        { keep: true, n: 2 },
      ]);
    });

    it('rejects what cannot be chained', function () {
      assert.throws(() => transforms.chain(transforms.lines(), transforms.uppercase()), {
        code: 'ERR_INVALID_ARG_VALUE',
        message: "The argument 'ops[0]' is lines(), which produces objects and must come last",
      });
      assert.throws(() => transforms.chain(transforms.stringify()), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => transforms.chain(), { code: 'ERR_MISSING_ARGS' });
    });
  });

  describe('stream behaviour', function () {
    it('honours backpressure from a slow writer', async function () {
      const chunk = Buffer.alloc(64 * 1024, 'abc\n');
      const total = 200;
      let consumed = 0;
      let maxLag = 0;
      const source = repeatingSource(chunk, total);
      const sink = new Writable({
        highWaterMark: 1,
        write(c, _e, cb) {
          consumed += c.length;
          maxLag = Math.max(maxLag, source.produced * chunk.length - consumed);
          setImmediate(cb);
        },
      });
      await streamPromises.pipeline(source, transforms.uppercase(), sink);
      assert.strictEqual(consumed, total * chunk.length);
      // Without backpressure the source would run all 200 chunks ahead of the writer.
      assert.ok(maxLag < 40 * chunk.length, `source ran ${maxLag / chunk.length} chunks ahead`);
    });

    it('honours backpressure from a slow object consumer', async function () {
      const chunk = Buffer.from('line of text\n'.repeat(5000));
      const total = 100;
      let lines = 0;
      let maxLag = 0;
      const source = repeatingSource(chunk, total);
      const sink = new Writable({
        objectMode: true,
        highWaterMark: 16,
        write(_line, _e, cb) {
          lines++;
          maxLag = Math.max(maxLag, source.produced - lines / 5000);
          if (lines % 500 === 0) setImmediate(cb);
          else cb();
        },
      });
      await streamPromises.pipeline(source, transforms.lines(), sink);
      assert.strictEqual(lines, total * 5000);
      assert.ok(maxLag < 20, `source ran ${maxLag} chunks ahead`);
    });

    it('keeps chunk order when many small writes are batched', async function () {
      const t = transforms.uppercase();
      const parts = Array.from({ length: 2000 }, (_, i) => `${i},`);
      const out = [];
      t.on('data', (d) => out.push(d));
      const finished = new Promise((resolve, reject) => t.on('end', resolve).on('error', reject));
      for (const p of parts) t.write(p);
      t.end();
      await finished;
      assert.strictEqual(Buffer.concat(out).toString(), parts.join(''));
    });

    it('can be destroyed mid-stream', async function () {
      const t = transforms.gzip();
      const big = Buffer.alloc(4 * 1024 * 1024, 'destroy me ');
      let data = 0;
      t.on('data', () => data++);
      t.write(big);
      t.write(big);
      t.destroy();
      await new Promise((resolve) => t.on('close', resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.strictEqual(t.destroyed, true);
      assert.strictEqual(data, 0);
      const err = new Error('stop');
      const u = transforms.uppercase();
      u.write(big);
      u.destroy(err);
      const [seen] = await require('node:events').once(u, 'error');
      assert.strictEqual(seen, err);
    });

    it('lets the process exit after a destroy mid-stream', async function () {
      const r = await runNode(
        `const { transforms } = require('ferrocast');
         const t = transforms.gzip();
         t.write(Buffer.alloc(8 << 20, 'x'));
         setImmediate(() => t.destroy());
         t.on('close', () => console.log('closed'));`,
        { limit: 5000 },
      );
      assert.strictEqual(r.signal, null, r.stderr);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout.trim(), 'closed');
    });

    it("emits 'data' like EventEmitter: one listener, several, once, none, and captureRejections", async function () {
      const input = 'a\nb\nc\n';
      // One listener, then a second one (an array of listeners), then a once() listener.
      const t = transforms.lines();
      const first = [];
      const second = [];
      const once = [];
      const seenThis = new Set();
      t.on('data', function (line) {
        first.push(line);
        seenThis.add(this);
        if (line === 'a') t.on('data', (l) => second.push(l));
      });
      t.once('data', (l) => once.push(l));
      assert.strictEqual(t.emit('data', 'direct'), true);
      assert.strictEqual(t.emit('nothing-listens', 1), false);
      t.end(input);
      await require('node:events').once(t, 'end');
      assert.deepStrictEqual(first, ['direct', 'a', 'b', 'c']);
      assert.deepStrictEqual(once, ['direct']);
      assert.deepStrictEqual(second, ['b', 'c']);
      assert.deepStrictEqual([...seenThis], [t]);
      // With no 'data' listener, emit reports it; with one, it is called with the stream as `this`.
      const single = transforms.lines();
      assert.strictEqual(single.emit('data', 'x'), false);
      const got = [];
      single.on('data', function (l) {
        got.push([this, l]);
      });
      assert.strictEqual(single.emit('data', 'y'), true);
      assert.deepStrictEqual(got, [[single, 'y']]);
      // captureRejections: a 'data' listener's rejected promise becomes an 'error', as Node does it.
      const { EventEmitter } = require('node:events');
      EventEmitter.captureRejections = true;
      let c;
      try {
        c = transforms.lines();
      } finally {
        EventEmitter.captureRejections = false;
      }
      const boom = new Error('listener failed');
      c.on('data', async () => {
        throw boom;
      });
      const errored = require('node:events').once(c, 'error');
      c.write('x\n');
      const [err] = await errored;
      assert.strictEqual(err, boom);
    });

    it('propagates errors through stream.pipeline and destroys the other streams', function (done) {
      const source = Readable.from([Buffer.from('not gzip')]);
      const sink = new Writable({ write: (_c, _e, cb) => cb() });
      pipeline(source, transforms.gunzip(), transforms.uppercase(), sink, (err) => {
        assert.strictEqual(err.code, 'Z_DATA_ERROR');
        assert.ok(source.destroyed && sink.destroyed);
        done();
      });
    });
  });

  describe('examples/uppercase-file.js (the seed stream example)', function () {
    const input = tmpFile('input.txt');
    const output = tmpFile('output.txt');
    after(function () {
      for (const f of [input, output]) fs.rmSync(f, { force: true });
    });

    it('writes output byte-identical to toUpperCase() on a real file', async function () {
      // Several read chunks (64 KiB each), with multi-byte characters across their boundaries.
      const line = 'Hello, straße! Ünïcödé ΣΊΣΥΦΟΣ 日本語 😀 ﬁne\n';
      fs.writeFileSync(input, line.repeat(8000));
      const stdout = await new Promise((resolve, reject) => {
        const example = path.join(ROOT, 'examples', 'uppercase-file.js');
        execFile(process.execPath, [example, input, output], { cwd: ROOT, timeout: 20000 }, (err, out, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
        );
      });
      assert.match(stdout, /File reading completed/);
      const want = Buffer.from(fs.readFileSync(input).toString().toUpperCase());
      assert.ok(fs.readFileSync(output).equals(want), 'output differs from toUpperCase()');
    });
  });
});
