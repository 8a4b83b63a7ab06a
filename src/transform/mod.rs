//! Stream transforms that run off the main thread.
//!
//! A [`NativeTransform`] is a chain of byte-level operations (case mapping, line filters, regex
//! replacement, gzip) ending in a sink that shapes the result for JS: raw bytes, line boundaries,
//! or ndjson records as shapes and values. JS hands it one chunk, or every chunk the writable side
//! has buffered, with one call; the work runs on a libuv worker thread ([`AsyncTask`]) and the
//! result comes back through a promise ([`NativeStepResult`]). Input Buffers are read in place
//! (like `node:zlib`, the caller must not mutate a chunk after writing it; `lines` and `ndjson`
//! copy them, see [`NativeTransform::process`]) and output Vecs become Buffers without a copy,
//! except text for `lines` (strings) and `ndjson`, which becomes JS strings ([`JsStrings`]).
//!
//! Calls may overlap (the JS wrapper may hand a chunk over before the previous call has
//! returned); the engine still processes the inputs one at a time, in call order (see
//! [`Shared`]).

mod ascii;
mod case;
mod gzip;
mod lines;
mod ndjson;
mod pool;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{
    AsyncTask, Buffer, Float64Array, Float64ArraySlice, Uint32Array, Uint32ArraySlice,
};
use napi::{Env, Error, JsString, Result, Status, Task};
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
    /// Bytes out; for `lines` (Buffers) the complete lines with their terminators; for `lines`
    /// (strings) and `ndjson` one-byte text (see `ends`).
    pub data: Vec<u8>,
    /// `lines`: `[start, end)` of each line's content, two entries per line: bytes within
    /// `data` (buffers), or (strings) units within `data` or, when the start is flagged with
    /// [`lines::WIDE`], within `wide`. `ndjson`: the same for each string value, and for the
    /// JSON text of each record without a shape.
    pub ends: Vec<u32>,
    /// `ndjson`: records parsed.
    pub records: u32,
    /// `ndjson`: each record's shape id ([`ndjson::RAW`]: its JSON text is in the texts).
    pub recs: Vec<u32>,
    /// `ndjson`: the numbers and booleans (1, 0) of the records, in order.
    pub nums: Vec<f64>,
    /// `ndjson`: the shapes first seen in this call, in id order ([`ndjson::describe`]).
    pub shapes: Vec<String>,
    /// `ndjson` with `onError: 'skip'`: bad lines skipped in this call.
    pub skipped: u32,
    /// The error that stopped the transform; `data` holds what came before it.
    pub error: Option<OpError>,
    /// `lines` as strings, `ndjson`: the UTF-16 text of the lines (strings) with characters from
    /// U+0100 up (native-endian units, see [`pool::as_units`]), `wide_units` of them.
    pub wide: Vec<u8>,
    /// `lines` as strings, `ndjson`: units used in `wide`.
    pub wide_units: usize,
    /// `lines` as strings, `ndjson`: where pieces of `data` end (the last piece ends at its end).
    pub cuts: Vec<u32>,
    /// `lines` as strings, `ndjson`: where pieces of `wide` end (the last at `wide_units`).
    pub wide_cuts: Vec<u32>,
    /// How `data` goes to JS: a Buffer, or strings ([`Step::compute`] makes them).
    pub text: TextKind,
    /// `data` made into strings for JS (then `data` is empty).
    pub strings: Option<JsStrings>,
    /// `wide` made into strings for JS.
    pub wide_strings: Option<JsStrings>,
}

