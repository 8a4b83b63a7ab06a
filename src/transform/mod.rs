//! Stream transforms that run off the main thread.
//!
//! A [`NativeTransform`] is a chain of byte-level operations (case mapping, line filters, regex
//! replacement, gzip) ending in a sink that shapes the result for JS: raw bytes, line boundaries,
//! or a JSON array text of ndjson records. JS hands it one chunk, or every chunk the writable side
//! has buffered, with one call; the work runs on a libuv worker thread ([`AsyncTask`]) and the
//! result comes back through a promise. Input Buffers are read in place (like `node:zlib`, the
//! caller must not mutate a chunk after writing it) and output Vecs become Buffers without a copy,
//! except text for `lines` (strings) and `ndjson`, which becomes JS strings ([`JsStrings`]).
//!
//! Calls on one transform are serialised by the JS wrapper (a Transform calls back only after
//! the previous chunk is done), so the engine's mutex is never contended; it only makes the state
//! safe to hand to a worker thread.

mod case;
mod gzip;
mod lines;
mod ndjson;
mod pool;

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{AsyncTask, Buffer, Uint32Array};
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

pub use case::{Case, CaseMap};
pub use gzip::{Gunzip, Gzip};
pub use lines::{Framer, Grep, LinesSink, Replace};
pub use ndjson::NdjsonSink;
pub use pool::{JsStrings, PooledBuffer};

/// The default longest line, in bytes without its terminator, that line-based operations accept.
pub const DEFAULT_MAX_LINE_LENGTH: usize = 16 * 1024 * 1024;

/// A failure inside a transform, with the stable code JS puts on the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpError {
    /// The stable `err.code`.
    pub code: &'static str,
    /// What happened, and where.
    pub message: String,
    /// The 1-based input line the error is about, when there is one.
    pub line: Option<u64>,
}

impl OpError {
    /// An error without a line number.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        OpError {
            code,
            message: message.into(),
            line: None,
        }
    }
}

/// One byte-level stage of a chain: bytes in, bytes out, state kept between chunks.
pub trait ByteOp: Send {
    /// Transforms `input`, appending what is ready to `out` (which may already hold data).
    fn process(&mut self, input: &[u8], out: &mut Vec<u8>) -> std::result::Result<(), OpError>;
    /// Appends whatever the stage still holds (a partial line, an incomplete character, the gzip
    /// trailer) at end of input.
    fn finish(&mut self, out: &mut Vec<u8>) -> std::result::Result<(), OpError>;
}

/// What one call hands back to JS.
#[derive(Default)]
pub struct StepOutput {
    /// Bytes out; for `lines` the complete lines with their terminators, for `ndjson` JSON array
    /// texts (groups) of the valid records.
    pub data: Vec<u8>,
    /// `lines`: `[start, end)` of each line's content within `data`, in UTF-16 code units
    /// (strings) or bytes (buffers); two entries per line. `ndjson`: the end of each group (a
    /// JSON array text) within `data`.
    pub ends: Vec<u32>,
    /// `ndjson`: records in `data`.
    pub records: u32,
    /// `ndjson` with `onError: 'skip'`: bad lines skipped in this call.
    pub skipped: u32,
    /// The error that stopped the transform; `data` holds what came before it.
    pub error: Option<OpError>,
    /// `lines`: UTF-16 code units in `data` (the offset of the next line).
    pub units: usize,
    /// `ndjson`: whether the last group in `data` is still open.
    pub open_group: bool,
    /// How `data` goes to JS: a Buffer, or strings ([`Step::compute`] makes them).
    pub text: TextKind,
    /// `data` made into strings for JS (then `data` is empty).
    pub strings: Option<JsStrings>,
}

/// How a call's `data` goes to JS.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub enum TextKind {
    /// As a Buffer.
    #[default]
    Bytes,
    /// `ndjson`: ASCII JSON array texts ending at `ends`, as one-byte strings.
    Ascii,
    /// `lines` as strings: UTF-8 lines, as strings of about 32 KiB each (whole lines).
    Utf8Lines,
}

/// The last stage: how results are shaped for JS.
pub enum Sink {
    /// Raw bytes.
    Bytes,
    /// Line boundaries (objectMode strings or Buffers in JS).
    Lines(LinesSink),
    /// Validated ndjson records as JSON array texts.
    Ndjson(NdjsonSink),
}

