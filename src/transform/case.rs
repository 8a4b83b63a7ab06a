//! `uppercase` / `lowercase`: Unicode default case mapping, byte-identical to JS
//! `toUpperCase()` / `toLowerCase()` on the decoded text.
//!
//! ASCII runs take a fast path (a 16-byte ASCII check, then a branch-free byte map the compiler
//! vectorises); other characters go through `char::to_uppercase` / `to_lowercase`, which apply
//! the unconditional SpecialCasing mappings (`ß` → `SS`, `İ` → `i̇`) as V8 does. Invalid UTF-8 is
//! replaced by U+FFFD per maximal subpart, as `Buffer#toString()` decodes it. A character split
//! across chunks waits for its remaining bytes; at end of input an incomplete one becomes U+FFFD.
//! Lowercase also applies the one context-dependent rule JS applies, Final_Sigma (`Σ` → `ς` at
//! the end of a word), looking up to 16 characters either side, across chunk boundaries.

use std::sync::OnceLock;

use super::ascii::{ascii_prefix, ascii_run_end, store, BLOCK, HIGH, ONES};
use super::{ByteOp, OpError};

/// Which mapping a [`Case`] stage applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseMap {
    /// `toUpperCase()`.
    Upper,
    /// `toLowerCase()`.
    Lower,
}

/// Characters of context either side of a capital sigma that decide whether it ends a word.
const SIGMA_CONTEXT: usize = 16;
/// Bytes that always hold [`SIGMA_CONTEXT`] characters (4 bytes per character at most).
const SIGMA_CONTEXT_BYTES: usize = SIGMA_CONTEXT * 4;
const CAPITAL_SIGMA: char = '\u{3A3}';
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// A case-mapping stage.
pub struct Case {
    map: CaseMap,
    /// Input not mapped yet: an incomplete character, or (lowercase) a capital sigma waiting for
    /// the characters after it.
    pending: Vec<u8>,
    /// Lowercase: the input just before `pending`, for the context before a capital sigma.
    recent: Vec<u8>,
}

impl Case {
    /// A stage applying `map`.
    pub fn new(map: CaseMap) -> Self {
        Case {
            map,
            pending: Vec::new(),
            recent: Vec::new(),
        }
    }

