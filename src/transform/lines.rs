//! Line-based stages: framing (`Framer`), `grep`, `replace` and the `lines` sink.
//!
//! A line ends with LF; a CR before the LF belongs to the terminator (CRLF). Terminators are
//! kept in byte output. Patterns see a line without its terminator, so `^` and `$` match at the
//! line's start and end, and a match never spans two lines.
//!
//! Searching is done on whole blocks of lines, not line by line: the regex engine's literal
//! prefilters skip the lines that cannot match, and only a line where a match starts is looked
//! at on its own. This is exact: a match inside a line is also a match in the block (the regex
//! is compiled in multi-line CRLF mode), so the leftmost match in the block starts no later than
//! the first line that matches; a block match that runs past its line is checked again on the
//! line alone.

use std::ops::Range;

use memchr::{memchr, memchr_iter, memrchr};
use regex::bytes::{Regex, RegexBuilder};

use super::ascii::{store, BLOCK, HIGH, ONES};
use super::pool::{self, PIECE_BYTES};
use super::{ByteOp, OpError, StepOutput};

/// The error code for a line longer than `maxLineLength`.
pub const LINE_TOO_LONG: &str = "ERR_LINE_TOO_LONG";

/// Splits a byte stream into blocks of complete lines, keeping the partial last line between
/// chunks, counting lines and enforcing the line-length limit.
pub struct Framer {
    carry: Vec<u8>,
    max: usize,
    /// Complete lines handed out so far.
    lines: u64,
}

impl Framer {
    /// A framer accepting lines of up to `max` bytes (without the terminator).
    pub fn new(max: usize) -> Self {
        Framer {
            carry: Vec::new(),
            max,
            lines: 0,
        }
    }

    /// Calls `f(block, first_line_number)` for each run of complete lines in `input` (each line
    /// ends with `\n`), in order.
    pub fn feed(
        &mut self,
        input: &[u8],
        mut f: impl FnMut(&[u8], u64) -> Result<(), OpError>,
    ) -> Result<(), OpError> {
        let mut input = input;
        if !self.carry.is_empty() {
            match memchr(b'\n', input) {
                None => {
                    self.carry.extend_from_slice(input);
                    return self.check_partial();
                }
                Some(p) => {
                    let mut block = std::mem::take(&mut self.carry);
                    block.extend_from_slice(&input[..=p]);
                    input = &input[p + 1..];
                    let first = self.check_block(&block)?;
                    f(&block, first)?;
                    block.clear();
                    self.carry = block;
                }
            }
        }
        if let Some(p) = memrchr(b'\n', input) {
            let block = &input[..=p];
            let first = self.check_block(block)?;
            f(block, first)?;
            input = &input[p + 1..];
        }
        self.carry.extend_from_slice(input);
        self.check_partial()
    }

    /// Hands out the last line, which has no terminator, if there is one.
    pub fn finish(
        &mut self,
        mut f: impl FnMut(&[u8], u64) -> Result<(), OpError>,
    ) -> Result<(), OpError> {
        if self.carry.is_empty() {
            return Ok(());
        }
        let line = std::mem::take(&mut self.carry);
        self.lines += 1;
        if line.len() > self.max {
            return Err(self.too_long(self.lines));
        }
        f(&line, self.lines)
    }

    /// Checks every line of a block; returns the number of its first line.
    fn check_block(&mut self, block: &[u8]) -> Result<u64, OpError> {
        let first = self.lines + 1;
        let mut start = 0;
        for nl in memchr_iter(b'\n', block) {
            self.lines += 1;
            if content(&block[start..=nl]).len() > self.max {
                return Err(self.too_long(self.lines));
            }
            start = nl + 1;
        }
        Ok(first)
    }

    /// A partial line longer than the limit already fails: this is what bounds memory.
    fn check_partial(&self) -> Result<(), OpError> {
        // One byte of slack: a trailing CR may turn out to be part of a CRLF.
        if self.carry.len() > self.max.saturating_add(1) {
            return Err(self.too_long(self.lines + 1));
        }
        Ok(())
    }

