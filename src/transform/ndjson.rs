//! The `ndjson` sink: parses each line (serde_json) and hands JS each record as its *shape*
//! (keys, nesting, the kind of each value) and its values, so that the main thread makes the
//! objects with a function compiled once per shape (an object literal per record, see
//! `lib/ferro-transform.js`) instead of parsing JSON text. Parsing is most of what `JSON.parse`
//! costs, and here it runs off the main thread: numbers come as a `Float64Array`, strings as
//! slices of pieces of text (one-byte Latin-1, or UTF-16, as `lines()` makes them).
//!
//! A record that has no shape goes to JS as its JSON text and `JSON.parse` makes it: a key
//! `__proto__` or made of digits, an array longer than [`MAX_ARRAY`], more than [`MAX_LEAVES`]
//! values, nesting deeper than serde_json follows (128), a lone surrogate (`"\ud800"`, which
//! JSON.parse accepts), a number serde_json cannot hold (`1e400`), or a transform past
//! [`MAX_SHAPES`] shapes. Numbers are parsed correctly rounded (serde_json's `float_roundtrip`),
//! as JSON.parse does, `-0` included.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;

use super::lines::{self, content, cut_narrow, cut_wide, push_text_line, Framer, WIDE};
use super::pool;
use super::{OpError, StepOutput};

/// The error code for a line that is not valid JSON.
pub const INVALID_JSON: &str = "ERR_NDJSON_INVALID_JSON";

/// Shapes one transform learns, at most; records of other shapes go to JS as JSON text.
pub const MAX_SHAPES: usize = 1024;
/// Values (numbers, strings, booleans, nulls) in one record, at most, for it to have a shape.
pub const MAX_LEAVES: usize = 256;
/// Elements in one array, at most, for its record to have a shape.
pub const MAX_ARRAY: usize = 64;

/// A record whose values went to `StepOutput::nums` and the texts: the id of its shape.
/// Records sent as JSON text have id [`RAW`].
pub const RAW: u32 = 0;

/// Splits ndjson into lines and parses each; blank lines are ignored.
pub struct NdjsonSink {
    framer: Framer,
    skip: bool,
    shapes: Shapes,
    /// The signature of the record being encoded.
    sig: Vec<u8>,
}

impl NdjsonSink {
    /// A sink that skips and counts bad lines (`skip`) or stops at the first.
    pub fn new(max: usize, skip: bool) -> Self {
        NdjsonSink {
            framer: Framer::new(max),
            skip,
            shapes: Shapes::default(),
            sig: Vec::new(),
        }
    }

    pub(super) fn process(&mut self, input: &[u8], out: &mut StepOutput) -> Result<(), OpError> {
        let (skip, shapes, sig) = (self.skip, &mut self.shapes, &mut self.sig);
        self.framer.feed(input, |block, first| {
            records(block, first, skip, shapes, sig, out)
        })
    }

    pub(super) fn finish(&mut self, out: &mut StepOutput) -> Result<(), OpError> {
        let (skip, shapes, sig) = (self.skip, &mut self.shapes, &mut self.sig);
        self.framer
            .finish(|block, first| records(block, first, skip, shapes, sig, out))
    }
}