/// How a call's `data` goes to JS.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub enum TextKind {
    /// As a Buffer.
    #[default]
    Bytes,
    /// `lines` as strings, `ndjson`: one-byte (Latin-1) text in `data` and UTF-16 text in
    /// `wide`, each as strings of about 32 KiB (whole lines or strings).
    Pieces,
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
        match self.sink {
            Sink::Lines(_) => out.ends = pool::ENDS.take(),
            Sink::Ndjson(_) => {
                out.ends = pool::ENDS.take();
                out.recs = pool::ENDS.take();
                out.nums = pool::NUMS.take();
            }
            Sink::Bytes => {}
        }
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
        if matches!(&self.sink, Sink::Ndjson(_))
            || matches!(&self.sink, Sink::Lines(l) if l.utf16())
        {
            out.text = TextKind::Pieces;
        }
        // JS holds the Vec's whole allocation until the Buffer is collected: return spare
        // capacity (grep keeps a fraction of what was reserved for it), unless the Vec is big
        // enough to be worth reusing whole.
        if out.text == TextKind::Bytes
            && out.data.capacity() > 2 * out.data.len()
            && out.data.len() < 256 * 1024
        {
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

/// One call's input, waiting in [`Shared::queue`] for its turn: its chunks, read in place, or a
/// copy of them.
struct Input {
    chunks: Vec<Buffer>,
    copy: Vec<u8>,
    finish: bool,
}

/// What the calls of one transform share. Several calls may be in flight at once (JS may hand
/// the next chunk over before the previous result has arrived), and libuv may run them on
/// different worker threads in any order, so a call does not process its own input: it processes
/// the queued inputs in call order until its own is done, and takes its result. Whichever call
/// gets the engine first does the work that is due; the others find their results ready.
struct Shared {
    /// Inputs not processed yet, in call order. Locked only to push or pop: the JS thread never
    /// waits for a chunk being processed.
    queue: Mutex<VecDeque<Input>>,
    /// The engine, and the results of processed inputs not yet taken by their call.
    state: Mutex<Ordered>,
}

struct Ordered {
    engine: Engine,
    /// Inputs processed so far (the sequence number of the next one).
    processed: u64,
    /// Results of processed inputs whose call has not taken them yet, with their chunks.
    ready: VecDeque<(u64, StepOutput, Vec<Buffer>)>,
}

/// A transform's native state. Made by `lib/transforms.js`; not part of the public API.
#[napi]
pub struct NativeTransform {
    shared: Arc<Shared>,
    /// Calls made so far (the sequence number of the next call). Only the JS thread calls.
    calls: AtomicU64,
    /// Whether input chunks are copied rather than read in place (`lines`, `ndjson`).
    copy: bool,
}

#[napi]
impl NativeTransform {
    /// Builds the chain. Throws (status `InvalidArg`) when a pattern does not compile.
    #[napi(constructor)]
    pub fn new(ops: Vec<TransformOp>) -> Result<Self> {
        let engine = build(ops).map_err(|m| Error::new(Status::InvalidArg, m))?;
        let copy = matches!(engine.sink, Sink::Lines(_) | Sink::Ndjson(_));
        Ok(NativeTransform {
            copy,
            shared: Arc::new(Shared {
                queue: Mutex::new(VecDeque::new()),
                state: Mutex::new(Ordered {
                    engine,
                    processed: 0,
                    ready: VecDeque::new(),
                }),
            }),
            calls: AtomicU64::new(0),
        })
    }

    /// Runs `chunks` through the chain on a worker thread. Calls may overlap; each call's
    /// result is that of its own chunks, processed after those of every earlier call.
    ///
    /// `lines` and `ndjson` copy the chunks here (into reused memory) so that JS lets them go at
    /// once. Their main thread makes many small objects, so young-generation collections come
    /// often, and a Buffer held until the call returns then outlives two of them: V8 promotes it
    /// and frees it only in a full collection, and dead input piles up meanwhile (peak RSS
    /// growth at 1 GiB: `lines` 55-75 MiB, 31-36 with the copy; `ndjson` at 256 MiB 95-104 MiB,
    /// 46-52 with the copy). Byte transforms read the chunks in place: the copy cost 8% of
    /// uppercase and their RSS was fine.
    #[napi(ts_return_type = "Promise<NativeStepResult>")]
    pub fn process(&self, chunks: Vec<Buffer>) -> AsyncTask<Step> {
        if !self.copy {
            return self.call(Input {
                chunks,
                copy: Vec::new(),
                finish: false,
            });
        }
        let mut copy = pool::take(chunks.iter().map(|c| c.len()).sum());
        for c in &chunks {
            copy.extend_from_slice(c);
        }
        self.call(Input {
            chunks: Vec::new(),
            copy,
            finish: false,
        })
    }

    /// Flushes every stage (end of input) on a worker thread, after every earlier call's chunks.
    #[napi(ts_return_type = "Promise<NativeStepResult>")]
    pub fn finish(&self) -> AsyncTask<Step> {
        self.call(Input {
            chunks: Vec::new(),
            copy: Vec::new(),
            finish: true,
        })
    }
}

impl NativeTransform {
    fn call(&self, input: Input) -> AsyncTask<Step> {
        let seq = self.calls.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.queue).push_back(input);
        AsyncTask::new(Step {
            shared: self.shared.clone(),
            seq,
            chunks: Vec::new(),
        })
    }
}