    /// Maps as much of `input` as can be decided now; returns how many bytes it consumed.
    fn map_into(&mut self, input: &[u8], out: &mut Vec<u8>, at_end: bool) -> usize {
        out.reserve(input.len() + BLOCK);
        let n = input.len();
        let upper = self.map == CaseMap::Upper;
        let table = two_byte_table(self.map);
        let mut i = 0;
        let mut utf8 = [0u8; 4];
        while i < n {
            // Every store below writes a whole block or table entry (BLOCK bytes) and then
            // counts only the bytes it meant.
            if out.capacity() - out.len() < BLOCK {
                out.reserve(n - i + BLOCK);
            }
            if input[i] < 0x80 {
                // ASCII: BLOCK bytes at a time, mapped in one register, up to the first
                // non-ASCII byte (at least one byte, as this one is ASCII).
                if let Some(block) = input.get(i..i + BLOCK) {
                    let word = u128::from_le_bytes(block.try_into().unwrap());
                    let take = ascii_prefix(word);
                    if take == BLOCK {
                        // A longer run: copied and then mapped in place, both vectorised.
                        let end = ascii_run_end(input, i + BLOCK);
                        let at = out.len();
                        out.extend_from_slice(&input[i..end]);
                        if upper {
                            out[at..].make_ascii_uppercase();
                        } else {
                            out[at..].make_ascii_lowercase();
                        }
                        i = end;
                        continue;
                    }
                    let mapped = if upper {
                        ascii_upper(word)
                    } else {
                        ascii_lower(word)
                    };
                    store(out, &mapped.to_le_bytes(), take);
                    i += take;
                } else {
                    let b = input[i];
                    out.push(if upper {
                        b.to_ascii_uppercase()
                    } else {
                        b.to_ascii_lowercase()
                    });
                    i += 1;
                }
                continue;
            }
            // Two-byte characters (Latin, Greek, Cyrillic, Hebrew, Arabic...) through a table.
            if let (0xC2..=0xDF, Some(&b1)) = (input[i], input.get(i + 1)) {
                let cp = (((input[i] & 0x1F) as usize) << 6) | (b1 & 0x3F) as usize;
                if b1 & 0xC0 == 0x80 && (upper || cp != 0x3A3) {
                    let (len, bytes) = &table[cp - 0x80];
                    store(out, bytes, *len as usize);
                    i += 2;
                    continue;
                }
            }
            let (c, len) = match decode(&input[i..]) {
                Decoded::Char(c, len) => (Some(c), len),
                Decoded::Invalid(len) => (None, len),
                Decoded::Incomplete if at_end => (None, n - i),
                Decoded::Incomplete => break,
            };
            match (c, self.map) {
                (None, _) => out.extend_from_slice(REPLACEMENT),
                (Some(c), CaseMap::Upper) => {
                    for u in c.to_uppercase() {
                        out.extend_from_slice(u.encode_utf8(&mut utf8).as_bytes());
                    }
                }
                (Some(CAPITAL_SIGMA), CaseMap::Lower) => {
                    let after_end = i + len + SIGMA_CONTEXT_BYTES;
                    if after_end > n && !at_end {
                        break;
                    }
                    let after = &input[i + len..after_end.min(n)];
                    let sigma = if self.is_final_sigma(&input[..i], after) {
                        "\u{3C2}"
                    } else {
                        "\u{3C3}"
                    };
                    out.extend_from_slice(sigma.as_bytes());
                }
                (Some(c), CaseMap::Lower) => {
                    for u in c.to_lowercase() {
                        out.extend_from_slice(u.encode_utf8(&mut utf8).as_bytes());
                    }
                }
            }
            i += len;
        }
        if self.map == CaseMap::Lower {
            self.remember(&input[..i]);
        }
        i
    }

    /// Keeps the last few characters of mapped input as the context for a later sigma.
    fn remember(&mut self, consumed: &[u8]) {
        if consumed.len() >= SIGMA_CONTEXT_BYTES {
            self.recent.clear();
            self.recent
                .extend_from_slice(&consumed[consumed.len() - SIGMA_CONTEXT_BYTES..]);
        } else {
            self.recent.extend_from_slice(consumed);
            let excess = self.recent.len().saturating_sub(SIGMA_CONTEXT_BYTES);
            self.recent.drain(..excess);
        }
    }

    /// Whether a capital sigma between `before` (this call's input before it) and `after` ends a
    /// word, decided by the standard library's own Final_Sigma rule on the surrounding text.
    fn is_final_sigma(&self, before: &[u8], after: &[u8]) -> bool {
        let mut ctx = Vec::with_capacity(SIGMA_CONTEXT_BYTES * 2);
        if before.len() < SIGMA_CONTEXT_BYTES {
            ctx.extend_from_slice(&self.recent);
            ctx.extend_from_slice(before);
        } else {
            ctx.extend_from_slice(&before[before.len() - SIGMA_CONTEXT_BYTES..]);
        }
        let before = String::from_utf8_lossy(&ctx);
        // The first characters may be a cut sequence (now U+FFFD) far enough from the sigma.
        let skip = before.chars().count().saturating_sub(SIGMA_CONTEXT);
        let before: String = before.chars().skip(skip).collect();
        let after: String = String::from_utf8_lossy(after)
            .chars()
            .take(SIGMA_CONTEXT)
            .collect();
        let text = format!("{before}{CAPITAL_SIGMA}{after}");
        let at = before.to_lowercase().len();
        text.to_lowercase()[at..].starts_with('\u{3C2}')
    }
}