    fn too_long(&self, line: u64) -> OpError {
        OpError {
            code: LINE_TOO_LONG,
            message: format!(
                "Line {line} is longer than maxLineLength ({} bytes)",
                self.max
            ),
            line: Some(line),
        }
    }
}

/// A line without its terminator (`\n` or `\r\n`).
#[inline]
pub fn content(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r', b'\n'] => rest,
        [rest @ .., b'\n'] => rest,
        _ => line,
    }
}

/// Compiles a line pattern: multi-line CRLF mode so `^`/`$` match at line boundaries in a block.
pub fn compile(pattern: &str, ignore_case: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .multi_line(true)
        .crlf(true)
        .case_insensitive(ignore_case)
        .build()
        .map_err(|e| e.to_string())
}

/// Whether block search is exact for this pattern: `\A` and `\z` mean the line's start and end
/// only when each line is searched on its own.
fn block_search_is_exact(pattern: &str) -> bool {
    !(pattern.contains("\\A") || pattern.contains("\\z"))
}

/// Calls `f(range, Some(matched))` for each line of `block` where a block match starts, and
/// `f(range, None)` for each run of lines in between, which do not match.
fn scan(re: &Regex, block: &[u8], mut f: impl FnMut(Range<usize>, Option<bool>)) {
    let mut pos = 0;
    while pos < block.len() {
        let m = match re.find_at(block, pos) {
            // An empty match at the very end of a block that ends with LF is in no line.
            Some(m) if m.start() < block.len() || block.last() != Some(&b'\n') => m,
            _ => {
                f(pos..block.len(), None);
                return;
            }
        };
        let start = memrchr(b'\n', &block[pos..m.start()]).map_or(pos, |p| pos + p + 1);
        let end = memchr(b'\n', &block[m.start()..]).map_or(block.len(), |p| m.start() + p + 1);
        let body_end = start + content(&block[start..end]).len();
        let matched = m.end() <= body_end || re.is_match(&block[start..body_end]);
        if start > pos {
            f(pos..start, None);
        }
        f(start..end, Some(matched));
        pos = end;
    }
}

/// Calls `f(range, Some(matched))` for every line of `block`, matching each on its own.
fn per_line(re: &Regex, block: &[u8], mut f: impl FnMut(Range<usize>, Option<bool>)) {
    let mut start = 0;
    while start < block.len() {
        let end = memchr(b'\n', &block[start..]).map_or(block.len(), |p| start + p + 1);
        f(start..end, Some(re.is_match(content(&block[start..end]))));
        start = end;
    }
}

/// `grep`: keeps the lines that match (or, inverted, those that do not).
pub struct Grep {
    framer: Framer,
    re: Regex,
    invert: bool,
    exact: bool,
}

impl Grep {
    /// A line filter. Errors with the regex parser's message when `pattern` does not compile.
    pub fn new(pattern: &str, ignore_case: bool, invert: bool, max: usize) -> Result<Self, String> {
        Ok(Grep {
            framer: Framer::new(max),
            re: compile(pattern, ignore_case)?,
            invert,
            exact: block_search_is_exact(pattern),
        })
    }
}

fn grep_block(re: &Regex, invert: bool, exact: bool, block: &[u8], out: &mut Vec<u8>) {
    // Kept lines are gathered into runs and each run is copied at once.
    let mut run = 0..0;
    let mut keep = |r: Range<usize>, matched: Option<bool>| {
        // A gap holds no match: kept only when inverted.
        if matched.unwrap_or(false) == invert {
            return;
        }
        if run.end == r.start {
            run.end = r.end;
        } else {
            out.extend_from_slice(&block[run.clone()]);
            run = r;
        }
    };
    if exact {
        scan(re, block, &mut keep);
    } else {
        per_line(re, block, &mut keep);
    }
    out.extend_from_slice(&block[run]);
}