/// Locks `m`; a panic while it was held (none is expected) does not make the state unusable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a call resolves to.
#[napi(object, object_from_js = false)]
pub struct TransformOutput {
    /// Bytes out (see `StepOutput::data`); absent when empty.
    #[napi(ts_type = "Buffer")]
    pub data: Option<PooledBuffer>,
    /// Pieces of one-byte text, in place of `data` (see `NativeStepResult.text`): for `lines` as
    /// strings the lines whose characters are all below U+0100 (whole lines, terminators
    /// removed, as Latin-1), for `ndjson` such string values (and record texts).
    pub pieces: Option<u32>,
    /// `lines` as strings, `ndjson`: pieces of UTF-16 text (`NativeStepResult.wideText`), the
    /// other lines or strings.
    pub wide_pieces: Option<u32>,
    /// `lines`: `[start, end)` pairs of each line, within `data` (Buffers) or (strings) within
    /// the concatenation of the one-byte pieces, or of the UTF-16 pieces when the start has
    /// bit 31 set; `ndjson`: the same for each string, in the records' order.
    pub ends: Option<Uint32Array>,
    /// `lines`: entries in `ends`, or in the array given to `take`, which then holds them.
    pub ends_length: Option<u32>,
    /// `ndjson`: each record's shape id, from 1 in the order `shapes` introduced them; 0 for a
    /// record made by `JSON.parse` of its text (the next string).
    pub recs: Option<Uint32Array>,
    /// `ndjson`: the records' numbers and booleans (1 or 0), in order.
    pub nums: Option<Float64Array>,
    /// `ndjson`: records in `recs`, or in the array given to `take`, which then holds them.
    pub recs_length: Option<u32>,
    /// `ndjson`: entries in `nums`, or in the array given to `take`, which then holds them.
    pub nums_length: Option<u32>,
    /// `ndjson`: shapes first seen in this call, as JSON (see `compileShape` in
    /// lib/ferro-transform.js).
    pub shapes: Option<Vec<String>>,
    /// `ndjson`: records parsed.
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
    shared: Arc<Shared>,
    /// This call's sequence number.
    seq: u64,
    /// This call's input chunks once processed, released on the JS thread in `resolve`.
    chunks: Vec<Buffer>,
}

impl Task for Step {
    type Output = StepOutput;
    type JsValue = NativeStepResult;

    fn compute(&mut self) -> Result<StepOutput> {
        let mut out = {
            let mut state = lock(&self.shared.state);
            while state.processed <= self.seq {
                let input = lock(&self.shared.queue)
                    .pop_front()
                    .ok_or_else(|| Error::new(Status::GenericFailure, "transform input missing"))?;
                let mut slices: Vec<&[u8]> = input.chunks.iter().map(|b| b.as_ref()).collect();
                if !input.copy.is_empty() {
                    slices.push(&input.copy);
                }
                let out = state.engine.step(&slices, input.finish);
                pool::give(input.copy);
                let seq = state.processed;
                state.processed += 1;
                state.ready.push_back((seq, out, input.chunks));
            }
            let i = state
                .ready
                .iter()
                .position(|(seq, ..)| *seq == self.seq)
                .ok_or_else(|| Error::new(Status::GenericFailure, "transform result missing"))?;
            let (_, out, chunks) = state.ready.remove(i).expect("position is in range");
            self.chunks = chunks;
            out
        };
        // Text is cut into pieces here, off the main thread and outside the lock; the main thread
        // only copies each piece into V8 when it delivers it (NativeStepResult).
        match out.text {
            TextKind::Bytes => {}
            TextKind::Pieces if out.ends.is_empty() => {}
            TextKind::Pieces => {
                let len = out.data.len() as u32;
                if out.cuts.last() != Some(&len) {
                    out.cuts.push(len);
                }
                out.strings = Some(JsStrings::ascii(std::mem::take(&mut out.data), &out.cuts));
                out.wide_strings = Some(JsStrings::utf16(
                    std::mem::take(&mut out.wide),
                    out.wide_units,
                    &out.wide_cuts,
                ));
            }
        }
        Ok(out)
    }

    fn resolve(&mut self, _env: Env, out: StepOutput) -> Result<NativeStepResult> {
        // Release the input chunks here, on the JS thread.
        self.chunks.clear();
        Ok(NativeStepResult {
            out: Mutex::new(Some(out)),
            texts: Mutex::new((None, None)),
        })
    }
}

/// A call's result, kept in Rust until JS is ready to push it (`take`), and its text until JS
/// asks for each piece (`text`, `wideText`). A result often arrives while the previous one is
/// still being pushed: waiting in V8 as strings, it would survive young-generation collections,
/// which makes V8 grow its young generation; in Rust it waits in pooled memory.
#[napi]
pub struct NativeStepResult {
    out: Mutex<Option<StepOutput>>,
    /// After `take`: the one-byte pieces and the UTF-16 pieces (`lines` as strings, `ndjson`).
    texts: Mutex<(Option<JsStrings>, Option<JsStrings>)>,
}

