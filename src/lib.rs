//! ferrocast: real-time event processing for Node.js, in Rust.
//!
//! `lib.rs` holds only module declarations; each capability lives in its own module and is
//! exposed to JavaScript through the generated `binding.js`, under the hand-written `index.js`.
#![deny(clippy::all)]

pub mod aggregate;
pub mod bench_source;
pub mod bridge;
pub mod buffer;
pub mod error;
pub mod runtime;
pub mod transform;
pub mod ws;