impl ByteOp for Grep {
    fn process(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), OpError> {
        let (re, invert, exact) = (&self.re, self.invert, self.exact);
        self.framer.feed(input, |block, _| {
            grep_block(re, invert, exact, block, out);
            Ok(())
        })
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), OpError> {
        let (re, invert, exact) = (&self.re, self.invert, self.exact);
        self.framer.finish(|block, _| {
            grep_block(re, invert, exact, block, out);
            Ok(())
        })
    }
}

/// `replace`: replaces every match in each line, as JS `line.replace(/pattern/g, replacement)`.
pub struct Replace {
    framer: Framer,
    with: Replacer,
}

struct Replacer {
    /// Finds the lines with a match (on bytes, in blocks).
    re: Regex,
    /// Replaces within a line (on text, so that an empty match never splits a character).
    text_re: regex::Regex,
    replacement: String,
    exact: bool,
}

impl Replace {
    /// A replacing stage; `replacement` uses JS syntax (see [`js_replacement`]).
    pub fn new(
        pattern: &str,
        replacement: &str,
        ignore_case: bool,
        max: usize,
    ) -> Result<Self, String> {
        Ok(Replace {
            framer: Framer::new(max),
            with: Replacer {
                re: compile(pattern, ignore_case)?,
                text_re: regex::RegexBuilder::new(pattern)
                    .multi_line(true)
                    .crlf(true)
                    .case_insensitive(ignore_case)
                    .build()
                    .map_err(|e| e.to_string())?,
                replacement: js_replacement(replacement),
                exact: block_search_is_exact(pattern),
            },
        })
    }
}

/// Replaces every match in `text` the way JS `String#replace` with a global RegExp does: unlike
/// the `regex` crate's `replace_all`, an empty match right after a non-empty one counts
/// (`"x".replace(/x*/g, "-")` is `"--"`).
fn js_replace_all(re: &regex::Regex, text: &str, rep: &str, out: &mut String) {
    let mut last = 0;
    let mut pos = 0;
    while pos <= text.len() {
        let Some(caps) = re.captures_at(text, pos) else {
            break;
        };
        let m = caps.get(0).expect("group 0 always matches");
        out.push_str(&text[last..m.start()]);
        caps.expand(rep, out);
        last = m.end();
        pos = if m.is_empty() {
            // Step over one character, as JS advances lastIndex past an empty match.
            m.end() + text[m.end()..].chars().next().map_or(1, char::len_utf8)
        } else {
            m.end()
        };
    }
    out.push_str(&text[last..]);
}

fn replace_block(r: &Replacer, block: &[u8], out: &mut Vec<u8>) {
    let mut text = String::new();
    let mut line_out = |range: Range<usize>, matched: Option<bool>| {
        let line = &block[range];
        if matched != Some(true) {
            out.extend_from_slice(line);
            return;
        }
        let body = content(line);
        text.clear();
        js_replace_all(
            &r.text_re,
            &String::from_utf8_lossy(body),
            &r.replacement,
            &mut text,
        );
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(&line[body.len()..]);
    };
    if r.exact {
        scan(&r.re, block, &mut line_out);
    } else {
        per_line(&r.re, block, &mut line_out);
    }
}

impl ByteOp for Replace {
    fn process(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), OpError> {
        let with = &self.with;
        self.framer.feed(input, |block, _| {
            replace_block(with, block, out);
            Ok(())
        })
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), OpError> {
        let with = &self.with;
        self.framer.finish(|block, _| {
            replace_block(with, block, out);
            Ok(())
        })
    }
}

