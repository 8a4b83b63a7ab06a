//! Helpers for byte loops that go through ASCII text a block at a time: find how many bytes
//! of a block are ASCII, and append a block's first bytes with one fixed-size copy (a
//! variable-length copy is a `memmove` call, which dominates when runs are short, as in text
//! with an accented word every few dozen bytes).

/// Bytes taken at a time (and the room every `store` of a block needs).
pub const BLOCK: usize = 16;
/// Each byte's high bit: set in a block that holds a non-ASCII byte.
pub const HIGH: u128 = u128::from_ne_bytes([0x80; 16]);
/// One in every byte.
pub const ONES: u128 = u128::from_ne_bytes([0x01; 16]);

/// The end of the run of ASCII bytes starting at `i`.
#[inline]
pub fn ascii_run_end(s: &[u8], mut i: usize) -> usize {
    while let Some(block) = s.get(i..i + BLOCK) {
        if u128::from_le_bytes(block.try_into().unwrap()) & HIGH != 0 {
            break;
        }
        i += BLOCK;
    }
    while i < s.len() && s[i] < 0x80 {
        i += 1;
    }
    i
}

/// Appends the first `len` of `bytes` to `out` with one fixed-size copy of all of them.
/// `out` must have room for `bytes.len()` more.
#[inline]
pub fn store<const N: usize>(out: &mut Vec<u8>, bytes: &[u8; N], len: usize) {
    assert!(out.capacity() - out.len() >= N && len <= N);
    // SAFETY: the assert above: N bytes of spare capacity, of which `len` become initialised.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.as_mut_ptr().add(out.len()), N);
        out.set_len(out.len() + len);
    }
}

/// How many of `word`'s bytes, from the first, are ASCII.
#[inline]
pub fn ascii_prefix(word: u128) -> usize {
    let high = word & HIGH;
    if high == 0 {
        BLOCK
    } else {
        high.trailing_zeros() as usize / 8
    }
}
