//! One WebSocket connection: its outbound queue, its reader and writer tasks and the closing
//! handshake, all on the tokio runtime.
//!
//! * **Inbound**: the reader waits for the socket to be readable, reads into a per-thread scratch
//!   buffer and feeds the [`Decoder`]; each message and control frame becomes one record on the
//!   hub's bridge (tag = connection id, number = [`record`] kind, bytes = payload), so JS sees
//!   them in order. An idle connection holds no read buffer.
//! * **Outbound**: senders push finished frames ([`Bytes`], so one frame can sit in many queues)
//!   onto the connection's queue and wake the writer, which swaps the whole queue out and writes
//!   it with one vectored write (corking). `buffered` counts queued bytes for `bufferedAmount`
//!   and the backpressure policy.
//! * **Closing** follows `ws`: a close frame is answered with the same code; once close frames
//!   went both ways (or after a protocol error) the writer flushes and shuts down its side; a
//!   close timer destroys the socket if the peer never finishes. The connection is finished when
//!   both tasks have ended; then the hub drops it and JS gets a `CLOSED` record.
//! * Sockets with no file descriptor (TLS, in-memory streams) use the same machinery with JS as
//!   the transport: JS feeds inbound bytes in, outbound bytes go to JS as `OUT` records.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Buf, Bytes};
use tokio::io::AsyncWriteExt;
#[cfg(unix)]
use tokio::io::Interest;
use tokio::net::tcp;
#[cfg(unix)]
use tokio::net::unix;
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};

use super::broadcast::{Joined, LogEntry};
use super::config::{BackpressurePolicy, ConnConfig};
use super::frame::{self, Decoder, Event, ProtocolError};
use super::server::HubCore;

/// Kinds of the records a connection sends to JS (the low 4 bits of the record's number; the
/// rest holds `extra`, e.g. a status code or a count).
pub mod record {
    /// A text message; bytes = payload.
    pub const TEXT: u32 = 0;
    /// A binary message; bytes = payload.
    pub const BINARY: u32 = 1;
    /// A ping; bytes = payload.
    pub const PING: u32 = 2;
    /// A pong; bytes = payload.
    pub const PONG: u32 = 3;
    /// The peer's close frame; extra = status code, bytes = reason.
    pub const CLOSE_FRAME: u32 = 4;
    /// A protocol error; extra = close status; bytes = `code\nR|E\nmessage`.
    pub const ERROR: u32 = 5;
    /// The connection is finished (last record of a connection).
    pub const CLOSED: u32 = 6;
    /// extra = how many sends with a callback were written out.
    pub const SENT: u32 = 7;
    /// The queue fell back under half of `max_backpressure` after exceeding it.
    pub const DRAIN: u32 = 8;
    /// extra = messages skipped by the `drop` policy.
    pub const DROPPED: u32 = 9;
    /// Bytes to write to the JS transport.
    pub const OUT: u32 = 10;
    /// End the JS transport (half-close).
    pub const END: u32 = 11;
    /// Destroy the JS transport.
    pub const DESTROY: u32 = 12;
    /// The peer ended its side (EOF) while this side was open: JS ends this side
    /// ([`super::Conn::end_output`]) when it reaches this record, as `ws` does on its socket's
    /// `'end'`, after what the listeners of the records before it sent.
    pub const PEER_END: u32 = 13;

    /// The record's number column.
    pub fn number(kind: u32, extra: u64) -> f64 {
        (extra * 16 + kind as u64) as f64
    }
}

/// [`Conn::enqueue`]: the frame was queued.
pub const QUEUED: u32 = 0;
/// [`Conn::enqueue`]: refused, the connection is closing or closed.
pub const NOT_OPEN: u32 = 1;
/// [`Conn::enqueue`]: refused by the backpressure policy.
pub const DROPPED: u32 = 2;
/// [`Conn::enqueue_reporting`]: written whole at once; no `SENT` record will follow.
pub const WRITTEN: u32 = 3;

const CLOSE_SENT: u32 = 1;
const CLOSE_RECEIVED: u32 = 1 << 1;
const ERRORED: u32 = 1 << 2;
const END: u32 = 1 << 3;
const TERMINATED: u32 = 1 << 4;
const PAUSED: u32 = 1 << 5;
const FINISHED: u32 = 1 << 6;
const PING_OUT: u32 = 1 << 7;
const DRAIN_WANTED: u32 = 1 << 8;
const EOF: u32 = 1 << 9;
const WRITER_DONE: u32 = 1 << 10;
const OUTPUT_PAUSED: u32 = 1 << 11;
/// Queued while JS was corked; [`Conn::flush_corked`] writes it when the batch ends.
const FLUSH_PENDING: u32 = 1 << 12;

const SCRATCH_SIZE: usize = 64 * 1024;

/// `send` flag that avoids SIGPIPE where it exists (Node ignores SIGPIPE anyway).
#[cfg(any(target_os = "linux", target_os = "android"))]
const NO_SIGPIPE: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
const NO_SIGPIPE: libc::c_int = 0;
const MAX_IOV: usize = 64;
/// Data frames with payloads from this size up skip the queue when they can (see
/// [`Conn::send_direct`]).
#[cfg(unix)]
const DIRECT_MIN: usize = 4096;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH_SIZE]);
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

/// The readable side of an adopted socket.
pub enum ReadHalf {
    /// A TCP socket.
    Tcp(tcp::OwnedReadHalf),
    /// A Unix domain socket.
    #[cfg(unix)]
    Unix(unix::OwnedReadHalf),
}