/// Translates a JS replacement string into the `regex` crate's syntax: `$&` → `${0}`,
/// `$1`..`$99` → `${1}`.., `$<name>` → `${name}`, `$$` → `$$`. Any other `$` is literal, as in JS
/// when the group does not exist (`` $` `` and `$'` are not supported and stay literal).
pub fn js_replacement(js: &str) -> String {
    let b = js.as_bytes();
    let mut out = String::with_capacity(js.len() + 8);
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' || i + 1 == b.len() {
            let ch = js[i..].chars().next().unwrap();
            if ch == '$' {
                out.push_str("$$");
            } else {
                out.push(ch);
            }
            i += ch.len_utf8();
            continue;
        }
        match b[i + 1] {
            b'$' => {
                out.push_str("$$");
                i += 2;
            }
            b'&' => {
                out.push_str("${0}");
                i += 2;
            }
            b'0'..=b'9' => {
                let two = b.get(i + 2).is_some_and(u8::is_ascii_digit);
                let len = if two { 2 } else { 1 };
                out.push_str("${");
                out.push_str(&js[i + 1..i + 1 + len]);
                out.push('}');
                i += 1 + len;
            }
            b'<' => match js[i + 2..].find('>') {
                Some(close) => {
                    out.push_str("${");
                    out.push_str(&js[i + 2..i + 2 + close]);
                    out.push('}');
                    i += 3 + close;
                }
                None => {
                    out.push_str("$$");
                    i += 1;
                }
            },
            _ => {
                out.push_str("$$");
                i += 1;
            }
        }
    }
    out
}

/// The `lines` sink: reports each complete line's position so JS can hand it out as a string
/// or a Buffer.
pub struct LinesSink {
    framer: Framer,
    utf16: bool,
}

impl LinesSink {
    /// A sink for strings (`utf16`: lines decoded here, see [`index_text_lines`]) or for Buffers
    /// (byte offsets into the lines' bytes).
    pub fn new(max: usize, utf16: bool) -> Self {
        LinesSink {
            framer: Framer::new(max),
            utf16,
        }
    }

    /// Whether lines are handed out as strings.
    pub fn utf16(&self) -> bool {
        self.utf16
    }

    pub(super) fn process(&mut self, input: &[u8], out: &mut StepOutput) -> Result<(), OpError> {
        let utf16 = self.utf16;
        if utf16 {
            self.reserve_wide(input.len(), out);
        }
        self.framer.feed(input, |block, _| {
            index(block, utf16, out);
            Ok(())
        })
    }

    pub(super) fn finish(&mut self, out: &mut StepOutput) -> Result<(), OpError> {
        let utf16 = self.utf16;
        if utf16 {
            self.reserve_wide(0, out);
        }
        self.framer.finish(|block, _| {
            index(block, utf16, out);
            Ok(())
        })
    }
}

impl LinesSink {
    fn reserve_wide(&self, input: usize, out: &mut StepOutput) {
        reserve_wide(self.framer.carry.len() + input, out);
    }
}

/// Makes room in `out.wide` for `bytes` more bytes of text decoded to UTF-16 (at most one unit
/// per byte), with memory from the pool: growing the Vec later would reallocate it.
pub(super) fn reserve_wide(bytes: usize, out: &mut StepOutput) {
    // One unit per byte, the one convert_utf8_to_utf16 wants spare, and a byte in case the
    // memory is not 2-aligned.
    let need = 2 * (out.wide_units + bytes + 1) + 1;
    if out.wide.capacity() < need {
        let mut wide = pool::take(need);
        wide.extend_from_slice(&out.wide);
        pool::give(std::mem::replace(&mut out.wide, wide));
    }
}

fn index(block: &[u8], utf16: bool, out: &mut StepOutput) {
    if utf16 {
        index_text_lines(block, out);
    } else {
        index_lines(block, out);
    }
}

/// Appends a block of lines to `out.data` and each line's `[start, end)` (bytes) to `out.ends`.
fn index_lines(block: &[u8], out: &mut StepOutput) {
    let mut start = 0;
    while start < block.len() {
        let end = memchr(b'\n', &block[start..]).map_or(block.len(), |p| start + p + 1);
        let at = out.data.len() + start;
        out.ends.push(at as u32);
        out.ends
            .push((at + content(&block[start..end]).len()) as u32);
        start = end;
    }
    out.data.extend_from_slice(block);
}

