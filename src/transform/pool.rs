//! Output memory that JS gives back for reuse.
//!
//! Each call returns its output as an external Buffer over a Rust `Vec`. Freeing that memory when
//! V8 collects the Buffer and allocating fresh memory for the next chunk costs a page fault per
//! 4 KiB on every chunk (the allocator hands back untouched pages), which is more time than the
//! transform itself. So the Buffer's finalizer returns its `Vec` here instead, and the next call
//! takes it back: the pages stay mapped and warm. The pool is bounded in count and bytes; memory
//! beyond that is freed as usual.

use std::ffi::c_void;
use std::ptr;
use std::sync::Mutex;

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{sys, Result, ValueType};

/// Vectors kept for reuse at most.
const MAX_KEPT: usize = 32;
/// Bytes kept for reuse at most: 32 MiB.
const MAX_KEPT_BYTES: usize = 32 * 1024 * 1024;
/// Vectors smaller than this are not worth keeping.
const MIN_KEPT: usize = 64 * 1024;

struct Kept {
    vecs: Vec<Vec<u8>>,
    bytes: usize,
}

static POOL: Mutex<Kept> = Mutex::new(Kept {
    vecs: Vec::new(),
    bytes: 0,
});

/// An empty vector with room for at least `capacity` bytes, reused when one is kept.
pub fn take(capacity: usize) -> Vec<u8> {
    if capacity >= MIN_KEPT / 2 {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = pool.vecs.iter().rposition(|v| v.capacity() >= capacity) {
            let v = pool.vecs.swap_remove(i);
            pool.bytes -= v.capacity();
            return v;
        }
    }
    Vec::with_capacity(capacity)
}

/// Keeps `v` for reuse if there is room, else frees it.
pub fn give(mut v: Vec<u8>) {
    if v.capacity() < MIN_KEPT {
        return;
    }
    v.clear();
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if pool.vecs.len() < MAX_KEPT && pool.bytes + v.capacity() <= MAX_KEPT_BYTES {
        pool.bytes += v.capacity();
        pool.vecs.push(v);
    }
}

/// A Buffer for JS whose memory comes back to the pool when V8 collects it.
pub struct PooledBuffer(pub Vec<u8>);

unsafe extern "C" fn release(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box made in `to_napi_value`, handed back once by Node.
    let v = unsafe { Box::from_raw(hint.cast::<Vec<u8>>()) };
    give(*v);
}

impl TypeName for PooledBuffer {
    fn type_name() -> &'static str {
        "Buffer"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for PooledBuffer {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let mut result = ptr::null_mut();
        let mut v = Box::new(val.0);
        let (data, len) = (v.as_mut_ptr(), v.len());
        if len > 0 {
            let hint = Box::into_raw(v);
            // SAFETY: `data` stays valid until `release` runs: the Vec is owned by `hint`.
            let status = unsafe {
                sys::napi_create_external_buffer(
                    env,
                    len,
                    data.cast(),
                    Some(release),
                    hint.cast(),
                    &mut result,
                )
            };
            if status == sys::Status::napi_ok {
                return Ok(result);
            }
            // External buffers not allowed (some embedders): copy instead.
            v = unsafe { Box::from_raw(hint) };
        }
        let mut copy_data = ptr::null_mut();
        let status = unsafe {
            sys::napi_create_buffer_copy(env, len, v.as_ptr().cast(), &mut copy_data, &mut result)
        };
        give(*v);
        if status != sys::Status::napi_ok {
            return Err(napi::Error::new(
                napi::Status::GenericFailure,
                "cannot create a Buffer for the transform's output",
            ));
        }
        Ok(result)
    }
}

/// Text for JS as an array of strings, made on the main thread by a plain copy; the bytes go back
/// to the pool at once. Unlike an external Buffer, nothing outlives the call outside the V8 heap,
/// so output memory does not pile up until V8 gets round to collecting Buffers. Pieces are kept
/// near [`PIECE_BYTES`], under V8's large-object size (128 KiB), so that the strings are
/// young-generation objects, freed by the next scavenge.
pub struct JsStrings {
    data: Vec<u8>,
    /// UTF-16 code units of the pieces that are not one-byte text, as native-endian byte pairs
    /// (so that the memory comes from, and goes back to, the pool).
    units: Vec<u8>,
    pieces: Vec<Piece>,
}

/// The end of a piece in `data`, and where its UTF-16 code units are in `units` (a range of
/// units) when it is not one-byte text.
struct Piece {
    end: u32,
    utf16: Option<(usize, usize)>,
}

/// `bytes` (a pooled buffer) as UTF-16 code units, skipping a first byte if it is not 2-aligned.
fn as_units(bytes: &mut [u8]) -> &mut [u16] {
    // SAFETY: any bit pattern is a valid u16; align_to_mut only hands out aligned elements.
    unsafe { bytes.align_to_mut::<u16>() }.1
}

fn units_of(bytes: &[u8]) -> &[u16] {
    // SAFETY: as in `as_units`, with the same split.
    unsafe { bytes.align_to::<u16>() }.1
}

