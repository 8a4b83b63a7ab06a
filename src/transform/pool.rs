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
use napi::{sys, Env, JsString, Result, ValueType};

/// Vectors kept for reuse at most.
const MAX_KEPT: usize = 32;
/// Bytes kept for reuse at most: 16 MiB (a few calls in flight, each with its output).
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
        // The smallest that fits: a big one taken for a small need would make the next big
        // need allocate.
        let fit = (pool.vecs.iter().enumerate())
            .filter(|(_, v)| v.capacity() >= capacity)
            .min_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i);
        if let Some(i) = fit {
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

/// Small vectors kept for reuse, a few at most (one or two per call in flight): line and string
/// boundaries, ndjson shape ids ([`ENDS`]) and numbers ([`NUMS`]).
pub struct KeptVecs<T>(Mutex<Vec<Vec<T>>>);

impl<T> KeptVecs<T> {
    const fn new() -> Self {
        KeptVecs(Mutex::new(Vec::new()))
    }

    /// An empty vector, reused when one is kept.
    pub fn take(&self) -> Vec<T> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default()
    }

    /// Keeps `v` for reuse if there is room, else frees it.
    pub fn give(&self, mut v: Vec<T>) {
        if v.capacity() == 0 {
            return;
        }
        v.clear();
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < 8 {
            kept.push(v);
        }
    }
}

/// Line and string boundaries, ndjson shape ids.
pub static ENDS: KeptVecs<u32> = KeptVecs::new();
/// ndjson numbers.
pub static NUMS: KeptVecs<f64> = KeptVecs::new();

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

/// Text for JS in pieces, each made into a string on the main thread by a plain copy when JS asks
/// for it ([`JsStrings::create`]), so that only the piece being delivered lives in the V8 heap:
/// pieces waiting there would survive young-generation collections, and V8 grows its young
/// generation by what survives. Unlike an external Buffer, a string does not hold memory outside
/// the V8 heap until V8 gets round to collecting it: the text goes back to the pool when the
/// `JsStrings` is dropped. Pieces are kept near [`PIECE_BYTES`], under V8's large-object size
/// (128 KiB), so that the strings are young-generation objects, freed by the next scavenge.
pub struct JsStrings {
    data: Vec<u8>,
    /// UTF-16 code units, as native-endian byte pairs (so that the memory comes from, and goes
    /// back to, the pool).
    units: Vec<u8>,
    /// Whether the text is in `units`.
    wide: bool,
    pieces: Vec<Piece>,
}

/// A piece: `[start, end)` of `data` (one-byte text), or of the units in `units` (UTF-16).
struct Piece {
    start: usize,
    end: usize,
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

/// `[start, end)` ranges ending at each of `ends` (and at `len`), empty ones left out.
fn ranges(ends: &[u32], len: usize) -> Vec<Piece> {
    let mut pieces = Vec::with_capacity(ends.len() + 1);
    let mut start = 0;
    for end in ends.iter().map(|&c| c as usize).chain(std::iter::once(len)) {
        if end > start {
            pieces.push(Piece { start, end });
        }
        start = start.max(end);
    }
    pieces
}

impl JsStrings {
    /// One-byte text (ASCII: ndjson's groups and ASCII lines) in pieces ending at `ends` and at
    /// its end.
    pub fn ascii(data: Vec<u8>, ends: &[u32]) -> Self {
        JsStrings {
            pieces: ranges(ends, data.len()),
            data,
            units: Vec::new(),
            wide: false,
        }
    }

    /// UTF-16 text (native-endian units in `units`, as [`as_units`] sees them; `len` units) in
    /// pieces ending at `ends` and at its end.
    pub fn utf16(units: Vec<u8>, len: usize, ends: &[u32]) -> Self {
        JsStrings {
            pieces: ranges(ends, len),
            data: Vec::new(),
            units,
            wide: true,
        }
    }

    /// How many pieces there are.
    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    /// Whether there is no text.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Piece `i` as a JS string (copied into V8).
    pub fn create<'env>(&self, env: &'env Env, i: usize) -> Result<JsString<'env>> {
        let Some(p) = self.pieces.get(i) else {
            return Err(napi::Error::new(
                napi::Status::InvalidArg,
                "no such piece of text",
            ));
        };
        if self.wide {
            env.create_string_utf16(&units_of(&self.units)[p.start..p.end])
        } else {
            env.create_string_latin1(&self.data[p.start..p.end])
        }
    }
}

impl Drop for JsStrings {
    fn drop(&mut self) {
        give(std::mem::take(&mut self.data));
        give(std::mem::take(&mut self.units));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_end_at_the_cuts_and_at_the_end() {
        let s = JsStrings::utf16(vec![0; 64], 10, &[4, 4, 9]);
        let got: Vec<_> = s.pieces.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(got, vec![(0, 4), (4, 9), (9, 10)]);
        let s = JsStrings::ascii(b"abcdef".to_vec(), &[2, 6]);
        let got: Vec<_> = s.pieces.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(got, vec![(0, 2), (2, 6)]);
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