/// The flag on a line's start in `ends` saying that the line is in the UTF-16 text.
pub const WIDE: u32 = 1 << 31;

/// Lines for strings: the content (terminators removed) of each line whose characters are all
/// below U+0100 (ASCII, or Latin-1 such as `café`) is appended to `out.data` as one-byte text
/// (Latin-1), and each other line is decoded here, as `Buffer#toString()` decodes it (invalid
/// sequences become U+FFFD), into `out.wide` (UTF-16 text). Each line's
/// `[start, end)` within its text goes to `out.ends`, its start flagged with [`WIDE`] for the
/// UTF-16 text. Both texts are cut into pieces of about [`PIECE_BYTES`] bytes (whole lines), so
/// that each becomes a young-generation string in V8. Only lines with characters from U+0100 up
/// pay for two bytes per character (V8 itself makes one-byte strings of Latin-1 text, after a
/// scan), and a line's string is a slice of a one-byte piece when it can be.
fn index_text_lines(block: &[u8], out: &mut StepOutput) {
    let mut start = 0;
    while start < block.len() {
        start = push_text_line(block, start, out);
    }
}

/// Appends the line starting at `block[start]` to the texts of `out` (see [`index_text_lines`])
/// and returns where the next line starts.
#[inline(always)]
pub(super) fn push_text_line(block: &[u8], start: usize, out: &mut StepOutput) -> usize {
    let at = out.data.len();
    match latin1_line(block, start, &mut out.data) {
        Some(end) => {
            out.ends.push(at as u32);
            out.ends.push(out.data.len() as u32);
            cut_narrow(out);
            end
        }
        None => push_wide_line(block, start, out),
    }
}

/// Ends the one-byte piece being filled if it has reached [`PIECE_BYTES`].
#[inline]
pub(super) fn cut_narrow(out: &mut StepOutput) {
    let piece = out.cuts.last().map_or(0, |&c| c as usize);
    if out.data.len() - piece >= PIECE_BYTES {
        out.cuts.push(out.data.len() as u32);
    }
}

/// Ends the UTF-16 piece being filled if it has reached [`PIECE_BYTES`].
#[inline]
pub(super) fn cut_wide(out: &mut StepOutput) {
    let piece = out.wide_cuts.last().map_or(0, |&c| c as usize);
    if 2 * (out.wide_units - piece) >= PIECE_BYTES {
        out.wide_cuts.push(out.wide_units as u32);
    }
}

/// Appends the content of the line starting at `block[start]` to `out` as Latin-1 and returns
/// where the next line starts, if every character of the line is below U+0100 (ASCII, `café`);
/// otherwise appends nothing and returns `None`. One pass finds the line's end and copies it:
/// ASCII a block at a time (one fixed-size copy per 16 bytes, counting the bytes before the first
/// newline or non-ASCII byte), two-byte sequences folded in between.
fn latin1_line(block: &[u8], start: usize, out: &mut Vec<u8>) -> Option<usize> {
    let begin = out.len();
    // Latin-1 is never longer than its UTF-8, so a block's store always has room.
    out.reserve(block.len() - start + BLOCK);
    let mut i = start;
    loop {
        if let Some(bytes) = block.get(i..i + BLOCK) {
            let bytes: &[u8; BLOCK] = bytes.try_into().unwrap();
            let take = ascii_text_prefix(u128::from_le_bytes(*bytes));
            store(out, bytes, take);
            i += take;
            if take == BLOCK {
                continue;
            }
        } else {
            while i < block.len() && block[i] < 0x80 && block[i] != b'\n' {
                out.push(block[i]);
                i += 1;
            }
        }
        match block[i..] {
            [] => return Some(i),
            [b'\n', ..] => {
                if i > start && block[i - 1] == b'\r' {
                    out.pop();
                }
                return Some(i + 1);
            }
            [b0 @ (0xC2 | 0xC3), b1, ..] if b1 & 0xC0 == 0x80 => {
                out.push((b0 & 0x1F) << 6 | (b1 & 0x3F));
                i += 2;
            }
            _ => {
                out.truncate(begin);
                return None;
            }
        }
    }
}