impl Sink {
    /// Takes a stage's output (`Ok`: owned, moved into `out` when it can be) or the input itself.
    fn accept(
        &mut self,
        data: std::result::Result<Vec<u8>, &[u8]>,
        out: &mut StepOutput,
    ) -> std::result::Result<(), OpError> {
        if matches!(self, Sink::Bytes) {
            match data {
                Ok(owned) if out.data.is_empty() => out.data = owned,
                Ok(owned) => {
                    out.data.extend_from_slice(&owned);
                    pool::give(owned);
                }
                Err(borrowed) => out.data.extend_from_slice(borrowed),
            }
            return Ok(());
        }
        let bytes: &[u8] = match &data {
            Ok(owned) => owned,
            Err(borrowed) => borrowed,
        };
        // Line data is copied into `out.data`; ndjson's escaped non-ASCII text grows a little.
        let room = bytes.len() + bytes.len() / 8;
        if out.data.capacity() == 0 {
            out.data = pool::take(room);
        } else {
            out.data.reserve(room);
        }
        let result = match self {
            Sink::Bytes => Ok(()),
            Sink::Lines(s) => s.process(bytes, out),
            Sink::Ndjson(s) => s.process(bytes, out),
        };
        if let Ok(owned) = data {
            pool::give(owned);
        }
        result
    }

    fn finish(&mut self, out: &mut StepOutput) -> std::result::Result<(), OpError> {
        match self {
            Sink::Bytes => Ok(()),
            Sink::Lines(s) => s.finish(out),
            Sink::Ndjson(s) => s.finish(out),
        }
    }
}

/// A chain of byte stages and a sink, with the state they keep between chunks.
pub struct Engine {
    ops: Vec<Box<dyn ByteOp>>,
    sink: Sink,
    failed: bool,
}

impl Engine {
    /// A chain of `ops` ending in `sink`.
    pub fn new(ops: Vec<Box<dyn ByteOp>>, sink: Sink) -> Self {
        Engine {
            ops,
            sink,
            failed: false,
        }
    }

