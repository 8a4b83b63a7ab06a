//! WebSocket server and client I/O behind `require('ferrocast/ws')`.
//!
//! Node does the HTTP part (the opening handshake, exactly as `ws` does it) and hands the
//! upgraded socket to a [`server::NativeWsHub`]: its file descriptor is duplicated and adopted by
//! tokio (or, for sockets without one, bytes are pumped through JS). From then on framing,
//! reading, writing, the closing handshake, fan-out and backpressure run here, and inbound
//! events reach JS through the hub's one bridge.
//!
//! * [`frame`]: the RFC 6455 decoder (with `ws`'s checks and messages) and encoder.
//! * [`config`]: per-connection limits, timers and backpressure policy.
//! * [`connection`]: one connection's queue, tasks and closing handshake.
//! * [`server`]: the hub (registry, bridge, adoption) and the JS classes.
//! * [`broadcast`]: frame-once broadcast and topic pub/sub.
//! * [`fast_call`]: the per-message calls (sends, broadcast, publish) as plain Node-API callbacks.

pub mod broadcast;
pub mod config;
pub mod connection;
pub mod fast_call;
pub mod frame;
pub mod server;