/// How many of `word`'s bytes, from the first, are ASCII and not a newline.
#[inline]
fn ascii_text_prefix(word: u128) -> usize {
    // A byte is zero after `^ '\n'` where it was a newline; `(x - 1) & !x` sets the high bit of
    // the first zero byte (and maybe of later ones, which do not matter here).
    let x = word ^ (ONES * u128::from(b'\n'));
    let newline = x.wrapping_sub(ONES) & !x & HIGH;
    let stop = newline | (word & HIGH);
    if stop == 0 {
        BLOCK
    } else {
        stop.trailing_zeros() as usize / 8
    }
}

/// Decodes the line starting at `block[start]`, as `Buffer#toString()` decodes it (invalid
/// sequences become U+FFFD), into `out.wide` (UTF-16) and returns where the next line starts.
fn push_wide_line(block: &[u8], start: usize, out: &mut StepOutput) -> usize {
    let end = memchr(b'\n', &block[start..]).map_or(block.len(), |p| start + p + 1);
    let body = content(&block[start..end]);
    // At most one unit per byte, plus the one convert_utf8_to_utf16 wants spare (the
    // capacity is there: see `reserve_wide`).
    let room = 2 * (out.wide_units + body.len() + 1) + 1;
    if out.wide.len() < room {
        let grown = room.max(2 * out.wide.len()).min(out.wide.capacity());
        out.wide.resize(grown, 0);
    }
    let at = out.wide_units;
    let n = encoding_rs::mem::convert_utf8_to_utf16(body, &mut pool::as_units(&mut out.wide)[at..]);
    out.wide_units += n;
    out.ends.push(at as u32 | WIDE);
    out.ends.push(out.wide_units as u32);
    cut_wide(out);
    end
}

