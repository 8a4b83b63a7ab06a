//! `gzip` / `gunzip`: zlib-compatible streams (flate2 on the zlib-rs backend). Output
//! interoperates with `node:zlib` both ways; `gunzip` reads concatenated members like Node's.

use std::io::Write;

use flate2::write::{GzEncoder, MultiGzDecoder};
use flate2::Compression;

use super::{ByteOp, OpError};

/// Moves what a writer produced into `out` (without a copy when `out` is empty).
fn drain(produced: &mut Vec<u8>, out: &mut Vec<u8>) {
    if out.is_empty() {
        std::mem::swap(produced, out);
    } else {
        out.append(produced);
    }
}

/// Compresses into the gzip format.
pub struct Gzip {
    enc: Option<GzEncoder<Vec<u8>>>,
}

impl Gzip {
    /// A compressor at `level` (0-9).
    pub fn new(level: u32) -> Self {
        Gzip {
            enc: Some(GzEncoder::new(Vec::new(), Compression::new(level.min(9)))),
        }
    }
}

fn io_error(code: &'static str, e: std::io::Error) -> OpError {
    OpError::new(code, e.to_string())
}

impl ByteOp for Gzip {
    fn process(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), OpError> {
        let Some(enc) = self.enc.as_mut() else {
            return Ok(());
        };
        enc.write_all(input)
            .map_err(|e| io_error("Z_STREAM_ERROR", e))?;
        drain(enc.get_mut(), out);
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), OpError> {
        if let Some(enc) = self.enc.take() {
            let mut rest = enc.finish().map_err(|e| io_error("Z_STREAM_ERROR", e))?;
            drain(&mut rest, out);
        }
        Ok(())
    }
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// Decompresses gzip (one member or several, concatenated).
pub struct Gunzip {
    dec: Option<MultiGzDecoder<Vec<u8>>>,
    /// The first bytes of input, until the gzip magic number is checked.
    magic: Vec<u8>,
    seen_input: bool,
}

impl Gunzip {
    /// A decompressor.
    pub fn new() -> Self {
        Gunzip {
            dec: Some(MultiGzDecoder::new(Vec::new())),
            magic: Vec::with_capacity(2),
            seen_input: false,
        }
    }
}

impl Default for Gunzip {
    fn default() -> Self {
        Self::new()
    }
}

impl ByteOp for Gunzip {
    fn process(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), OpError> {
        let Some(dec) = self.dec.as_mut() else {
            return Ok(());
        };
        self.seen_input |= !input.is_empty();
        // Fail on the first bytes, as zlib does, rather than wait for a whole header.
        if self.magic.len() < 2 {
            let take = (2 - self.magic.len()).min(input.len());
            self.magic.extend_from_slice(&input[..take]);
            if !GZIP_MAGIC.starts_with(&self.magic) {
                return Err(OpError::new("Z_DATA_ERROR", "incorrect header check"));
            }
        }
        dec.write_all(input)
            .map_err(|e| OpError::new("Z_DATA_ERROR", format!("invalid gzip data: {e}")))?;
        drain(dec.get_mut(), out);
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), OpError> {
        let Some(mut dec) = self.dec.take() else {
            return Ok(());
        };
        if !self.seen_input {
            return Ok(());
        }
        // A stream cut short (no complete member) is Node's "unexpected end of file".
        dec.try_finish()
            .map_err(|_| OpError::new("Z_BUF_ERROR", "unexpected end of file"))?;
        drain(dec.get_mut(), out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(op: &mut dyn ByteOp, chunks: &[&[u8]]) -> Result<Vec<u8>, OpError> {
        let mut out = Vec::new();
        for c in chunks {
            op.process(c, &mut out)?;
        }
        op.finish(&mut out)?;
        Ok(out)
    }

    #[test]
    fn round_trips_in_small_chunks() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let gz = run(&mut Gzip::new(6), &[&text[..1000], &text[1000..]]).unwrap();
        assert!(gz.len() < text.len());
        assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        let chunks: Vec<&[u8]> = gz.chunks(777).collect();
        assert_eq!(run(&mut Gunzip::new(), &chunks).unwrap(), text);
        // Two members, concatenated.
        let two = [gz.clone(), gz].concat();
        assert_eq!(
            run(&mut Gunzip::new(), &[&two]).unwrap().len(),
            text.len() * 2
        );
    }

    #[test]
    fn reports_bad_and_truncated_input() {
        let e = run(&mut Gunzip::new(), &[b"definitely not gzip"]).unwrap_err();
        assert_eq!(e.code, "Z_DATA_ERROR");
        let e = run(&mut Gunzip::new(), &[b"\x1f", b"?"]).unwrap_err();
        assert_eq!(e.message, "incorrect header check");
        let gz = run(&mut Gzip::new(6), &[b"hello hello hello"]).unwrap();
        let e = run(&mut Gunzip::new(), &[&gz[..gz.len() - 5]]).unwrap_err();
        assert_eq!(e.code, "Z_BUF_ERROR");
        assert!(run(&mut Gunzip::new(), &[]).unwrap().is_empty());
    }
}