#[napi]
impl NativeStepResult {
    /// The result as JS values, its text excepted (see `text`). Only once. Line (or string)
    /// boundaries, ndjson shape ids and numbers are copied into `ends`, `recs` and `nums` when
    /// they are long enough (JS reuses one array of each rather than leave new ones per call to
    /// the garbage collector); otherwise they come as new arrays.
    #[napi]
    pub fn take(
        &self,
        ends: Option<Uint32ArraySlice>,
        recs: Option<Uint32ArraySlice>,
        nums: Option<Float64ArraySlice>,
    ) -> Result<TransformOutput> {
        let mut out = lock(&self.out)
            .take()
            .ok_or_else(|| Error::new(Status::GenericFailure, "transform result already taken"))?;
        let ends_length = out.ends.len() as u32;
        let (recs_length, nums_length) = (out.recs.len() as u32, out.nums.len() as u32);
        let (mut ends, mut recs, mut nums) = (ends, recs, nums);
        // SAFETY (the three copies): on the JS thread, during this call: nothing else touches
        // the arrays.
        let copied = copy_into(
            ends.as_mut().map(|a| unsafe { a.as_mut() }),
            &mut out.ends,
            &pool::ENDS,
        );
        copy_into(
            recs.as_mut().map(|a| unsafe { a.as_mut() }),
            &mut out.recs,
            &pool::ENDS,
        );
        copy_into(
            nums.as_mut().map(|a| unsafe { a.as_mut() }),
            &mut out.nums,
            &pool::NUMS,
        );
        let texts = (out.strings.take(), out.wide_strings.take());
        let (pieces, wide_pieces) = (
            texts.0.as_ref().map(|t| t.len() as u32),
            texts.1.as_ref().map(|t| t.len() as u32),
        );
        *lock(&self.texts) = texts;
        let mut js = to_js(out);
        js.pieces = pieces;
        js.wide_pieces = wide_pieces;
        if copied || js.ends.is_some() {
            js.ends_length = Some(ends_length);
        }
        js.recs_length = (recs_length > 0).then_some(recs_length);
        js.nums_length = (nums_length > 0).then_some(nums_length);
        Ok(js)
    }

    /// One-byte piece `i` of the text (an `ndjson` group, or Latin-1 lines), as a string.
    #[napi(ts_return_type = "string")]
    pub fn text<'env>(&self, env: &'env Env, i: u32) -> Result<JsString<'env>> {
        match &lock(&self.texts).0 {
            Some(t) => t.create(env, i as usize),
            None => Err(Error::new(Status::InvalidArg, "no text")),
        }
    }

    /// UTF-16 piece `i` of the text (the other `lines`), as a string.
    #[napi(ts_return_type = "string")]
    pub fn wide_text<'env>(&self, env: &'env Env, i: u32) -> Result<JsString<'env>> {
        match &lock(&self.texts).1 {
            Some(t) => t.create(env, i as usize),
            None => Err(Error::new(Status::InvalidArg, "no text")),
        }
    }

    /// Gives the text's memory back for reuse (once every piece JS needs has been made).
    #[napi]
    pub fn release(&self) {
        *lock(&self.texts) = (None, None);
        lock(&self.out).take();
    }
}

/// Copies `from` into `into` if `into` is long enough, and gives `from`'s memory to `kept`.
fn copy_into<T: Copy>(into: Option<&mut [T]>, from: &mut Vec<T>, kept: &pool::KeptVecs<T>) -> bool {
    match into {
        Some(into) if into.len() >= from.len() => {
            into[..from.len()].copy_from_slice(from);
            kept.give(std::mem::take(from));
            true
        }
        _ => false,
    }
}

fn to_js(out: StepOutput) -> TransformOutput {
    let (error_code, error_message, error_line) = match out.error {
        Some(e) => (
            Some(e.code.to_string()),
            Some(e.message),
            e.line.map(|l| l as f64),
        ),
        None => (None, None, None),
    };
    pool::give(out.wide);
    let ends = if out.ends.is_empty() {
        None
    } else {
        Some(Uint32Array::new(out.ends))
    };
    let recs = (!out.recs.is_empty()).then(|| Uint32Array::new(out.recs));
    let nums = (!out.nums.is_empty()).then(|| Float64Array::new(out.nums));
    let shapes = (!out.shapes.is_empty()).then_some(out.shapes);
    let data = if out.data.is_empty() {
        pool::give(out.data);
        None
    } else {
        Some(PooledBuffer(out.data))
    };
    TransformOutput {
        data,
        pieces: None,
        wide_pieces: None,
        ends,
        ends_length: None,
        recs,
        nums,
        recs_length: None,
        nums_length: None,
        shapes,
        records: out.records,
        skipped: out.skipped,
        error_code,
        error_message,
        error_line,
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
