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
const MAX_KEPT_BYTES: usize = 16 * 1024 * 1024;
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
pub fn as_units(bytes: &mut [u8]) -> &mut [u16] {
    // SAFETY: any bit pattern is a valid u16; align_to_mut only hands out aligned elements.
    unsafe { bytes.align_to_mut::<u16>() }.1
}

fn units_of(bytes: &[u8]) -> &[u16] {
    // SAFETY: as in `as_units`, with the same split.
    unsafe { bytes.align_to::<u16>() }.1
}

/// Bytes per piece of lines, about: pieces are cut at the first line end after this many (well
/// under V8's large-object size, 128 KiB).
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

    /// UTF-16 text (native-endian units in `units`, as [`as_units`] sees them; `len` units) in
    /// pieces ending at `cuts` and at its end.
    pub fn utf16(units: Vec<u8>, len: usize, cuts: &[u32]) -> Self {
        let mut pieces = Vec::with_capacity(cuts.len() + 1);
        let mut start = 0;
        for end in cuts.iter().map(|&c| c as usize).chain(std::iter::once(len)) {
            if end > start {
                pieces.push(Piece {
                    end: 0,
                    utf16: Some((start, end - start)),
                });
            }
            start = end;
        }
        JsStrings {
            data: Vec::new(),
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
    fn utf16_pieces_end_at_the_cuts() {
        let s = JsStrings::utf16(vec![0; 64], 10, &[4, 4, 9]);
        let got: Vec<_> = s.pieces.iter().map(|p| p.utf16).collect();
        assert_eq!(got, vec![Some((0, 4)), Some((4, 5)), Some((9, 1))]);
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