    /// Runs `chunks` (in order) through the chain; at `finish`, then flushes every stage.
    pub fn step(&mut self, chunks: &[&[u8]], finish: bool) -> StepOutput {
        let mut out = StepOutput::default();
        if self.failed {
            return out;
        }
        let result = (|| {
            for chunk in chunks {
                self.run_from(0, chunk, &mut out)?;
            }
            if finish {
                for i in 0..self.ops.len() {
                    let mut tail = Vec::new();
                    self.ops[i].finish(&mut tail)?;
                    if !tail.is_empty() {
                        self.run_from(i + 1, &tail, &mut out)?;
                    }
                }
                self.sink.finish(&mut out)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            out.error = Some(e);
        }
        if matches!(self.sink, Sink::Ndjson(_)) {
            NdjsonSink::close_step(&mut out);
            out.text = TextKind::Ascii;
        }
        if matches!(&self.sink, Sink::Lines(l) if l.utf16()) {
            out.text = TextKind::Utf8Lines;
        }
        // JS holds the Vec's whole allocation until the Buffer is collected: return spare
        // capacity (grep keeps a fraction of what was reserved for it), unless the Vec is big
        // enough to be worth reusing whole.
        if out.data.capacity() > 2 * out.data.len() && out.data.len() < 256 * 1024 {
            out.data.shrink_to_fit();
        }
        if out.error.is_some() {
            self.failed = true;
        }
        out
    }

    fn run_from(
        &mut self,
        first: usize,
        input: &[u8],
        out: &mut StepOutput,
    ) -> std::result::Result<(), OpError> {
        let Some((op, rest)) = self.ops[first..].split_first_mut() else {
            return self.sink.accept(Err(input), out);
        };
        let mut cur = pool::take(input.len());
        op.process(input, &mut cur)?;
        for op in rest {
            if cur.is_empty() {
                pool::give(cur);
                return Ok(());
            }
            let mut next = pool::take(cur.len());
            op.process(&cur, &mut next)?;
            pool::give(std::mem::replace(&mut cur, next));
        }
        if cur.is_empty() {
            pool::give(cur);
            return Ok(());
        }
        self.sink.accept(Ok(cur), out)
    }
}

/// One stage of a transform, as JS describes it. JS validates every field before it gets here.
#[napi(object)]
pub struct TransformOp {
    /// `'uppercase'`, `'lowercase'`, `'grep'`, `'replace'`, `'gzip'`, `'gunzip'`, `'lines'` or
    /// `'ndjson'` (the last two only as the final stage).
    pub kind: String,
    /// `grep`, `replace`: the regular expression, in Rust `regex` syntax. Required there.
    pub pattern: Option<String>,
    /// `replace`: the replacement, in JS syntax (`$&`, `$1`, `$<name>`, `$$`). Default `''`.
    pub replacement: Option<String>,
    /// `grep`: keep the lines that do not match. Default false.
    pub invert: Option<bool>,
    /// `grep`, `replace`: match case-insensitively (Unicode simple case folding). Default false.
    pub ignore_case: Option<bool>,
    /// Line-based stages: the longest line accepted, in bytes without its terminator.
    /// Default 16777216 (16 MiB).
    pub max_line_length: Option<f64>,
    /// `gzip`: compression level, 0 (none) to 9 (smallest). Default 6, like `node:zlib`.
    pub level: Option<u32>,
    /// `lines`: `'string'` (default) or `'buffer'`.
    pub output: Option<String>,
    /// `ndjson`: `'error'` (default) fails on a bad line; `'skip'` skips and counts it.
    pub on_error: Option<String>,
}

fn build(ops: Vec<TransformOp>) -> std::result::Result<Engine, String> {
    let mut stages: Vec<Box<dyn ByteOp>> = Vec::new();
    let mut sink = Sink::Bytes;
    let n = ops.len();
    for (i, op) in ops.into_iter().enumerate() {
        let max_line = op
            .max_line_length
            .map_or(DEFAULT_MAX_LINE_LENGTH, |v| v as usize);
        let last = i + 1 == n;
        match op.kind.as_str() {
            "uppercase" => stages.push(Box::new(Case::new(CaseMap::Upper))),
            "lowercase" => stages.push(Box::new(Case::new(CaseMap::Lower))),
            "grep" => stages.push(Box::new(Grep::new(
                op.pattern.as_deref().unwrap_or(""),
                op.ignore_case.unwrap_or(false),
                op.invert.unwrap_or(false),
                max_line,
            )?)),
            "replace" => stages.push(Box::new(Replace::new(
                op.pattern.as_deref().unwrap_or(""),
                op.replacement.as_deref().unwrap_or(""),
                op.ignore_case.unwrap_or(false),
                max_line,
            )?)),
            "gzip" => stages.push(Box::new(Gzip::new(op.level.unwrap_or(6)))),
            "gunzip" => stages.push(Box::new(Gunzip::new())),
            "lines" if last => {
                sink = Sink::Lines(LinesSink::new(
                    max_line,
                    op.output.as_deref() != Some("buffer"),
                ))
            }
            "ndjson" if last => {
                sink = Sink::Ndjson(NdjsonSink::new(
                    max_line,
                    op.on_error.as_deref() == Some("skip"),
                ))
            }
            "lines" | "ndjson" => return Err(format!("'{}' must be the last stage", op.kind)),
            other => return Err(format!("unknown transform '{other}'")),
        }
    }
    Ok(Engine::new(stages, sink))
}

/// A transform's native state. Made by `lib/transforms.js`; not part of the public API.
#[napi]
pub struct NativeTransform {
    engine: Arc<Mutex<Engine>>,
}

#[napi]
impl NativeTransform {
    /// Builds the chain. Throws (status `InvalidArg`) when a pattern does not compile.
    #[napi(constructor)]
    pub fn new(ops: Vec<TransformOp>) -> Result<Self> {
        let engine = build(ops).map_err(|m| Error::new(Status::InvalidArg, m))?;
        Ok(NativeTransform {
            engine: Arc::new(Mutex::new(engine)),
        })
    }

    /// Runs `chunks` through the chain on a worker thread.
    #[napi(ts_return_type = "Promise<TransformOutput>")]
    pub fn process(&self, chunks: Vec<Buffer>) -> AsyncTask<Step> {
        AsyncTask::new(Step {
            engine: self.engine.clone(),
            chunks,
            finish: false,
        })
    }

    /// Flushes every stage (end of input) on a worker thread.
    #[napi(ts_return_type = "Promise<TransformOutput>")]
    pub fn finish(&self) -> AsyncTask<Step> {
        AsyncTask::new(Step {
            engine: self.engine.clone(),
            chunks: Vec::new(),
            finish: true,
        })
    }
}

/// What a call resolves to.
#[napi(object, object_from_js = false)]
pub struct TransformOutput {
    /// Bytes out (see `StepOutput::data`); absent when empty.
    #[napi(ts_type = "Buffer")]
    pub data: Option<PooledBuffer>,
    /// `data` as strings, in its place: for `ndjson` its groups of records (each a JSON array
    /// text in ASCII; `ends` is then absent), for `lines` as strings pieces of whole lines.
    #[napi(ts_type = "Array<string>")]
    pub texts: Option<JsStrings>,
    /// `lines`: `[start, end)` pairs of each line within `data`; `ndjson`: each group's end.
    pub ends: Option<Uint32Array>,
    /// `ndjson`: records in `data`.
    pub records: u32,
    /// `ndjson` with `onError: 'skip'`: bad lines skipped.
    pub skipped: u32,
    /// The stable code of the error that stopped the transform.
    pub error_code: Option<String>,
    /// Its message.
    pub error_message: Option<String>,
    /// The 1-based input line the error is about.
    pub error_line: Option<f64>,
}

/// One call's work, run on a libuv worker thread.
pub struct Step {
    engine: Arc<Mutex<Engine>>,
    chunks: Vec<Buffer>,
    finish: bool,
}

impl Task for Step {
    type Output = StepOutput;
    type JsValue = TransformOutput;

    fn compute(&mut self) -> Result<StepOutput> {
        let slices: Vec<&[u8]> = self.chunks.iter().map(|b| b.as_ref()).collect();
        let mut engine = self
            .engine
            .lock()
            .map_err(|_| Error::new(Status::GenericFailure, "transform state poisoned"))?;
        let mut out = engine.step(&slices, self.finish);
        drop(engine);
        // Strings are decoded here, off the main thread; resolve only copies them into V8.
        if !out.data.is_empty() {
            out.strings = match out.text {
                TextKind::Bytes => None,
                TextKind::Ascii => Some(JsStrings::ascii(std::mem::take(&mut out.data), &out.ends)),
                TextKind::Utf8Lines => Some(JsStrings::utf8_lines(std::mem::take(&mut out.data))),
            };
        }
        Ok(out)
    }

    fn resolve(&mut self, _env: Env, out: StepOutput) -> Result<TransformOutput> {
        // Release the input chunks here, on the JS thread.
        self.chunks.clear();
        let (error_code, error_message, error_line) = match out.error {
            Some(e) => (
                Some(e.code.to_string()),
                Some(e.message),
                e.line.map(|l| l as f64),
            ),
            None => (None, None, None),
        };
        let (data, texts, ends) = if let Some(texts) = out.strings {
            let ends = (out.text == TextKind::Utf8Lines).then(|| Uint32Array::new(out.ends));
            (None, Some(texts), ends)
        } else if out.data.is_empty() {
            pool::give(out.data);
            (None, None, None)
        } else {
            let ends = (!out.ends.is_empty()).then(|| Uint32Array::new(out.ends));
            (Some(PooledBuffer(out.data)), None, ends)
        };
        Ok(TransformOutput {
            data,
            texts,
            ends,
            records: out.records,
            skipped: out.skipped,
            error_code,
            error_message,
            error_line,
        })
    }
}

#[cfg(test)]
mod probe {
    use super::*;

    #[test]
    #[ignore = "a throughput probe: cargo test --release -- --ignored --nocapture"]
    fn engine_throughput() {
        let Ok(text) = std::fs::read("/tmp/tb-text.log") else {
            return;
        };
        let nd = std::fs::read("/tmp/tb-nd.log").unwrap_or_default();
        let text = &text[..32 << 20];
        let nd = &nd[..(32 << 20).min(nd.len())];
        let mk = |kind: &str| TransformOp {
            kind: kind.into(),
            pattern: Some("ERROR|timeout".into()),
            replacement: None,
            invert: None,
            ignore_case: None,
            max_line_length: None,
            level: None,
            output: None,
            on_error: None,
        };
        for (kind, input) in [
            ("lines-buffer", text),
            ("uppercase", text),
            ("grep", text),
            ("lines", text),
            ("ndjson", nd),
            ("gzip", text),
        ] {
            let mut op = mk(kind.trim_end_matches("-buffer"));
            if kind.ends_with("-buffer") {
                op.output = Some("buffer".into());
            }
            let mut engine = build(vec![op]).unwrap();
            let t = std::time::Instant::now();
            let mut bytes = 0;
            for chunk in input.chunks(1 << 20) {
                bytes += engine.step(&[chunk], false).data.len();
            }
            let s = t.elapsed().as_secs_f64();
            println!(
                "{kind}: {:.0} MB/s ({bytes} bytes out)",
                input.len() as f64 / s / 1e6
            );
        }
    }
}
