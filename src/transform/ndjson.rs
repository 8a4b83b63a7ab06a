//! The `ndjson` sink: validates each line as JSON (serde_json, without building values) and hands
//! JS the valid records as JSON array texts, so the main thread makes every object with one
//! `JSON.parse` call per group of records instead of one per line. Non-ASCII characters (which
//! JSON only allows inside strings) are written as `\uXXXX` escapes: the text is then pure ASCII,
//! each group becomes a one-byte JS string with a plain copy (`pool::Latin1Strings`), and V8
//! parses one-byte strings about twice as fast as the two-byte strings UTF-8 text with any
//! non-ASCII character decodes to. Groups close after [`GROUP_BYTES`], so that each `JSON.parse`
//! is short, JS can yield to the event loop between groups, and the strings stay below V8's
//! large-object size (128 KiB) and die young.

use serde::de::IgnoredAny;

use super::lines::{content, Framer};
use super::{OpError, StepOutput};

/// A group of records closes once its JSON text reaches this many bytes.
pub const GROUP_BYTES: usize = 64 * 1024;

/// The error code for a line that is not valid JSON.
pub const INVALID_JSON: &str = "ERR_NDJSON_INVALID_JSON";

/// Splits ndjson into lines and validates each; blank lines are ignored.
pub struct NdjsonSink {
    framer: Framer,
    skip: bool,
}

impl NdjsonSink {
    /// A sink that skips and counts bad lines (`skip`) or stops at the first.
    pub fn new(max: usize, skip: bool) -> Self {
        NdjsonSink {
            framer: Framer::new(max),
            skip,
        }
    }

    pub(super) fn process(&mut self, input: &[u8], out: &mut StepOutput) -> Result<(), OpError> {
        let skip = self.skip;
        self.framer
            .feed(input, |block, first| records(block, first, skip, out))
    }

    pub(super) fn finish(&mut self, out: &mut StepOutput) -> Result<(), OpError> {
        let skip = self.skip;
        self.framer
            .finish(|block, first| records(block, first, skip, out))
    }

    /// Closes the last group of one call.
    pub(super) fn close_step(out: &mut StepOutput) {
        if out.open_group {
            close_group(out);
        }
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Appends a JSON text with every non-ASCII character escaped as `\uXXXX` (UTF-16 units).
/// Invalid UTF-8 becomes U+FFFD, as `Buffer#toString()` would decode it.
fn push_ascii(body: &[u8], out: &mut Vec<u8>) {
    if body.is_ascii() {
        out.extend_from_slice(body);
        return;
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let text = String::from_utf8_lossy(body);
    let bytes = text.as_bytes();
    let mut units = [0u16; 2];
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..]
            .iter()
            .position(|b| !b.is_ascii())
            .unwrap_or(bytes.len() - i);
        out.extend_from_slice(&bytes[i..i + run]);
        i += run;
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        for &u in c.encode_utf16(&mut units).iter() {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                HEX[(u >> 12) as usize],
                HEX[(u >> 8 & 0xF) as usize],
                HEX[(u >> 4 & 0xF) as usize],
                HEX[(u & 0xF) as usize],
            ]);
        }
        i += c.len_utf8();
    }
}

fn close_group(out: &mut StepOutput) {
    out.data.push(b']');
    out.ends.push(out.data.len() as u32);
    out.open_group = false;
}

fn records(block: &[u8], first: u64, skip: bool, out: &mut StepOutput) -> Result<(), OpError> {
    for (i, line) in block.split_inclusive(|&b| b == b'\n').enumerate() {
        let body = content(line);
        if is_blank(body) {
            continue;
        }
        match serde_json::from_slice::<IgnoredAny>(body) {
            Ok(_) => {
                out.data.push(if out.open_group { b',' } else { b'[' });
                out.open_group = true;
                push_ascii(body, &mut out.data);
                out.records += 1;
                let group_start = out.ends.last().map_or(0, |&e| e as usize);
                if out.data.len() - group_start >= GROUP_BYTES {
                    close_group(out);
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_valid_records_and_names_the_bad_line() {
        let mut s = NdjsonSink::new(1000, false);
        let mut out = StepOutput::default();
        let e = s
            .process(b"{\"a\":1}\r\n\n [2] \n{bad}\n3\n", &mut out)
            .unwrap_err();
        NdjsonSink::close_step(&mut out);
        assert_eq!(out.data, b"[{\"a\":1}, [2] ]");
        assert_eq!(out.ends, vec![out.data.len() as u32]);
        assert_eq!((e.code, e.line), (INVALID_JSON, Some(4)));
        assert!(
            e.message.starts_with("Invalid JSON on line 4, column 2: "),
            "{}",
            e.message
        );
    }

    #[test]
    fn skips_and_counts_bad_lines_including_the_last() {
        let mut s = NdjsonSink::new(1000, true);
        let mut out = StepOutput::default();
        s.process(b"1\nnope\n\"x\"\n{", &mut out).unwrap();
        s.finish(&mut out).unwrap();
        NdjsonSink::close_step(&mut out);
        assert_eq!(out.data, b"[1,\"x\"]");
        assert_eq!((out.records, out.skipped), (2, 2));
    }

    #[test]
    fn accepts_deep_nesting_and_lone_surrogates_like_json_parse() {
        let mut s = NdjsonSink::new(1 << 20, false);
        let mut out = StepOutput::default();
        let deep = format!("{}{}\n", "[".repeat(1000), "]".repeat(1000));
        s.process(deep.as_bytes(), &mut out).unwrap();
        s.process(b"\"\\ud800\"\n", &mut out).unwrap();
        assert_eq!(out.records, 2);
    }

    #[test]
    fn escapes_non_ascii_so_the_text_is_ascii() {
        let mut s = NdjsonSink::new(1000, false);
        let mut out = StepOutput::default();
        s.process("{\"k\":\"café 😀\"}\n".as_bytes(), &mut out)
            .unwrap();
        NdjsonSink::close_step(&mut out);
        assert_eq!(out.data, b"[{\"k\":\"caf\\u00e9 \\ud83d\\ude00\"}]");
        let v: Vec<serde_json::Value> = serde_json::from_slice(&out.data).unwrap();
        assert_eq!(v[0]["k"], "café 😀");
    }

    #[test]
    fn closes_a_group_every_64_kib() {
        let mut s = NdjsonSink::new(1 << 20, false);
        let mut out = StepOutput::default();
        let line = format!("\"{}\"\n", "x".repeat(1000));
        for _ in 0..200 {
            s.process(line.as_bytes(), &mut out).unwrap();
        }
        NdjsonSink::close_step(&mut out);
        assert_eq!(out.ends.len(), 4);
        let mut start = 0;
        for &end in &out.ends {
            let group: Vec<String> =
                serde_json::from_slice(&out.data[start..end as usize]).unwrap();
            assert!(!group.is_empty());
            start = end as usize;
        }
        assert_eq!(start, out.data.len());
    }
}