/// The strings `out.ends` points at, in order, read back from the one-byte and UTF-16 texts.
#[cfg(test)]
pub(super) fn decoded(out: &StepOutput) -> Vec<String> {
    let wide = pool::as_units(&mut out.wide.clone())[..out.wide_units].to_vec();
    out.ends
        .chunks(2)
        .map(|p| {
            let (a, b) = ((p[0] & !WIDE) as usize, p[1] as usize);
            if p[0] & WIDE != 0 {
                String::from_utf16(&wide[a..b]).unwrap()
            } else {
                out.data[a..b].iter().map(|&c| c as char).collect()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(op: &mut dyn ByteOp, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in chunks {
            op.process(c, &mut out).unwrap();
        }
        op.finish(&mut out).unwrap();
        out
    }

    fn every_split(make: impl Fn() -> Box<dyn ByteOp>, text: &[u8]) -> Vec<Vec<u8>> {
        (0..=text.len())
            .map(|k| run(make().as_mut(), &[&text[..k], &text[k..]]))
            .collect()
    }

    #[test]
    fn grep_keeps_matching_lines_with_terminators() {
        let text = b"apple\r\nbanana\ncherry pie\napple tart";
        for got in every_split(
            || Box::new(Grep::new("^a|pie$", false, false, 100).unwrap()),
            text,
        ) {
            assert_eq!(got, b"apple\r\ncherry pie\napple tart");
        }
        for got in every_split(
            || Box::new(Grep::new("an", false, true, 100).unwrap()),
            text,
        ) {
            assert_eq!(got, b"apple\r\ncherry pie\napple tart");
        }
    }

    #[test]
    fn grep_matches_never_span_lines() {
        let text = b"ab\ncd\nabcd\n";
        let mut g = Grep::new("b\\s*c", false, false, 100).unwrap();
        assert_eq!(run(&mut g, &[text]), b"abcd\n");
        let mut g = Grep::new("\\Acd\\z", false, false, 100).unwrap();
        assert_eq!(run(&mut g, &[text]), b"cd\n");
        let mut g = Grep::new("B", true, false, 100).unwrap();
        assert_eq!(run(&mut g, &[text]), b"ab\nabcd\n");
        let mut g = Grep::new("^$", false, false, 100).unwrap();
        assert_eq!(run(&mut g, &[b"a\n\nb\r\n\r\n"]), b"\n\r\n");
    }

    #[test]
    fn replace_uses_js_replacement_syntax() {
        assert_eq!(
            js_replacement("[$1|$&|$<y>|$$|$x|$]"),
            "[${1}|${0}|${y}|$$|$$x|$$]"
        );
        let text = b"2024-01-02\nnone\r\n1999-12-31";
        for got in every_split(
            || {
                Box::new(
                    Replace::new("(\\d+)-(?<m>\\d+)-(\\d+)", "$3/$<m>/$1", false, 100).unwrap(),
                )
            },
            text,
        ) {
            assert_eq!(got, b"02/01/2024\nnone\r\n31/12/1999");
        }
    }

    #[test]
    fn replace_treats_empty_matches_like_js() {
        let mut r = Replace::new("x*", "-", false, 100).unwrap();
        assert_eq!(
            run(&mut r, &["x\né\nab".as_bytes()]),
            "--\n-é-\n-a-b-".as_bytes()
        );
        let mut r = Replace::new("^", ">", false, 100).unwrap();
        assert_eq!(run(&mut r, &[b"a\r\nb"]), b">a\r\n>b");
        // No phantom empty line after a block's last LF.
        let mut r = Replace::new("^$", "E", false, 100).unwrap();
        assert_eq!(
            run(&mut r, &[b"a\r\n", b"\r\nb\n", b"c"]),
            b"a\r\nE\r\nb\nc"
        );
    }

    #[test]
    fn a_line_over_the_limit_fails_with_its_number() {
        let mut g = Grep::new("x", false, false, 4).unwrap();
        let mut out = Vec::new();
        g.process(b"abcd\r\nabcd\nab", &mut out).unwrap();
        let e = g.process(b"cdef", &mut out).unwrap_err();
        assert_eq!((e.code, e.line), (LINE_TOO_LONG, Some(3)));
        let mut g = Grep::new("x", false, false, 4).unwrap();
        let e = g.process(b"ok\ntoo long\n", &mut out).unwrap_err();
        assert_eq!(e.line, Some(2));
        let mut g = Grep::new("x", false, false, 4).unwrap();
        // A partial line fails as soon as it cannot fit, even with a CR of a CRLF still to come.
        g.process(b"abcde", &mut out).unwrap();
        g.process(b"f", &mut out).unwrap_err();
    }

    #[test]
    fn lines_for_strings_split_into_one_byte_and_utf16_texts() {
        let mut s = LinesSink::new(100, true);
        let mut out = StepOutput::default();
        s.process("a😀\r\nbc\n\nçé\n".as_bytes(), &mut out).unwrap();
        s.process(b"x\xe2\x82y", &mut out).unwrap();
        s.finish(&mut out).unwrap();
        assert_eq!(out.data, b"bc\xe7\xe9");
        let wide = &pool::as_units(&mut out.wide)[..out.wide_units];
        let want: Vec<u16> = "a😀x\u{FFFD}y".encode_utf16().collect();
        assert_eq!(wide, &want[..]);
        assert_eq!(out.ends, vec![WIDE, 3, 0, 2, 2, 2, 2, 4, 3 | WIDE, 6]);
        let mut s = LinesSink::new(100, false);
        let mut out = StepOutput::default();
        s.process("a😀\r\nbé\n".as_bytes(), &mut out).unwrap();
        assert_eq!(out.ends, vec![0, 5, 7, 10]);
    }

    #[test]
    fn latin1_lines_fold_two_byte_sequences_and_refuse_the_rest() {
        let cases: [&[u8]; 11] = [
            b"",
            b"plain ascii",
            b"a line of ASCII longer than two blocks of sixteen bytes",
            "café über naïve ÿ, and more text after them".as_bytes(),
            "é".as_bytes(),
            "Ā (U+0100)".as_bytes(),
            "emoji 😀".as_bytes(),
            b"cut \xc3",
            b"bad \xc3\x28 continuation",
            b"overlong \xc0\x80",
            b"carriage \r return inside",
        ];
        for body in cases {
            // The line alone (it ends the block), then ended by LF and by CRLF before another.
            for (tail, next) in [(&b""[..], 0), (b"\nnext", 1), (b"\r\nnext line", 2)] {
                if body.ends_with(b"\xc3") && !tail.is_empty() {
                    continue; // the cut sequence is then followed by a byte that is no continuation
                }
                let block = [b"head\n", body, tail].concat();
                let mut out = b"x".to_vec();
                let end = latin1_line(&block, 5, &mut out);
                let want = std::str::from_utf8(body)
                    .ok()
                    .filter(|t| t.chars().all(|c| (c as u32) < 0x100));
                match want {
                    Some(t) => {
                        assert_eq!(end, Some(5 + body.len() + next), "{body:?} {tail:?}");
                        let latin1: Vec<u8> = t.chars().map(|c| c as u8).collect();
                        assert_eq!(&out[1..], &latin1[..]);
                    }
                    None => {
                        assert_eq!(end, None, "{body:?} {tail:?}");
                        assert_eq!(out, b"x");
                    }
                }
            }
        }
    }

    #[test]
    fn lines_for_strings_read_back_as_each_line_decoded() {
        // ASCII runs (copied whole), CRLF, empty lines, Latin-1, other scripts and invalid
        // UTF-8, fed in chunks that split lines and characters anywhere.
        let kinds: [&[u8]; 7] = [
            b"plain ascii line",
            b"crlf line\r",
            b"",
            "caf\u{e9} cr\u{e8}me".as_bytes(),
            "\u{65e5}\u{672c}\u{8a9e}".as_bytes(),
            b"bad \xe2\x82 byte",
            b"a much longer ascii line that goes on and on for well over thirty-two bytes",
        ];
        let mut text = Vec::new();
        let mut want = Vec::new();
        for i in 0..3_000usize {
            let line = kinds[(i * 7 + i / 5) % kinds.len()];
            text.extend_from_slice(line);
            text.push(b'\n');
            want.push(String::from_utf8_lossy(content(&[line, b"\n"].concat())).into_owned());
        }
        for chunk in [1, 7, 100, 4096, text.len()] {
            let mut s = LinesSink::new(1 << 20, true);
            let mut out = StepOutput::default();
            for c in text.chunks(chunk) {
                s.process(c, &mut out).unwrap();
            }
            s.finish(&mut out).unwrap();
            assert_eq!(decoded(&out), want, "chunks of {chunk}");
        }
    }

    #[test]
    fn lines_for_strings_are_cut_into_pieces_of_whole_lines() {
        let mut s = LinesSink::new(1 << 20, true);
        let mut out = StepOutput::default();
        let mut text = Vec::new();
        for i in 0..20_000 {
            text.extend_from_slice(format!("line {i}\n日本 {i}\n").as_bytes());
        }
        s.process(&text, &mut out).unwrap();
        assert!(out.cuts.len() >= 4 && out.wide_cuts.len() >= 4);
        for w in out.cuts.windows(2) {
            assert!(((w[1] - w[0]) as usize) < PIECE_BYTES + 64);
        }
        for w in out.wide_cuts.windows(2) {
            assert!((2 * (w[1] - w[0]) as usize) < PIECE_BYTES + 64);
        }
        // No line crosses a cut.
        for pair in out.ends.chunks(2) {
            let (start, end) = (pair[0] & !WIDE, pair[1]);
            let cuts = if pair[0] & WIDE != 0 {
                &out.wide_cuts
            } else {
                &out.cuts
            };
            assert!(!cuts.iter().any(|&c| start < c && c < end));
        }
    }
}