/// Makes room in `out.wide` for `bytes` more bytes of text as UTF-16, growing it at least
/// twofold (memory from the pool): most ndjson has no character from U+0100 up, and then none
/// is set aside.
fn reserve_wide(bytes: usize, out: &mut StepOutput) {
    let need = 2 * (out.wide_units + bytes + 1) + 1;
    if out.wide.capacity() < need {
        lines::reserve_wide(bytes.max(out.wide.capacity()).max(16 * 1024), out);
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

fn records(
    block: &[u8],
    first: u64,
    skip: bool,
    shapes: &mut Shapes,
    sig: &mut Vec<u8>,
    out: &mut StepOutput,
) -> Result<(), OpError> {
    for (i, line) in block.split_inclusive(|&b| b == b'\n').enumerate() {
        let body = content(line);
        if is_blank(body) {
            continue;
        }
        if encode(body, shapes, sig, out) {
            out.records += 1;
            continue;
        }
        match serde_json::from_slice::<IgnoredAny>(body) {
            Ok(_) => {
                // Valid, but without a shape: JS parses the text.
                out.recs.push(RAW);
                reserve_wide(body.len(), out);
                push_text_line(body, 0, out);
                out.records += 1;
            }
            Err(_) if skip => out.skipped += 1,
            Err(e) => {
                let n = first + i as u64;
                let text = e.to_string();
                let what = text.rsplit_once(" at line ").map_or(&*text, |(w, _)| w);
                return Err(OpError {
                    code: INVALID_JSON,
                    message: format!("Invalid JSON on line {n}, column {}: {what}", e.column()),
                    line: Some(n),
                });
            }
        }
    }
    Ok(())
}

/// Lengths of what a record appends to a [`StepOutput`], to take it back when the record turns
/// out to have no shape.
struct Mark {
    nums: usize,
    ends: usize,
    data: usize,
    wide_units: usize,
    cuts: usize,
    wide_cuts: usize,
}

impl Mark {
    fn of(out: &StepOutput) -> Self {
        Mark {
            nums: out.nums.len(),
            ends: out.ends.len(),
            data: out.data.len(),
            wide_units: out.wide_units,
            cuts: out.cuts.len(),
            wide_cuts: out.wide_cuts.len(),
        }
    }

    fn restore(self, out: &mut StepOutput) {
        out.nums.truncate(self.nums);
        out.ends.truncate(self.ends);
        out.data.truncate(self.data);
        out.wide_units = self.wide_units;
        out.cuts.truncate(self.cuts);
        out.wide_cuts.truncate(self.wide_cuts);
    }
}

/// The shapes a transform has seen: signatures (see [`Encoder`]) and their ids, from 1.
#[derive(Default)]
struct Shapes {
    ids: HashMap<Vec<u8>, u32>,
    /// The last record's signature and id: records in a row mostly share their shape.
    last: Vec<u8>,
    last_id: u32,
}

impl Shapes {
    /// The id of the shape `sig`, a new one (described in `out.shapes`) if it is new and there
    /// is room.
    fn id(&mut self, sig: &[u8], out: &mut StepOutput) -> Option<u32> {
        if self.last_id != 0 && self.last == sig {
            return Some(self.last_id);
        }
        let id = match self.ids.get(sig) {
            Some(&id) => id,
            None if self.ids.len() >= MAX_SHAPES => return None,
            None => {
                let id = self.ids.len() as u32 + 1;
                out.shapes.push(describe(sig));
                self.ids.insert(sig.to_vec(), id);
                id
            }
        };
        self.last.clear();
        self.last.extend_from_slice(sig);
        self.last_id = id;
        Some(id)
    }
}

/// Encodes one record's values into `out` and its shape id into `out.recs` (a shape new to this
/// transform also goes to `out.shapes`); false, with `out` as it was, when the record is not
/// valid JSON or has no shape (see the module's doc).
fn encode(body: &[u8], shapes: &mut Shapes, sig: &mut Vec<u8>, out: &mut StepOutput) -> bool {
    let mark = Mark::of(out);
    sig.clear();
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut enc = Encoder {
        sig: &mut *sig,
        out: &mut *out,
        leaves: 0,
    };
    let parsed = (&mut enc).deserialize(&mut de).is_ok() && de.end().is_ok();
    match parsed.then(|| shapes.id(sig, out)).flatten() {
        Some(id) => {
            out.recs.push(id);
            true
        }
        None => {
            mark.restore(out);
            false
        }
    }
}

/// Walks one JSON value (serde's data model, as serde_json reads it), writing its shape to `sig`
/// and its values to `out`. The signature, depth first: `{` then, per member, the key's length
/// (4 bytes, little-endian), the key (UTF-8) and the value's signature, then `}`; `[`, the
/// elements' signatures, `]`; `n` a number, `s` a string, `b` a boolean, `z` null. Numbers and
/// booleans (1 or 0) go to `out.nums`, strings to the texts, in the same order.
struct Encoder<'a> {
    sig: &'a mut Vec<u8>,
    out: &'a mut StepOutput,
    leaves: usize,
}

impl Encoder<'_> {
    fn leaf<E: de::Error>(&mut self, kind: u8) -> Result<(), E> {
        self.leaves += 1;
        if self.leaves > MAX_LEAVES {
            return Err(E::custom("too many values for a shape"));
        }
        self.sig.push(kind);
        Ok(())
    }

    fn number<E: de::Error>(&mut self, v: f64) -> Result<(), E> {
        self.leaf(b'n')?;
        self.out.nums.push(v);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for &mut Encoder<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Encoder<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.leaf(b'b')?;
        self.out.nums.push(if v { 1.0 } else { 0.0 });
        Ok(())
    }

    // Integers beyond 2^53 round to the nearest double, as JSON.parse rounds them.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.number(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.number(v as f64)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.number(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.leaf(b's')?;
        push_string(v, self.out);
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.leaf(b'z')
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.sig.push(b'[');
        let mut n = 0;
        while seq.next_element_seed(&mut *self)?.is_some() {
            n += 1;
            if n > MAX_ARRAY {
                return Err(de::Error::custom("array too long for a shape"));
            }
        }
        self.sig.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.sig.push(b'{');
        while map.next_key_seed(Key(&mut *self.sig))?.is_some() {
            map.next_value_seed(&mut *self)?;
        }
        self.sig.push(b'}');
        Ok(())
    }
}