impl ReadHalf {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            ReadHalf::Tcp(r) => AsRef::<tokio::net::TcpStream>::as_ref(r).poll_read_ready(cx),
            #[cfg(unix)]
            ReadHalf::Unix(r) => AsRef::<tokio::net::UnixStream>::as_ref(r).poll_read_ready(cx),
        }
    }

    /// Reads what the socket holds, up to `buf.len()` bytes. A read that comes back short has
    /// emptied the socket's receive queue, so it also clears the socket's readiness: the
    /// reader's next wait goes to the reactor instead of to a `recv` that only says EAGAIN (with
    /// one message in flight per connection, that was one `recv` in two). Data arriving in
    /// between sets readiness again: tokio clears only the readiness event it handed out.
    #[cfg(unix)]
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        let mut got = 0;
        let res = match self {
            ReadHalf::Tcp(r) => {
                let s: &tokio::net::TcpStream = r.as_ref();
                s.try_io(Interest::READABLE, || {
                    recv_into(s.as_raw_fd(), buf, &mut got)
                })
            }
            ReadHalf::Unix(r) => {
                let s: &tokio::net::UnixStream = r.as_ref();
                s.try_io(Interest::READABLE, || {
                    recv_into(s.as_raw_fd(), buf, &mut got)
                })
            }
        };
        match res {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && got > 0 => Ok(got),
            Err(e) => Err(e),
            Ok(()) => Ok(got),
        }
    }

    #[cfg(not(unix))]
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ReadHalf::Tcp(r) => r.try_read(buf),
        }
    }
}

/// One non-blocking `sendmsg` of `iov` to `fd` (no SIGPIPE): bytes sent, or -1.
///
/// # Safety
/// `fd` must be an open socket and every iovec must point into memory live for the call.
#[cfg(unix)]
unsafe fn send_vectored(fd: libc::c_int, iov: &[libc::iovec]) -> isize {
    // SAFETY: msghdr is plain data; an all-zero value is valid (no name, no control).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = iov.len() as _;
    // SAFETY: the caller's guarantees; `msg` points at `iov`, which outlives the call.
    unsafe { libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | NO_SIGPIPE) }
}

/// One `recv` into `buf`; its length goes to `got`. A short read answers `WouldBlock` (the
/// queue is empty), which makes tokio's `try_io` clear the readiness it acted on.
#[cfg(unix)]
fn recv_into(fd: libc::c_int, buf: &mut [u8], got: &mut usize) -> io::Result<()> {
    loop {
        // SAFETY: `buf` is valid for `buf.len()` bytes of writes.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        *got = n as usize;
        return if n > 0 && (n as usize) < buf.len() {
            Err(io::ErrorKind::WouldBlock.into())
        } else {
            Ok(())
        };
    }
}

/// Why the reader woke up.
enum Wake {
    Readable,
    Failed,
    Woken,
    Timer,
}

/// Where the writer's bytes go.
pub enum WriteHalf {
    /// A TCP socket.
    Tcp(tcp::OwnedWriteHalf),
    /// A Unix domain socket.
    #[cfg(unix)]
    Unix(unix::OwnedWriteHalf),
    /// A Node stream: bytes go to JS as `OUT` records.
    Js,
}

/// The outbound queue, whether the writer holds bytes taken from it, and whether a writer task
/// exists.
#[derive(Default)]
struct Outbound {
    queue: VecDeque<Chunk>,
    busy: bool,
    /// A writer task is running (or was, for the last time: then this stays true). An idle
    /// connection has none: the writer exits when the queue is empty and is spawned again by
    /// the next sender that has to queue, so it costs no task while the socket is quiet.
    writer: bool,
}

/// A socket half kept open until the connection finishes, so a direct write never meets a
/// closed (or reused) descriptor.
#[allow(dead_code)]
enum Parked {
    Read(ReadHalf),
    Write(WriteHalf),
}

/// What [`Conn::admit_data`] decided.
enum Admit {
    Ok,
    NotOpen,
    Dropped,
    Close,
}

struct Chunk {
    bytes: Bytes,
    /// JS waits for a callback when this chunk is written.
    notify: bool,
    /// Counted in `buffered` (the handshake response is not).
    counted: bool,
}

/// The shared state of one connection.
pub struct Conn {
    /// The id JS knows the connection by (the bridge tag).
    pub id: u32,
    pub(crate) hub: Arc<HubCore>,
    /// Shared by the connections of a hub that have the same settings.
    config: Arc<ConnConfig>,
    flags: AtomicU32,
    out: Mutex<Outbound>,
    /// The write half while no writer task holds it.
    write_half: Mutex<Option<WriteHalf>>,
    /// This connection, for spawning its writer from `&self` methods.
    me: std::sync::Weak<Conn>,
    /// The socket's descriptor for direct writes from the sending thread, or -1.
    fd: i32,
    parked: Mutex<Vec<Parked>>,
    buffered: AtomicU64,
    writer_wake: Notify,
    /// Set by [`Conn::wake_reader`]; the reader clears it when it looks.
    reader_woken: AtomicBool,
    /// The reader task's waker while it waits (a plain slot rather than a `Notify`, whose
    /// waiting future would make every connection's task larger).
    reader_waker: Mutex<Option<Waker>>,
    decoder: Mutex<Decoder>,
    close_deadline: Mutex<Option<Instant>>,
    last_inbound: AtomicU64,
    alive: AtomicU32,
    rng: AtomicU64,
    dropped: AtomicU64,
    dropped_unreported: AtomicU64,
    /// Automatic pongs queued since the output queue was last seen empty.
    pending_pongs: AtomicU32,
    /// Topics this connection is subscribed to (see `broadcast.rs`).
    pub(crate) topics: Mutex<Vec<Arc<str>>>,
    /// The last fan-out frame (hub sequence number) queued or skipped for this connection.
    seen: AtomicU64,
}

impl Conn {
    /// A connection with no tasks yet.
    pub(crate) fn new(hub: Arc<HubCore>, id: u32, config: Arc<ConnConfig>, fd: i32) -> Arc<Self> {
        let seed = {
            use std::hash::{BuildHasher, Hasher};
            // RandomState is seeded from the OS once per thread and stepped per instance.
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(id);
            h.finish() | 1
        };
        let seen = hub.fanout_seq();
        let conn = Arc::new_cyclic(|me| Conn {
            id,
            write_half: Mutex::new(None),
            me: me.clone(),
            hub,
            decoder: Mutex::new(Decoder::new(config.decoder())),
            config,
            flags: AtomicU32::new(0),
            out: Mutex::new(Outbound::default()),
            fd,
            parked: Mutex::new(Vec::new()),
            buffered: AtomicU64::new(0),
            writer_wake: Notify::new(),
            reader_woken: AtomicBool::new(false),
            reader_waker: Mutex::new(None),
            close_deadline: Mutex::new(None),
            last_inbound: AtomicU64::new(now_ms()),
            alive: AtomicU32::new(2),
            rng: AtomicU64::new(seed),
            dropped: AtomicU64::new(0),
            dropped_unreported: AtomicU64::new(0),
            pending_pongs: AtomicU32::new(0),
            topics: Mutex::new(Vec::new()),
            seen: AtomicU64::new(0),
        });
        conn.seen.store(seen, Ordering::Release);
        conn
    }