impl ByteOp for Case {
    fn process(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), OpError> {
        if self.pending.is_empty() {
            let used = self.map_into(input, out, false);
            self.pending.extend_from_slice(&input[used..]);
        } else {
            let mut buf = std::mem::take(&mut self.pending);
            buf.extend_from_slice(input);
            let used = self.map_into(&buf, out, false);
            buf.drain(..used);
            self.pending = buf;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), OpError> {
        let buf = std::mem::take(&mut self.pending);
        self.map_into(&buf, out, true);
        Ok(())
    }
}

/// A character's mapping, UTF-8 encoded: (length, bytes). Two-byte characters map to at most
/// three two-byte characters (`ΐ` → `Ϊ́`).
type Mapped = (u8, [u8; 8]);

/// The mappings of U+0080..U+07FF (the two-byte UTF-8 characters), built on first use.
fn two_byte_table(map: CaseMap) -> &'static [Mapped] {
    static UPPER: OnceLock<Vec<Mapped>> = OnceLock::new();
    static LOWER: OnceLock<Vec<Mapped>> = OnceLock::new();
    let build = |upper: bool| {
        (0x80u32..0x800)
            .map(|cp| {
                let c = char::from_u32(cp).expect("no surrogates below U+0800");
                let mut bytes = [0u8; 8];
                let mut len = 0;
                let mut push = |m: char| {
                    len += m.encode_utf8(&mut bytes[len..]).len();
                };
                if upper {
                    c.to_uppercase().for_each(&mut push);
                } else {
                    c.to_lowercase().for_each(&mut push);
                }
                (len as u8, bytes)
            })
            .collect()
    };
    match map {
        CaseMap::Upper => UPPER.get_or_init(|| build(true)),
        CaseMap::Lower => LOWER.get_or_init(|| build(false)),
    }
}

/// ASCII uppercase of every byte of `word` below the first one with its high bit set (bytes
/// after it may come out wrong: carries only move towards higher bytes).
#[inline]
fn ascii_upper(word: u128) -> u128 {
    // A byte's high bit after adding 0x1F says it is >= 'a'; after adding 0x05, > 'z'.
    let letters = word.wrapping_add(ONES * 0x1F) & !word.wrapping_add(ONES * 0x05) & HIGH;
    word.wrapping_sub(letters >> 2)
}

/// ASCII lowercase, as [`ascii_upper`].
#[inline]
fn ascii_lower(word: u128) -> u128 {
    let letters = word.wrapping_add(ONES * 0x3F) & !word.wrapping_add(ONES * 0x25) & HIGH;
    word.wrapping_add(letters >> 2)
}

enum Decoded {
    /// A character and its length in bytes.
    Char(char, usize),
    /// An invalid sequence (a maximal subpart) of this many bytes: one U+FFFD.
    Invalid(usize),
    /// The input ends inside a sequence that may still be valid.
    Incomplete,
}