/// A member's key, written to the signature. `__proto__` (an object literal would set the
/// prototype) and keys made of digits (array indices) have no shape.
struct Key<'a>(&'a mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if v == "__proto__" || (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())) {
            return Err(E::custom("key without a shape"));
        }
        self.0.extend_from_slice(&(v.len() as u32).to_le_bytes());
        self.0.extend_from_slice(v.as_bytes());
        Ok(())
    }
}

/// Appends a string value to the texts: one-byte (Latin-1) when every character is below
/// U+0100, UTF-16 otherwise; its `[start, end)` goes to `out.ends` (start flagged with [`WIDE`]
/// for UTF-16), as for `lines()`.
fn push_string(v: &str, out: &mut StepOutput) {
    if v.chars().all(|c| (c as u32) < 0x100) {
        let at = out.data.len();
        if v.is_ascii() {
            out.data.extend_from_slice(v.as_bytes());
        } else {
            out.data.extend(v.chars().map(|c| c as u8));
        }
        out.ends.push(at as u32);
        out.ends.push(out.data.len() as u32);
        cut_narrow(out);
        return;
    }
    // At most one unit per byte.
    reserve_wide(v.len(), out);
    let at = out.wide_units;
    let room = 2 * (at + v.len()) + 2;
    if out.wide.len() < room {
        let grown = room.max(2 * out.wide.len()).min(out.wide.capacity());
        out.wide.resize(grown, 0);
    }
    let units = &mut pool::as_units(&mut out.wide)[at..];
    let mut n = 0;
    for u in v.encode_utf16() {
        units[n] = u;
        n += 1;
    }
    out.wide_units += n;
    out.ends.push(at as u32 | WIDE);
    out.ends.push(out.wide_units as u32);
    cut_wide(out);
}

/// The shape a signature stands for, as JSON for JS (`lib/ferro-transform.js`, `compileShape`):
/// `0` a number, `1` a string, `2` a boolean, `3` null, an array of the elements' shapes, or
/// `{"k": [keys], "v": [their values' shapes]}`.
pub fn describe(sig: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    describe_at(sig, &mut i, &mut out);
    out
}