    fn is(&self, flag: u32) -> bool {
        self.flags.load(Ordering::Acquire) & flag != 0
    }

    fn set(&self, flag: u32) -> u32 {
        self.flags.fetch_or(flag, Ordering::AcqRel)
    }

    /// Whether the connection has finished (both tasks ended).
    pub fn is_finished(&self) -> bool {
        self.is(FINISHED)
    }

    /// Whether data frames can still be queued (no close frame sent, not terminated).
    pub fn is_open(&self) -> bool {
        !self.is(CLOSE_SENT | TERMINATED | FINISHED)
    }

    /// Bytes queued and not yet written to the transport.
    pub fn buffered_amount(&self) -> u64 {
        self.buffered.load(Ordering::Acquire)
    }

    /// Messages skipped by the `drop` policy.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn push(&self, kind: u32, extra: u64, bytes: &[u8]) {
        self.hub
            .bridge
            .push(self.id, record::number(kind, extra), bytes);
    }

    fn next_mask(&self) -> [u8; 4] {
        // xorshift64*: masking keys only need to be unpredictable to the payload's author.
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.store(x, Ordering::Relaxed);
        let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (v as u32).to_ne_bytes()
    }

    /// Builds a frame for this connection: masked when it is a client and `mask` allows.
    pub fn frame(&self, opcode: u8, fin: bool, parts: &[&[u8]], mask: Option<bool>) -> Bytes {
        self.frame_keyed(opcode, fin, parts, mask, None)
    }

    /// [`Conn::frame`] with the masking key given (a client's `generateMask`) instead of drawn.
    pub fn frame_keyed(
        &self,
        opcode: u8,
        fin: bool,
        parts: &[&[u8]],
        mask: Option<bool>,
        key: Option<[u8; 4]>,
    ) -> Bytes {
        let masked = mask.unwrap_or(!self.config.server);
        let key = masked.then(|| key.unwrap_or_else(|| self.next_mask()));
        Bytes::from(frame::encode(opcode, fin, parts, key))
    }

    /// Decides whether a data frame of `len` bytes may be queued: not once a close frame was
    /// sent, and subject to the backpressure policy. Counts what it drops.
    fn admit_data(&self, len: u64) -> Admit {
        let flags = self.flags.load(Ordering::Acquire);
        if flags & (TERMINATED | FINISHED | CLOSE_SENT) != 0 {
            return Admit::NotOpen;
        }
        let after = self.buffered.load(Ordering::Acquire) + len;
        if after > self.config.max_backpressure {
            let first = self.set(DRAIN_WANTED) & DRAIN_WANTED == 0;
            match self.config.policy {
                BackpressurePolicy::Buffer => {}
                BackpressurePolicy::Drop => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    self.hub.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    if first {
                        self.push(record::DROPPED, 1, &[]);
                    } else {
                        self.dropped_unreported.fetch_add(1, Ordering::Relaxed);
                    }
                    return Admit::Dropped;
                }
                BackpressurePolicy::Close => return Admit::Close,
            }
        }
        Admit::Ok
    }

    /// Queues a frame. Data frames are refused once a close frame was sent, and are subject to
    /// the backpressure policy; control frames are not. With `direct`, a frame that finds the
    /// queue empty is written at once from the calling thread (one non-blocking `send`, as `ws`
    /// does), and only what the kernel did not take is queued. Returns [`QUEUED`],
    /// [`NOT_OPEN`] or [`DROPPED`].
    pub fn enqueue(&self, bytes: Bytes, data: bool, notify: bool, direct: bool) -> u32 {
        self.enqueue_reporting(bytes, data, notify, direct, false)
    }

    /// [`Conn::enqueue`]; with `sync` (no earlier write of this connection waits to be
    /// reported), a frame with `notify` written whole at once returns [`WRITTEN`] instead of
    /// sending a `SENT` record later, so that JS calls back in the next tick as ws does.
    pub fn enqueue_reporting(
        &self,
        bytes: Bytes,
        data: bool,
        notify: bool,
        direct: bool,
        sync: bool,
    ) -> u32 {
        if data {
            if let Err((status, close)) = self.admit_send(bytes.len() as u64) {
                if close {
                    self.close_over_limit();
                }
                return status;
            }
        } else if self.is(TERMINATED | FINISHED) {
            return NOT_OPEN;
        }
        if self.push_chunk_reporting(bytes, notify, true, direct, sync) {
            WRITTEN
        } else {
            QUEUED
        }
    }

    /// Writes a large unmasked data frame (the caller checks the mask) for a socket with nothing
    /// queued at once from the calling (JS) thread, its payload straight from the caller's
    /// memory (header and payload in one vectored write), also while JS dispatches a batch: at
    /// this size copying the payload into a queued frame costs more than joining the write with
    /// others saves. What the kernel does not take is copied and queued for the writer as usual.
    /// `None` when the frame has to take the queue: smaller than [`DIRECT_MIN`], or something
    /// queued or being written for this socket (the caller took the earlier fan-outs first, so
    /// nothing can overtake it).
    #[cfg(unix)]
    pub fn send_direct(
        &self,
        opcode: u8,
        fin: bool,
        payload: &[u8],
        notify: bool,
        sync: bool,
    ) -> Option<u32> {
        if payload.len() < DIRECT_MIN {
            return None;
        }
        let spawn = {
            let mut o = self.out.lock().unwrap();
            if o.busy || o.writer || !o.queue.is_empty() || !self.can_write_now() {
                return None;
            }
            let (head, head_len) = frame::header(opcode, fin, payload.len(), None);
            let total = head_len + payload.len();
            if let Err((status, close)) = self.admit_send(total as u64) {
                drop(o);
                if close {
                    self.close_over_limit();
                }
                return Some(status);
            }
            let iov = [
                libc::iovec {
                    iov_base: head.as_ptr() as *mut libc::c_void,
                    iov_len: head_len,
                },
                libc::iovec {
                    iov_base: payload.as_ptr() as *mut libc::c_void,
                    iov_len: payload.len(),
                },
            ];
            // SAFETY: the descriptor stays open while `out` is locked and FINISHED is unset;
            // both iovecs point into memory live until the call returns.
            let sent = unsafe { send_vectored(self.fd, &iov) };
            // An error (or EAGAIN) leaves the whole frame to the writer, which meets it.
            let sent = sent.max(0) as usize;
            self.hub
                .stats
                .bytes_out
                .fetch_add(sent as u64, Ordering::Relaxed);
            if sent == total {
                if notify && sync {
                    return Some(WRITTEN);
                }
                if notify {
                    self.push(record::SENT, 1, &[]);
                    self.hub.flush_records();
                }
                return Some(QUEUED);
            }
            let mut rest = Vec::with_capacity(total - sent);
            if sent < head_len {
                rest.extend_from_slice(&head[sent..head_len]);
                rest.extend_from_slice(payload);
            } else {
                rest.extend_from_slice(&payload[sent - head_len..]);
            }
            self.queue_chunk(&mut o, Bytes::from(rest), notify, true);
            Self::claim_writer(&mut o)
        };
        self.kick_writer(spawn);
        Some(QUEUED)
    }

    /// The sequence number of the last fan-out this connection has taken.
    pub(crate) fn seen(&self) -> u64 {
        self.seen.load(Ordering::Acquire)
    }

    /// Queues, in order, the fan-out frames (broadcasts and publishes) issued up to `upto` that
    /// this connection has not taken yet. Senders call it first so their frame lands after
    /// every earlier broadcast.
    pub(crate) fn catch_up(&self, upto: u64) {
        if self.seen.load(Ordering::Acquire) >= upto {
            return;
        }
        let (queued, close, spawn) = {
            let mut o = self.out.lock().unwrap();
            let log = self.hub.log.lock().unwrap();
            // Entries have consecutive sequence numbers: start right after `seen`.
            let seen = self.seen.load(Ordering::Acquire);
            let first = log.front().map_or(u64::MAX, |e| e.seq);
            let skip = (seen + 1).saturating_sub(first) as usize;
            let (queued, close) =
                self.take_entries(&mut o, log.range(skip.min(log.len())..).map(|e| &**e), upto);
            drop(log);
            (queued, close, queued && Self::claim_writer(&mut o))
        };
        self.after_catch_up(queued, close, spawn);
    }

    /// The hub's fan-out pass: like [`Conn::catch_up`] over `entries` (a snapshot of the log up
    /// to `upto`), but when nothing was queued before, the frames go out at once in one
    /// non-blocking vectored write from the calling (runtime) thread, so a socket that keeps up
    /// costs one system call per pass and no writer task; only what the kernel does not take is
    /// left to the writer.
    ///
    /// `joined`, when given, is the frames of `entries` from one sequence number on, back to
    /// back (they all go to the same connections): a connection that takes exactly those and
    /// stays under `max_backpressure` gets that one buffer, written with one copy instead of one
    /// per frame.
    pub(crate) fn fan_out_pass(
        &self,
        entries: &[Arc<LogEntry>],
        joined: Option<&Joined>,
        upto: u64,
    ) {
        if self.seen.load(Ordering::Acquire) >= upto {
            return;
        }
        let (queued, close, spawn) = {
            let mut o = self.out.lock().unwrap();
            let was_empty = !o.busy && o.queue.is_empty();
            let seen = self.seen.load(Ordering::Acquire);
            let first = entries.first().map_or(u64::MAX, |e| e.seq);
            let (mut queued, close) = match joined {
                Some(j) if seen + 1 == j.first && self.admit_joined(j) => {
                    self.queue_chunk(&mut o, j.bytes.clone(), false, true);
                    self.hub
                        .stats
                        .messages_out
                        .fetch_add(upto + 1 - j.first, Ordering::Relaxed);
                    self.seen.store(upto, Ordering::Release);
                    (true, false)
                }
                _ => {
                    let skip = ((seen + 1).saturating_sub(first) as usize).min(entries.len());
                    self.take_entries(&mut o, entries[skip..].iter().map(|e| &**e), upto)
                }
            };
            if queued && was_empty && self.can_write_now() {
                queued = !self.write_queue_now(&mut o);
            }
            (queued, close, queued && Self::claim_writer(&mut o))
        };
        self.after_catch_up(queued, close, spawn);
    }

    /// Whether the whole of `j` may be queued at once: the connection is open, subscribed to
    /// its topic if it has one, and stays within `max_backpressure` (past it, each frame goes
    /// through the policy on its own).
    fn admit_joined(&self, j: &Joined) -> bool {
        if self.is(TERMINATED | FINISHED | CLOSE_SENT) {
            return false;
        }
        if let Some(topic) = &j.topic {
            if !super::broadcast::Topics::is_subscribed(self, topic) {
                return false;
            }
        }
        self.buffered.load(Ordering::Acquire) + j.bytes.len() as u64 <= self.config.max_backpressure
    }

    /// Moves the entries after `seen` up to `upto` onto the queue (subject to `except`, topic
    /// subscriptions and the backpressure policy) and records `upto` as seen. Returns whether
    /// anything was queued and whether the policy asks to close.
    fn take_entries<'a>(
        &self,
        o: &mut Outbound,
        entries: impl Iterator<Item = &'a LogEntry>,
        upto: u64,
    ) -> (bool, bool) {
        let seen = self.seen.load(Ordering::Acquire);
        let mut admitted = 0u64;
        let mut close = false;
        for e in entries {
            if e.seq > upto {
                break;
            }
            if e.seq <= seen || e.except.contains(&self.id) {
                continue;
            }
            if let Some(topic) = &e.topic {
                if !super::broadcast::Topics::is_subscribed(self, topic) {
                    continue;
                }
            }
            match self.admit_data(e.frame.len() as u64) {
                Admit::Ok => {
                    self.queue_chunk(o, e.frame.clone(), false, true);
                    admitted += 1;
                }
                Admit::NotOpen | Admit::Dropped => {}
                Admit::Close => {
                    close = true;
                    break;
                }
            }
        }
        if admitted > 0 {
            self.hub
                .stats
                .messages_out
                .fetch_add(admitted, Ordering::Relaxed);
        }
        self.seen.store(upto, Ordering::Release);
        (admitted > 0, close)
    }

    fn after_catch_up(&self, queued: bool, close: bool, spawn: bool) {
        if queued {
            self.kick_writer(spawn);
        }
        if close {
            self.close_over_limit();
        }
    }

    /// Admits one data frame of `len` bytes that JS sends (see [`Conn::admit_data`]) and
    /// counts it; otherwise the status to answer and whether the `'close'` policy asks to close
    /// the connection (the caller does, holding no lock: [`Conn::close_over_limit`]).
    fn admit_send(&self, len: u64) -> Result<(), (u32, bool)> {
        match self.admit_data(len) {
            Admit::Ok => {
                self.hub.stats.messages_out.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Admit::NotOpen => Err((NOT_OPEN, false)),
            Admit::Dropped => Err((DROPPED, false)),
            Admit::Close => Err((DROPPED, true)),
        }
    }

    /// Closes with 1008 when the `'close'` backpressure policy is triggered.
    fn close_over_limit(&self) {
        self.close(Some(1008), b"Backpressure limit exceeded");
    }

    /// Whether the calling thread may write this socket itself ([`Conn::write_queue_now`]): it
    /// has a descriptor and is not ending.
    fn can_write_now(&self) -> bool {
        self.fd >= 0 && !self.is(TERMINATED | FINISHED | END)
    }

    /// Writes the front of the queue with one non-blocking `send` or `sendmsg` (the caller holds
    /// `out`, knows no writer holds bytes and checked [`Conn::can_write_now`]) and takes what the
    /// kernel accepted off the queue. Returns whether the queue is now empty. An error or
    /// `EAGAIN` leaves the bytes queued for the writer, which meets the error itself.
    #[cfg(unix)]
    fn write_queue_now(&self, o: &mut Outbound) -> bool {
        let sent = if o.queue.len() == 1 {
            // One buffer (a reply, or a fan-out pass's joined frames): a plain send, which
            // spares the kernel the message header and iovec copies of sendmsg.
            let bytes = &o.queue[0].bytes;
            // SAFETY: the descriptor stays open while `out` is locked and FINISHED is unset
            // (finish() closes it under this lock); `bytes` is live until the call returns.
            unsafe {
                libc::send(
                    self.fd,
                    bytes.as_ptr().cast(),
                    bytes.len(),
                    libc::MSG_DONTWAIT | NO_SIGPIPE,
                )
            }
        } else {
            let mut iov = [libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            }; MAX_IOV];
            let mut n = 0;
            for c in o.queue.iter().take(MAX_IOV) {
                iov[n] = libc::iovec {
                    iov_base: c.bytes.as_ptr() as *mut libc::c_void,
                    iov_len: c.bytes.len(),
                };
                n += 1;
            }
            // SAFETY: as above; the first `n` iovecs point into live `Bytes` of the queue,
            // which is not touched until the call returns.
            unsafe { send_vectored(self.fd, &iov[..n]) }
        };
        if sent > 0 {
            self.advance(&mut o.queue, sent as usize);
        }
        o.queue.is_empty()
    }

    /// No descriptors to write to here ([`Conn::can_write_now`] is false).
    #[cfg(not(unix))]
    fn write_queue_now(&self, _o: &mut Outbound) -> bool {
        false
    }

    /// [`Conn::catch_up`] to the latest fan-out frame of the hub.
    pub(crate) fn catch_up_to_hub(&self) {
        self.catch_up(self.hub.fanout_seq());
    }

    /// Appends `bytes` to the output queue; `counted` bytes count in `bufferedAmount` until
    /// written, and `notify` asks for a `SENT` record then.
    fn queue_chunk(&self, o: &mut Outbound, bytes: Bytes, notify: bool, counted: bool) {
        if counted {
            self.buffered
                .fetch_add(bytes.len() as u64, Ordering::AcqRel);
        }
        o.queue.push_back(Chunk {
            bytes,
            notify,
            counted,
        });
    }

    fn push_chunk(&self, bytes: Bytes, notify: bool, counted: bool, direct: bool) {
        self.push_chunk_reporting(bytes, notify, counted, direct, false);
    }

    /// [`Conn::push_chunk`]; returns true when the frame was written whole at once and, with
    /// `sync` and `notify`, that is its report (no `SENT` record).
    fn push_chunk_reporting(
        &self,
        bytes: Bytes,
        notify: bool,
        counted: bool,
        direct: bool,
        sync: bool,
    ) -> bool {
        let spawn = {
            let mut o = self.out.lock().unwrap();
            let was_empty = !o.busy && o.queue.is_empty();
            let corked = self.hub.corked.load(Ordering::Acquire);
            let writable = direct && self.can_write_now();
            // Reported by the return value if it goes out whole right here.
            let quiet = writable && was_empty && !corked && sync && notify;
            self.queue_chunk(&mut o, bytes, notify && !quiet, counted);
            if writable {
                if !corked {
                    // A frame that finds the queue empty is written at once from the calling
                    // thread (one non-blocking send, as `ws` does); only what the kernel does
                    // not take waits for the writer, which also meets any error.
                    if was_empty && self.write_queue_now(&mut o) {
                        return quiet;
                    }
                    if quiet {
                        // Not whole: the writer reports it when it is.
                        if let Some(c) = o.queue.back_mut() {
                            c.notify = true;
                        }
                    }
                } else if !o.writer {
                    // JS is dispatching a batch: what it sends to this socket meanwhile goes
                    // out in one write from the JS thread when the batch ends
                    // (`flush_corked`), as uWS's cork does, rather than waking a runtime
                    // thread per socket.
                    if self.set(FLUSH_PENDING) & FLUSH_PENDING == 0 {
                        if let Some(me) = self.me.upgrade() {
                            self.hub.flush_later(me);
                        }
                    }
                    return false;
                }
            }
            Self::claim_writer(&mut o)
        };
        self.kick_writer(spawn);
        false
    }

    /// Writes what was queued for this socket while JS was corked: one non-blocking vectored
    /// write from the calling (JS) thread, and a writer task for whatever the kernel did not
    /// take (or when a writer already runs, nothing: it has the queue).
    pub(crate) fn flush_corked(&self) {
        self.flags.fetch_and(!FLUSH_PENDING, Ordering::AcqRel);
        let spawn = {
            let mut o = self.out.lock().unwrap();
            if o.writer || o.queue.is_empty() {
                return;
            }
            if !o.busy && self.can_write_now() && self.write_queue_now(&mut o) {
                return;
            }
            Self::claim_writer(&mut o)
        };
        self.kick_writer(spawn);
    }

    /// Whether the caller must spawn the writer (none is running); marks it running.
    fn claim_writer(o: &mut Outbound) -> bool {
        !std::mem::replace(&mut o.writer, true)
    }

    /// Spawns the writer (after [`Conn::claim_writer`] said so) or wakes the running one.
    fn kick_writer(&self, spawn: bool) {
        if !spawn {
            self.writer_wake.notify_one();
            return;
        }
        let Some(c) = self.me.upgrade() else { return };
        crate::runtime::spawn(async move {
            let Some(write) = c.write_half.lock().unwrap().take() else {
                return;
            };
            if let Some(write) = c.write_loop(write).await {
                c.parked.lock().unwrap().push(Parked::Write(write));
                c.set(WRITER_DONE);
                c.wake_reader();
                c.task_done();
            }
        });
    }

    /// Wakes the writer, spawning it if the connection has none (to flush, end or terminate).
    fn wake_writer(&self) {
        let spawn = Self::claim_writer(&mut self.out.lock().unwrap());
        self.kick_writer(spawn);
    }

    /// Writes (or queues) the bytes of the handshake response (not counted in
    /// `bufferedAmount`).
    fn enqueue_raw(&self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.push_chunk(Bytes::copy_from_slice(bytes), false, false, true);
        }
    }

    /// Starts (or completes) the closing handshake: sends a close frame with `code` and
    /// `reason` (none when `code` is `None`) unless one was sent, and arms the close timer.
    pub fn close(&self, code: Option<u16>, reason: &[u8]) {
        self.close_keyed(code, reason, None);
    }

    /// [`Conn::close`] with the close frame's masking key given (a client's `generateMask`).
    pub fn close_keyed(&self, code: Option<u16>, reason: &[u8], key: Option<[u8; 4]>) {
        let prev = self.set(CLOSE_SENT);
        if prev & (TERMINATED | FINISHED) != 0 {
            return;
        }
        if prev & CLOSE_SENT == 0 {
            let frame = match code {
                None => self.frame_keyed(frame::OP_CLOSE, true, &[], None, key),
                Some(c) => self.frame_keyed(
                    frame::OP_CLOSE,
                    true,
                    &[&c.to_be_bytes(), reason],
                    None,
                    key,
                ),
            };
            self.push_chunk(frame, false, false, true);
            *self.close_deadline.lock().unwrap() = Some(Instant::now() + self.config.close_timeout);
            self.wake_reader();
        }
        if self.is(CLOSE_RECEIVED | ERRORED) {
            self.end();
        }
    }

    /// Flushes what is queued, then shuts down the write side.
    fn end(&self) {
        self.set(END);
        self.wake_writer();
    }

    /// Destroys the connection now; queued bytes are discarded.
    pub fn terminate(&self) {
        if self.set(TERMINATED) & TERMINATED != 0 {
            return;
        }
        self.wake_reader();
        self.wake_writer();
    }

    /// Stops reading from the socket until [`Conn::resume`].
    pub fn pause(&self) {
        self.set(PAUSED);
    }

    /// Reads again after [`Conn::pause`].
    pub fn resume(&self) {
        self.flags.fetch_and(!PAUSED, Ordering::AcqRel);
        self.wake_reader();
    }

    /// The JS transport's buffer is full (`write()` returned false): hold output until
    /// [`Conn::resume_output`].
    pub fn pause_output(&self) {
        self.set(OUTPUT_PAUSED);
    }

    /// The JS transport drained: send held output.
    pub fn resume_output(&self) {
        self.flags.fetch_and(!OUTPUT_PAUSED, Ordering::AcqRel);
        self.wake_writer();
    }

    /// The JS transport ended its readable side (EOF).
    pub fn input_ended(&self) {
        self.on_eof();
        self.wake_reader();
    }

    /// Decodes inbound bytes and acts on what they hold.
    pub fn on_input(&self, data: &mut [u8]) {
        let hub = &self.hub;
        hub.stats
            .bytes_in
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        self.last_inbound.store(now_ms(), Ordering::Relaxed);
        self.flags.fetch_and(!PING_OUT, Ordering::AcqRel);
        let mut pongs: Vec<Bytes> = Vec::new();
        let mut close_received = false;
        let result = {
            let mut dec = self.decoder.lock().unwrap();
            dec.feed(data, &mut |ev| match ev {
                Event::Message { binary, data } => {
                    hub.stats.messages_in.fetch_add(1, Ordering::Relaxed);
                    let kind = if binary { record::BINARY } else { record::TEXT };
                    self.push(kind, 0, data);
                }
                Event::Ping(d) => {
                    self.push(record::PING, 0, d);
                    if self.config.auto_pong {
                        pongs.push(self.frame(frame::OP_PONG, true, &[d], None));
                    }
                }
                Event::Pong(d) => self.push(record::PONG, 0, d),
                Event::Close { code, reason } => {
                    self.push(record::CLOSE_FRAME, code as u64, reason);
                    close_received = true;
                }
            })
        };
        for p in pongs {
            if self.is(CLOSE_SENT) {
                break;
            }
            // A peer that pings without reading would grow the queue without bound: as ws, it
            // is terminated at `maxPendingAutoPongs` pongs not yet written (counted since the
            // queue was last empty), and in any case beyond `maxBackpressure`.
            let buffered = self.buffered.load(Ordering::Acquire);
            if buffered == 0 {
                self.pending_pongs.store(0, Ordering::Relaxed);
            }
            let max = self.config.max_pending_auto_pongs;
            if (max > 0 && self.pending_pongs.load(Ordering::Relaxed) >= max)
                || buffered > self.config.max_backpressure
            {
                self.terminate();
                break;
            }
            self.pending_pongs.fetch_add(1, Ordering::Relaxed);
            self.enqueue(p, false, false, false);
        }
        if close_received {
            // The answering close frame is JS's to send (`WebSocket#close` when it dispatches
            // the close record), as `ws` sends it when its receiver reaches the frame: sends
            // made while dispatching the messages before it still go out first. When this side
            // sent its close frame already, the handshake is complete.
            let prev = self.set(CLOSE_RECEIVED);
            if prev & CLOSE_SENT != 0 && prev & (TERMINATED | FINISHED) == 0 {
                self.end();
            }
        }
        if let Err(e) = result {
            self.on_protocol_error(e);
        }
        self.hub.flush_records_when_idle();
    }

    fn on_protocol_error(&self, e: ProtocolError) {
        let text = format!(
            "{}\n{}\n{}",
            e.code,
            if e.range { 'R' } else { 'E' },
            e.message
        );
        self.push(record::ERROR, e.status as u64, text.as_bytes());
        // Reading stops here. The close frame with the error's status is JS's to send when it
        // reaches the record (as ws closes when its receiver fails): after what listeners send
        // for the messages before it, and behind a Blob being read. When this side is closing
        // already, it ends now.
        if self.set(ERRORED) & CLOSE_SENT != 0 {
            self.close(Some(e.status), &[]);
        }
    }

    fn on_timer(&self) {
        let now = Instant::now();
        let close_due = self
            .close_deadline
            .lock()
            .unwrap()
            .is_some_and(|d| d <= now);
        if close_due {
            self.terminate();
            return;
        }
        // Once closing, only the close timer applies.
        if self.is(CLOSE_SENT) {
            return;
        }
        if let Some(idle) = self.config.idle_timeout {
            let last = self.last_inbound.load(Ordering::Relaxed);
            if now_ms().saturating_sub(last) >= idle.as_millis() as u64 {
                if self.is(PING_OUT) {
                    self.terminate();
                } else {
                    self.set(PING_OUT);
                    self.last_inbound.store(now_ms(), Ordering::Relaxed);
                    let ping = self.frame(frame::OP_PING, true, &[], None);
                    self.enqueue(ping, false, false, false);
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let close = *self.close_deadline.lock().unwrap();
        let idle = self
            .config
            .idle_timeout
            .filter(|_| !self.is(CLOSE_SENT))
            .map(|idle| {
                let last = self.last_inbound.load(Ordering::Relaxed);
                epoch() + Duration::from_millis(last) + idle
            });
        match (close, idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn task_done(&self) {
        if self.alive.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.finish();
        }
    }

    fn finish(&self) {
        {
            let mut o = self.out.lock().unwrap();
            self.set(FINISHED | TERMINATED);
            o.queue.clear();
            // Closes the descriptor, under the lock direct writes take.
            self.parked.lock().unwrap().clear();
        }
        self.buffered.store(0, Ordering::Release);
        self.hub.remove(self);
        self.push(record::CLOSED, 0, &[]);
        self.hub.flush_records();
    }

    /// Writes `preamble` (the handshake response) and starts the reader task; a writer task
    /// starts only when something has to be queued (see [`Outbound::writer`]). `head` holds
    /// bytes already read from the socket.
    pub(crate) fn start(
        self: &Arc<Self>,
        read: Option<ReadHalf>,
        write: WriteHalf,
        preamble: &[u8],
        head: Vec<u8>,
    ) {
        *self.write_half.lock().unwrap() = Some(write);
        self.enqueue_raw(preamble);
        let c = self.clone();
        crate::runtime::spawn(async move {
            let mut head = head;
            if !head.is_empty() {
                c.on_input(&mut head);
            }
            drop(head);
            c.read_loop(&read).await;
            if let Some(r) = read {
                c.parked.lock().unwrap().push(Parked::Read(r));
            }
            c.task_done();
        });
    }

    /// Makes the reader look at the connection's state again.
    fn wake_reader(&self) {
        self.reader_woken.store(true, Ordering::Release);
        let waker = self.reader_waker.lock().unwrap().take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// What the reader waits for: the socket being readable (when `read` is given), a
    /// [`Conn::wake_reader`], or `deadline`. It keeps no waiting state of its own beyond the
    /// boxed timer, so an idle connection's task stays small.
    fn poll_reader(
        &self,
        cx: &mut Context<'_>,
        read: Option<&ReadHalf>,
        deadline: Option<Instant>,
        timer: &mut Option<Pin<Box<Sleep>>>,
    ) -> Poll<Wake> {
        {
            let mut slot = self.reader_waker.lock().unwrap();
            match &*slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        if self.reader_woken.swap(false, Ordering::AcqRel) {
            return Poll::Ready(Wake::Woken);
        }
        if let Some(r) = read {
            if let Poll::Ready(res) = r.poll_read_ready(cx) {
                return Poll::Ready(match res {
                    Ok(()) => Wake::Readable,
                    Err(_) => Wake::Failed,
                });
            }
        }
        match deadline {
            Some(d) => {
                match timer {
                    Some(t) if t.deadline() == d => {}
                    Some(t) => t.as_mut().reset(d),
                    None => *timer = Some(Box::pin(tokio::time::sleep_until(d))),
                }
                if let Some(t) = timer {
                    if t.as_mut().poll(cx).is_ready() {
                        *timer = None;
                        return Poll::Ready(Wake::Timer);
                    }
                }
            }
            None => *timer = None,
        }
        Poll::Pending
    }

    async fn read_loop(&self, read: &Option<ReadHalf>) {
        let mut timer: Option<Pin<Box<Sleep>>> = None;
        loop {
            if self.is(TERMINATED) {
                return;
            }
            let flags = self.flags.load(Ordering::Acquire);
            if flags & EOF != 0 && flags & WRITER_DONE != 0 {
                return;
            }
            let deadline = self.next_deadline();
            let reading = read.is_some() && flags & (PAUSED | EOF) == 0;
            if reading {
                self.hub.bridge.reserve().await;
            }
            let waiting_on = read.as_ref().filter(|_| reading);
            let wake =
                std::future::poll_fn(|cx| self.poll_reader(cx, waiting_on, deadline, &mut timer))
                    .await;
            match wake {
                Wake::Failed => {
                    self.terminate();
                    return;
                }
                Wake::Readable => {
                    let Some(r) = read else { continue };
                    let outcome = SCRATCH.with(|s| {
                        let mut s = s.borrow_mut();
                        match r.try_read(&mut s[..]) {
                            Ok(0) => Err(None),
                            Ok(n) => {
                                self.on_input(&mut s[..n]);
                                Ok(())
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
                            Err(e) => Err(Some(e)),
                        }
                    });
                    match outcome {
                        Ok(()) => {}
                        Err(None) => self.on_eof(),
                        Err(Some(_)) => {
                            self.terminate();
                            return;
                        }
                    }
                }
                // terminate() wakes the reader too; the loop's first check ends it.
                Wake::Woken => {}
                Wake::Timer => self.on_timer(),
            }
        }
    }

    fn on_eof(&self) {
        // As `ws` does on 'end': flush what is queued, then end our side too. While this side
        // is open, JS does it when it reaches the record (see `record::PEER_END`); the close
        // timer still bounds how long that may take.
        let prev = self.set(EOF);
        self.arm_close_timer();
        if prev & (END | CLOSE_SENT | TERMINATED) != 0 {
            self.end();
        } else {
            self.push(record::PEER_END, 0, &[]);
            self.hub.flush_records_when_idle();
        }
    }

    /// Flushes what is queued, then shuts down the write side (no close frame); with `timer`,
    /// the connection is destroyed if it is not closed within the close timeout.
    pub fn end_output(&self, timer: bool) {
        if timer {
            self.arm_close_timer();
            self.wake_reader();
        }
        self.end();
    }

    /// Destroys the connection `close_timeout` from now unless a deadline is set already.
    fn arm_close_timer(&self) {
        let mut d = self.close_deadline.lock().unwrap();
        if d.is_none() {
            *d = Some(Instant::now() + self.config.close_timeout);
        }
    }

    /// Writes the queue out. Returns `None` when it went idle (the write half is back in
    /// `write_half` and the next sender spawns a writer again), or the write half when the
    /// writer is done for good (ended or terminated).
    async fn write_loop(&self, mut write: WriteHalf) -> Option<WriteHalf> {
        let mut local: VecDeque<Chunk> = VecDeque::new();
        loop {
            if self.is(TERMINATED) {
                break;
            }
            if local.is_empty() {
                let mut o = self.out.lock().unwrap();
                std::mem::swap(&mut o.queue, &mut local);
                o.busy = !local.is_empty();
                if local.is_empty() && !self.is(END | TERMINATED) {
                    // Idle: give the write half back and end the task, both under the lock
                    // senders take to decide whether to spawn a writer.
                    *self.write_half.lock().unwrap() = Some(write);
                    o.writer = false;
                    return None;
                }
            }
            let w = &mut write;
            if local.is_empty() {
                if self.is(END) {
                    match w {
                        WriteHalf::Tcp(t) => {
                            let _ = t.shutdown().await;
                        }
                        #[cfg(unix)]
                        WriteHalf::Unix(u) => {
                            let _ = u.shutdown().await;
                        }
                        WriteHalf::Js => self.push(record::END, 0, &[]),
                    }
                    // The socket stays open until the reader is done too (the peer's FIN, or
                    // the close timer).
                    break;
                }
                // Terminated meanwhile: the loop's first check ends it.
                continue;
            }
            let written = match w {
                WriteHalf::Js => {
                    if self.is(OUTPUT_PAUSED) {
                        // The Node stream is full: keep the bytes here (counted in
                        // `buffered`, so the backpressure policy sees them) until it drains.
                        self.writer_wake.notified().await;
                        continue;
                    }
                    let mut n = 0;
                    for c in local.iter() {
                        self.push(record::OUT, 0, &c.bytes);
                        n += c.bytes.len();
                    }
                    self.hub.flush_records();
                    Ok(n)
                }
                _ => {
                    let iov: Vec<IoSlice<'_>> = local
                        .iter()
                        .take(MAX_IOV)
                        .map(|c| IoSlice::new(&c.bytes))
                        .collect();
                    let write = async {
                        match w {
                            WriteHalf::Tcp(t) => t.write_vectored(&iov).await,
                            #[cfg(unix)]
                            WriteHalf::Unix(u) => u.write_vectored(&iov).await,
                            WriteHalf::Js => unreachable!(),
                        }
                    };
                    tokio::pin!(write);
                    // terminate() wakes the writer; other wake-ups just keep writing.
                    let r = loop {
                        tokio::select! {
                            r = &mut write => break Some(r),
                            _ = self.writer_wake.notified() => {
                                if self.is(TERMINATED) {
                                    break None;
                                }
                            }
                        }
                    };
                    match r {
                        Some(r) => r,
                        None => break,
                    }
                }
            };
            match written {
                Ok(n) if n > 0 => self.advance(&mut local, n),
                _ => {
                    self.terminate();
                    break;
                }
            }
        }
        if let WriteHalf::Js = write {
            if self.is(TERMINATED) {
                self.push(record::DESTROY, 0, &[]);
            }
        }
        Some(write)
    }

    fn advance(&self, local: &mut VecDeque<Chunk>, mut n: usize) {
        let total = n as u64;
        let mut counted = 0u64;
        let mut callbacks = 0u64;
        while n > 0 {
            let Some(front) = local.front_mut() else {
                break;
            };
            let len = front.bytes.len();
            let take = n.min(len);
            if front.counted {
                counted += take as u64;
            }
            if take == len {
                if front.notify {
                    callbacks += 1;
                }
                local.pop_front();
            } else {
                front.bytes.advance(take);
            }
            n -= take;
        }
        self.hub.stats.bytes_out.fetch_add(total, Ordering::Relaxed);
        let left = self.buffered.fetch_sub(counted, Ordering::AcqRel) - counted;
        if callbacks > 0 {
            self.push(record::SENT, callbacks, &[]);
        }
        if left <= self.config.max_backpressure / 2 && self.is(DRAIN_WANTED) {
            self.flags.fetch_and(!DRAIN_WANTED, Ordering::AcqRel);
            let more = self.dropped_unreported.swap(0, Ordering::Relaxed);
            if more > 0 {
                self.push(record::DROPPED, more, &[]);
            }
            self.push(record::DRAIN, 0, &[]);
        }
        if callbacks > 0 {
            self.hub.flush_records();
        }
    }
}