/// Decodes the character at the start of `s` (which starts with a non-ASCII byte).
fn decode(s: &[u8]) -> Decoded {
    let head = &s[..s.len().min(4)];
    let valid = match std::str::from_utf8(head) {
        Ok(v) => v,
        Err(e) if e.valid_up_to() > 0 => {
            // The prefix was just validated; this cannot fail.
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(e) => {
            return match e.error_len() {
                Some(len) => Decoded::Invalid(len),
                None => Decoded::Incomplete,
            }
        }
    };
    let c = valid.chars().next().expect("a validated non-empty prefix");
    Decoded::Char(c, c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(map: CaseMap, chunks: &[&[u8]]) -> Vec<u8> {
        let mut op = Case::new(map);
        let mut out = Vec::new();
        for c in chunks {
            op.process(c, &mut out).unwrap();
        }
        op.finish(&mut out).unwrap();
        out
    }

    fn every_split(map: CaseMap, text: &[u8]) -> Vec<Vec<u8>> {
        (0..=text.len())
            .map(|k| run(map, &[&text[..k], &text[k..]]))
            .collect()
    }

    #[test]
    fn uppercases_ascii_and_special_cases() {
        let text = "hello, straße! ﬁx ŉ ǰ — ok".as_bytes();
        let want = "HELLO, STRASSE! FIX ʼN J̌ — OK".as_bytes();
        for got in every_split(CaseMap::Upper, text) {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn lowercases_with_final_sigma_across_chunks() {
        let text = "ΟΔΟΣ ΟΔΟΣ. ΣΑΣ İ ABC".as_bytes();
        let want = "οδος οδος. σας i̇ abc".as_bytes();
        for got in every_split(CaseMap::Lower, text) {
            assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
        }
        let long = format!("{}ΑΣ{}", "x".repeat(100), "y".repeat(100));
        let want = long.to_lowercase();
        for got in every_split(CaseMap::Lower, long.as_bytes()) {
            assert_eq!(got, want.as_bytes());
        }
    }

    #[test]
    fn replaces_invalid_utf8_like_buffer_to_string() {
        // A lone continuation byte, a truncated 3-byte sequence, an overlong encoding.
        let text = b"a\x80b\xe2\x82c\xc0\xafd";
        let want = "A\u{FFFD}B\u{FFFD}C\u{FFFD}\u{FFFD}D".as_bytes();
        assert_eq!(run(CaseMap::Upper, &[text]), want);
        // A sequence cut by end of input is one U+FFFD.
        assert_eq!(
            run(CaseMap::Upper, &[b"x\xf0\x9f", b"\x98"]),
            "X\u{FFFD}".as_bytes()
        );
    }

    #[test]
    #[ignore = "a throughput probe: cargo test --release -- --ignored --nocapture"]
    fn throughput() {
        let ascii = "The quick brown fox jumps over the lazy dog. ".repeat(1 << 15);
        let mixed = "naïve café über alpha beta gamma ".repeat(1 << 15);
        // Like benchmark/transform.js's log lines: about one word in four not ASCII.
        let log = "2026-11-27T04:31:00.512Z INFO [worker-3] alpha café request user naïve cache disk id=4096\n".repeat(1 << 14);
        for (name, text) in [("ascii", ascii), ("mixed", mixed), ("log", log)] {
            let t = std::time::Instant::now();
            let mut n = 0;
            for _ in 0..20 {
                n += run(CaseMap::Upper, &[text.as_bytes()]).len();
            }
            let s = t.elapsed().as_secs_f64();
            println!("{name}: {:.0} MB/s", n as f64 / s / 1e6);
        }
    }

    #[test]
    fn matches_the_standard_library_on_mixed_text_in_any_chunking() {
        // Runs of ASCII of every length around the 16-byte blocks, between two-, three- and
        // four-byte characters (some that grow when mapped), cut at pseudo-random places.
        let pieces = [
            "a", "Z", "q", "@", "[", "`", "{", "0", " ", "é", "ß", "ΐ", "ÿ", "µ", "ǅ", "Σ", "ﬃ",
            "😀", "İ", "ω", "Ж",
        ];
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for _ in 0..300 {
            let mut text = String::new();
            while text.len() < 200 {
                let run = next(40);
                text.extend((0..run).map(|_| pieces[next(9)]));
                text.push_str(pieces[next(pieces.len())]);
            }
            let bytes = text.as_bytes();
            let mut chunks = Vec::new();
            let mut at = 0;
            while at < bytes.len() {
                let end = (at + 1 + next(64)).min(bytes.len());
                chunks.push(&bytes[at..end]);
                at = end;
            }
            assert_eq!(run(CaseMap::Upper, &chunks), text.to_uppercase().as_bytes());
            assert_eq!(
                String::from_utf8(run(CaseMap::Lower, &chunks)).unwrap(),
                text.to_lowercase()
            );
        }
    }

    #[test]
    fn handles_empty_and_one_byte_chunks() {
        assert!(run(CaseMap::Upper, &[]).is_empty());
        let text = "éàü😀ß".as_bytes();
        let chunks: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(run(CaseMap::Upper, &chunks), "ÉÀÜ😀SS".as_bytes());
    }
}