fn describe_at(sig: &[u8], i: &mut usize, out: &mut String) {
    let kind = sig[*i];
    *i += 1;
    match kind {
        b'n' => out.push('0'),
        b's' => out.push('1'),
        b'b' => out.push('2'),
        b'z' => out.push('3'),
        b'[' => {
            out.push('[');
            let mut first = true;
            while sig[*i] != b']' {
                if !first {
                    out.push(',');
                }
                first = false;
                describe_at(sig, i, out);
            }
            *i += 1;
            out.push(']');
        }
        _ => {
            let mut keys = Vec::new();
            let mut values = Vec::new();
            while sig[*i] != b'}' {
                let len = u32::from_le_bytes(sig[*i..*i + 4].try_into().unwrap()) as usize;
                *i += 4;
                let key = std::str::from_utf8(&sig[*i..*i + len]).unwrap_or_default();
                *i += len;
                keys.push(serde_json::to_string(key).unwrap_or_default());
                let mut value = String::new();
                describe_at(sig, i, &mut value);
                values.push(value);
            }
            *i += 1;
            out.push_str(&format!(
                "{{\"k\":[{}],\"v\":[{}]}}",
                keys.join(","),
                values.join(",")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8], skip: bool) -> (StepOutput, Result<(), OpError>) {
        let mut s = NdjsonSink::new(1 << 20, skip);
        let mut out = StepOutput::default();
        let r = s.process(input, &mut out).and_then(|_| s.finish(&mut out));
        (out, r)
    }

    #[test]
    fn encodes_records_by_shape_and_names_the_bad_line() {
        let (out, r) = run(b"{\"a\":1}\r\n\n [2, true] \n{\"a\":3}\n{bad}\n3\n", false);
        let e = r.unwrap_err();
        assert_eq!(out.recs, vec![1, 2, 1]);
        assert_eq!(out.nums, vec![1.0, 2.0, 1.0, 3.0]);
        assert_eq!(out.shapes, vec![r#"{"k":["a"],"v":[0]}"#, "[0,2]"]);
        assert_eq!(out.records, 3);
        assert_eq!((e.code, e.line), (INVALID_JSON, Some(5)));
        assert!(
            e.message.starts_with("Invalid JSON on line 5, column 2: "),
            "{}",
            e.message
        );
    }

    #[test]
    fn skips_and_counts_bad_lines_including_the_last() {
        let (out, r) = run(b"1\nnope\n\"x\"\nnull\n{", true);
        r.unwrap();
        assert_eq!((out.records, out.skipped), (3, 2));
        assert_eq!(out.recs, vec![1, 2, 3]);
        assert_eq!(out.shapes, vec!["0", "1", "3"]);
        assert_eq!(lines::decoded(&out), vec!["x"]);
    }

    #[test]
    fn strings_go_to_one_byte_or_utf16_text_in_order() {
        let input = "{\"k\":\"café\",\"e\":\"😀 ok\",\"n\":{\"x\":[\"a\\\"b\",\"\"]}}\n";
        let (out, r) = run(input.as_bytes(), false);
        r.unwrap();
        assert_eq!(lines::decoded(&out), vec!["café", "😀 ok", "a\"b", ""]);
        assert_eq!(
            out.shapes,
            vec![r#"{"k":["k","e","n"],"v":[1,1,{"k":["x"],"v":[[1,1]]}]}"#]
        );
        assert_eq!(&out.data[..5], b"caf\xe9a");
    }

    #[test]
    fn numbers_are_the_doubles_json_parse_makes() {
        let (out, r) = run(
            b"[-0, 0, 9007199254740993, 0.1, 1.7976931348623157e308, 5e-324, -12, 18446744073709551616]\n",
            false,
        );
        r.unwrap();
        let bits: Vec<u64> = out.nums.iter().map(|v| v.to_bits()).collect();
        let want = [
            -0.0f64,
            0.0,
            9007199254740992.0,
            0.1,
            f64::MAX,
            5e-324,
            -12.0,
            18446744073709551616.0,
        ];
        assert_eq!(bits, want.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    }

    #[test]
    fn records_without_a_shape_go_as_their_text() {
        let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        let long = format!("[{}0]", "0,".repeat(MAX_ARRAY));
        let lines = [
            deep.as_str(),
            "\"\\ud800\"",
            "{\"__proto__\":1}",
            "{\"12\":1}",
            "1e400",
            long.as_str(),
        ];
        let (out, r) = run(format!("{}\n", lines.join("\n")).as_bytes(), false);
        r.unwrap();
        assert_eq!(out.recs, vec![RAW; lines.len()]);
        assert!(out.nums.is_empty() && out.shapes.is_empty());
        assert_eq!(lines::decoded(&out), lines);
        // Keys like these are fine elsewhere in a shape.
        let (out, _) = run(b"{\"__proto\":1,\"1a\":2,\"\":3}\n", false);
        assert_eq!(out.recs, vec![1]);
        assert_eq!(out.shapes, vec![r#"{"k":["__proto","1a",""],"v":[0,0,0]}"#]);
    }

    #[test]
    fn a_partial_record_leaves_nothing_behind() {
        // The string of the first member is written before the 65th element fails the shape.
        let long = format!("{{\"s\":\"abc\",\"a\":[{}0]}}", "0,".repeat(MAX_ARRAY));
        let (out, r) = run(format!("{long}\n{{\"s\":\"d\"}}\n").as_bytes(), false);
        r.unwrap();
        assert_eq!(out.recs, vec![RAW, 1]);
        assert_eq!(lines::decoded(&out), vec![long.as_str(), "d"]);
        assert!(out.nums.is_empty());
    }

    #[test]
    fn stops_learning_shapes_at_the_limit() {
        let input: String = (0..MAX_SHAPES + 3)
            .map(|i| format!("{{\"k{i}\":{i}}}\n"))
            .collect();
        let (out, r) = run(input.as_bytes(), false);
        r.unwrap();
        assert_eq!(out.shapes.len(), MAX_SHAPES);
        assert_eq!(out.recs[MAX_SHAPES - 1], MAX_SHAPES as u32);
        assert_eq!(&out.recs[MAX_SHAPES..], &[RAW; 3]);
        assert_eq!(out.nums.len(), MAX_SHAPES);
    }
}