/// Bytes per piece of lines, about: pieces are cut at the first LF after this many (as UTF-16,
/// at most twice as many bytes: still under 128 KiB).
pub const PIECE_BYTES: usize = 32 * 1024;

impl JsStrings {
    /// ASCII text in pieces ending at `ends` (ndjson's groups).
    pub fn ascii(data: Vec<u8>, ends: &[u32]) -> Self {
        let pieces = ends.iter().map(|&end| Piece { end, utf16: None }).collect();
        JsStrings {
            data,
            units: Vec::new(),
            pieces,
        }
    }

    /// UTF-8 text made of whole lines, cut after the first LF past every [`PIECE_BYTES`], each
    /// piece decoded here (on the worker thread) as `Buffer#toString()` would: ASCII pieces stay
    /// one-byte, others become UTF-16 (invalid sequences become U+FFFD). Pieces end after a LF,
    /// so they decode to exactly the pieces of the whole text's decoding.
    pub fn utf8_lines(data: Vec<u8>) -> Self {
        let mut pieces = Vec::new();
        // At most one unit per byte, plus the one convert_utf8_to_utf16 wants spare, plus a
        // byte in case the memory is not 2-aligned.
        let room = 2 * (data.len() + 1) + 1;
        let mut units = take(room);
        units.resize(room, 0);
        let mut used = 0;
        let mut start = 0;
        while start < data.len() {
            let from = (start + PIECE_BYTES).min(data.len());
            let end = memchr::memchr(b'\n', &data[from..]).map_or(data.len(), |p| from + p + 1);
            let bytes = &data[start..end];
            let utf16 = (!bytes.is_ascii()).then(|| {
                let n = encoding_rs::mem::convert_utf8_to_utf16(
                    bytes,
                    &mut as_units(&mut units)[used..],
                );
                used += n;
                (used - n, n)
            });
            pieces.push(Piece {
                end: end as u32,
                utf16,
            });
            start = end;
        }
        JsStrings {
            data,
            units,
            pieces,
        }
    }
}

impl TypeName for JsStrings {
    fn type_name() -> &'static str {
        "Array<string>"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

fn check(status: sys::napi_status) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::new(
            napi::Status::GenericFailure,
            "cannot create the strings of the transform's output",
        ))
    }
}

impl ToNapiValue for JsStrings {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let mut array = ptr::null_mut();
        let result = (|| {
            // SAFETY: plain N-API calls on the JS thread; each string is copied by V8 from
            // memory owned by `val`, alive for the whole call.
            unsafe {
                check(sys::napi_create_array_with_length(
                    env,
                    val.pieces.len(),
                    &mut array,
                ))?;
                let mut start = 0usize;
                for (i, piece) in val.pieces.iter().enumerate() {
                    let end = piece.end as usize;
                    let mut s = ptr::null_mut();
                    check(match piece.utf16 {
                        Some((at, len)) => sys::napi_create_string_utf16(
                            env,
                            units_of(&val.units)[at..].as_ptr(),
                            len as isize,
                            &mut s,
                        ),
                        None => sys::napi_create_string_latin1(
                            env,
                            val.data[start..end].as_ptr().cast(),
                            (end - start) as isize,
                            &mut s,
                        ),
                    })?;
                    check(sys::napi_set_element(env, array, i as u32, s))?;
                    start = end;
                }
            }
            Ok(array)
        })();
        give(val.data);
        give(val.units);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_lines_into_pieces_after_a_lf_and_decodes_like_to_string() {
        let mut text = Vec::new();
        for i in 0..20_000 {
            text.extend_from_slice(format!("{i} café ").as_bytes());
            text.extend_from_slice(b"\xe2\x82 ");
            text.extend_from_slice("😀\r\n".as_bytes());
        }
        let ascii_tail = b"only ascii\n".repeat(10_000);
        text.extend_from_slice(&ascii_tail);
        text.extend_from_slice(b"no newline");
        let s = JsStrings::utf8_lines(text.clone());
        let mut start = 0;
        let mut decoded: Vec<u16> = Vec::new();
        for p in &s.pieces {
            let end = p.end as usize;
            assert!(end == text.len() || text[end - 1] == b'\n');
            assert!(end - start < PIECE_BYTES + 64);
            match p.utf16 {
                Some((at, len)) => decoded.extend_from_slice(&units_of(&s.units)[at..at + len]),
                None => decoded.extend(text[start..end].iter().map(|&b| b as u16)),
            }
            start = end;
        }
        assert_eq!(start, text.len());
        assert!(s.pieces.iter().any(|p| p.utf16.is_none()));
        let whole: Vec<u16> = String::from_utf8_lossy(&text).encode_utf16().collect();
        assert_eq!(decoded, whole);
    }

    #[test]
    fn reuses_what_it_was_given_within_bounds() {
        let v = take(1 << 20);
        let ptr = v.as_ptr();
        give(v);
        let again = take(1 << 19);
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.is_empty());
        give(vec![0u8; 16]);
        for _ in 0..MAX_KEPT + 8 {
            give(Vec::with_capacity(2 << 20));
        }
        let pool = POOL.lock().unwrap();
        assert!(pool.vecs.len() <= MAX_KEPT && pool.bytes <= MAX_KEPT_BYTES);
    }
}
