//! The `ndjson` sink: validates each line as JSON (serde_json, without building values) and hands
//! JS the valid records as one JSON array text, so the main thread makes every object with a
//! single `JSON.parse` call instead of one per line.

use serde::de::IgnoredAny;

use super::lines::{content, Framer};
use super::{OpError, StepOutput};

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

    /// Closes the array text of one call.
    pub(super) fn close_step(out: &mut StepOutput) {
        if out.records > 0 {
            out.data.push(b']');
        }
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

fn records(block: &[u8], first: u64, skip: bool, out: &mut StepOutput) -> Result<(), OpError> {
    for (i, line) in block.split_inclusive(|&b| b == b'\n').enumerate() {
        let body = content(line);
        if is_blank(body) {
            continue;
        }
        match serde_json::from_slice::<IgnoredAny>(body) {
            Ok(_) => {
                out.data.push(if out.records == 0 { b'[' } else { b',' });
                out.data.extend_from_slice(body);
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
}
