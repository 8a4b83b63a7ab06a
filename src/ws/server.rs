//! The hub: a registry of connections keyed by `u32` id, the one bridge that carries all their
//! inbound events to JS, adoption of upgraded sockets, and the JS-facing classes
//! `NativeWsHub` (one per `WebSocketServer`, one shared by clients) and `NativeWsConnection`
//! (one per `WebSocket`).

use std::collections::{BTreeMap, VecDeque};
use std::io;
#[cfg(unix)]
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::broadcast::{Joined, LogEntry, Topics};
use super::config::{ConnConfig, ConnOptions};
use super::connection::{Conn, ReadHalf, WriteHalf};
use super::frame::{self, OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT};
use crate::bridge::{BatchArgs, Bridge, BridgeOptions, Columns, Overflow};

/// Totals a hub keeps.
#[derive(Default)]
pub struct HubStats {
    /// Connections adopted.
    pub opened: AtomicU64,
    /// Data messages received.
    pub messages_in: AtomicU64,
    /// Bytes read from sockets.
    pub bytes_in: AtomicU64,
    /// Data messages queued (a broadcast counts once per connection).
    pub messages_out: AtomicU64,
    /// Bytes written to sockets.
    pub bytes_out: AtomicU64,
    /// Messages skipped by the `drop` backpressure policy.
    pub dropped: AtomicU64,
}

/// State shared by a hub and its connections.
pub struct HubCore {
    pub(crate) bridge: Bridge,
    /// Open connections by id, i.e. in accept order: a fan-out pass writes the sockets in the
    /// order the kernel allocated them, which cost ~12% less kernel time per write than hash
    /// order (BENCHMARKS.md, Fan-out).
    conns: Mutex<BTreeMap<u32, Arc<Conn>>>,
    next_id: AtomicU32,
    pub(crate) topics: Topics,
    pub(crate) stats: HubStats,
    /// JS is dispatching a batch of several records: sends are queued for the runtime to write
    /// (corked) instead of written directly from the JS thread.
    pub(crate) corked: AtomicBool,
    /// Connections with bytes queued while corked, written when the batch ends.
    to_flush: Mutex<Vec<Arc<Conn>>>,
    /// Fan-out frames not yet taken by every connection, in sequence order.
    pub(crate) log: Mutex<VecDeque<Arc<LogEntry>>>,
    /// The sequence number of the latest fan-out frame.
    seq: AtomicU64,
    fanout_wake: Arc<tokio::sync::Notify>,
    fanout_started: AtomicBool,
    /// The fan-out task was woken and has not started its pass yet: further fan-outs need
    /// not wake it again (a broadcast loop in JS then costs no system call per call).
    fanout_woken: Arc<AtomicBool>,
    /// The settings of the last connection registered, shared with the next ones that have the
    /// same (a server passes the same options for all of its connections).
    last_config: Mutex<Option<Arc<ConnConfig>>>,
}

impl HubCore {
    /// The sequence number of the latest fan-out frame.
    pub(crate) fn fanout_seq(&self) -> u64 {
        // SeqCst, with the store in `fan_out` and the `fanout_woken` flag: see `fanout_task`.
        self.seq.load(Ordering::SeqCst)
    }

    /// Appends a fan-out frame to the log (O(1)) and wakes the fan-out task.
    fn fan_out(self: &Arc<Self>, frame: Bytes, except: Vec<u32>, topic: Option<Arc<str>>) {
        {
            let mut log = self.log.lock().unwrap();
            let seq = self.seq.load(Ordering::Acquire) + 1;
            log.push_back(Arc::new(LogEntry {
                seq,
                frame,
                except,
                topic,
            }));
            // Published after the entry, so whoever sees `seq` finds it.
            self.seq.store(seq, Ordering::SeqCst);
        }
        if !self.fanout_started.swap(true, Ordering::AcqRel) {
            let weak = Arc::downgrade(self);
            let wake = self.fanout_wake.clone();
            let woken = self.fanout_woken.clone();
            crate::runtime::spawn(fanout_task(weak, wake, woken));
        }
        if !self.fanout_woken.swap(true, Ordering::SeqCst) {
            self.fanout_wake.notify_one();
        }
    }

    /// Remembers `conn` for [`HubCore::flush_corked`].
    pub(crate) fn flush_later(&self, conn: Arc<Conn>) {
        self.to_flush.lock().unwrap().push(conn);
    }

    /// Writes what the connections queued while corked.
    fn flush_corked(&self) {
        let list = std::mem::take(&mut *self.to_flush.lock().unwrap());
        for c in &list {
            c.flush_corked();
        }
        // Give the (now empty) list its memory back for the next batch.
        let mut slot = self.to_flush.lock().unwrap();
        if slot.is_empty() {
            let mut list = list;
            list.clear();
            *slot = list;
        }
    }

    /// Like [`HubCore::flush_records`], but from a runtime worker it waits until the worker
    /// runs out of work, so one round of reads makes one batch.
    pub(crate) fn flush_records_when_idle(&self) {
        self.bridge.flush_when_worker_idle();
    }

    /// Hands pending records to JS unless JS is dispatching (the bridge is held then, and
    /// releasing it flushes).
    pub(crate) fn flush_records(&self) {
        self.bridge.flush_if_idle();
    }
}

impl HubCore {
    /// Forgets a finished connection.
    pub(crate) fn remove(&self, conn: &Conn) {
        self.conns.lock().unwrap().remove(&conn.id);
        self.topics.remove_all(conn);
    }

    fn register(self: &Arc<Self>, options: Option<ConnOptions>, fd: i32) -> Arc<Conn> {
        let config = options.unwrap_or_default().into_config();
        let config = {
            let mut last = self.last_config.lock().unwrap();
            match &*last {
                Some(c) if **c == config => c.clone(),
                _ => {
                    let c = Arc::new(config);
                    *last = Some(c.clone());
                    c
                }
            }
        };
        let mut conns = self.conns.lock().unwrap();
        let mut id = self.next_id.fetch_add(1, Ordering::Relaxed);
        while conns.contains_key(&id) {
            id = self.next_id.fetch_add(1, Ordering::Relaxed);
        }
        let conn = Conn::new(self.clone(), id, config, fd);
        conns.insert(id, conn.clone());
        self.stats.opened.fetch_add(1, Ordering::Relaxed);
        conn
    }
}

/// Connections per fan-out subtask: a pass over more connections is split so that it yields
/// to the runtime between slices and uses every worker thread.
const FANOUT_SLICE: usize = 512;

/// Takes every logged fan-out frame to every connection, pass after pass, then drops the
/// entries all have taken. A pass writes each connection's new frames in one vectored write
/// ([`Conn::fan_out_pass`]), so when broadcasts come faster than a pass takes, the next pass
/// carries several frames per write: the cost per delivery falls as the load rises. Frames
/// logged while a pass runs also go to the connections it has not reached yet (see
/// [`write_pass`]). Ends when the hub is gone.
async fn fanout_task(hub: Weak<HubCore>, wake: Arc<tokio::sync::Notify>, woken: Arc<AtomicBool>) {
    loop {
        wake.notified().await;
        let Some(core) = hub.upgrade() else { return };
        loop {
            // Cleared before `target` is read: a fan-out after this point wakes the task again
            // (the permit is kept if it is still busy), so none is left behind.
            woken.store(false, Ordering::SeqCst);
            // Every connection of the pass takes at least this far.
            let target = core.fanout_seq();
            let conns: Arc<[Arc<Conn>]> = core.conns.lock().unwrap().values().cloned().collect();
            let join = conns.len() > 1;
            if conns.len() <= FANOUT_SLICE {
                write_pass(&core, &conns, join);
            } else {
                let mut slices = tokio::task::JoinSet::new();
                for start in (0..conns.len()).step_by(FANOUT_SLICE) {
                    let (core, conns) = (core.clone(), conns.clone());
                    slices.spawn(async move {
                        let end = (start + FANOUT_SLICE).min(conns.len());
                        write_pass(&core, &conns[start..end], join);
                    });
                }
                while slices.join_next().await.is_some() {}
            }
            drop(conns);
            // Every connection has taken everything up to `target` (one registered since
            // starts after it), so those entries can go.
            {
                let mut log = core.log.lock().unwrap();
                while log.front().is_some_and(|e| e.seq <= target) {
                    log.pop_front();
                }
            }
            if core.fanout_seq() == target {
                break;
            }
            // Let the writers and readers of this worker run between passes.
            tokio::task::yield_now().await;
        }
    }
}

/// Sockets a pass writes between two looks at the log (and, on a single core, two offers of
/// the core to other threads).
const REFRESH_EVERY: usize = 64;

/// What a pass writes: the log up to `target`, and the frames of its tails joined on demand,
/// one buffer per distinct starting point (connections that took the same earlier passes share
/// it).
struct Snapshot {
    target: u64,
    entries: Vec<Arc<LogEntry>>,
    joined: Vec<(u64, Option<Joined>)>,
}

impl Snapshot {
    fn take(core: &HubCore) -> Self {
        let target = core.fanout_seq();
        let entries = core
            .log
            .lock()
            .unwrap()
            .iter()
            .take_while(|e| e.seq <= target)
            .cloned()
            .collect();
        Snapshot {
            target,
            entries,
            joined: Vec::new(),
        }
    }

    /// The entries from sequence number `first` on, joined (`None` when they cannot be).
    fn joined_from<'a>(
        entries: &[Arc<LogEntry>],
        joined: &'a mut Vec<(u64, Option<Joined>)>,
        first: u64,
    ) -> Option<&'a Joined> {
        let at = match joined.iter().position(|(f, _)| *f == first) {
            Some(at) => at,
            None => {
                // Entries have consecutive sequence numbers.
                let skip = first.checked_sub(entries.first()?.seq)? as usize;
                joined.push((first, Joined::of(entries.get(skip..)?)));
                joined.len() - 1
            }
        };
        joined[at].1.as_ref()
    }
}

/// One pass's writes to `conns`. Every [`REFRESH_EVERY`] sockets it takes a new snapshot of the
/// log if fan-outs came meanwhile, so that a broadcast made while a pass runs reaches the
/// sockets the pass has not written yet in this pass rather than the next (the latency of the
/// last sockets of a pass was up to two passes, it is up to one).
///
/// When the process has a single core (so the JS thread shares it with the runtime's one
/// worker), it also offers the core to any other runnable thread at those points
/// (`sched_yield`, a no-op when none waits): a pass of system calls otherwise held the core for
/// whole scheduler slices, stretching a JS loop of 1,000 `broadcast()` calls from ~1 to ~6 ms
/// and making the event loop's timers late by as much. With more cores the scheduler can run
/// both at once, and yielding would only hand the core to other processes.
fn write_pass(core: &HubCore, conns: &[Arc<Conn>], join: bool) {
    let shared_core = crate::runtime::worker_count() == 1;
    let mut snap = Snapshot::take(core);
    for (i, c) in conns.iter().enumerate() {
        if i % REFRESH_EVERY == REFRESH_EVERY - 1 {
            if shared_core {
                std::thread::yield_now();
            }
            if core.fanout_seq() > snap.target {
                snap = Snapshot::take(core);
            }
        }
        let seen = c.seen();
        if seen >= snap.target {
            continue;
        }
        let joined = if join {
            Snapshot::joined_from(&snap.entries, &mut snap.joined, seen + 1)
        } else {
            None
        };
        c.fan_out_pass(&snap.entries, joined, snap.target);
    }
}

fn io_error(what: &str, e: io::Error) -> Error {
    Error::new(Status::GenericFailure, format!("{what}: {e}"))
}

/// Duplicates `fd` (close-on-exec) and wraps the duplicate in a tokio socket of the right kind.
/// Returns the halves and the duplicate's descriptor number.
#[cfg(unix)]
fn adopt_fd(fd: i32) -> Result<(ReadHalf, WriteHalf, i32)> {
    // SAFETY: fcntl with F_DUPFD_CLOEXEC only reads `fd`; a bad fd gives -1.
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Err(io_error(
            "cannot duplicate the socket",
            io::Error::last_os_error(),
        ));
    }
    // SAFETY: `dup` is a fresh descriptor that nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(dup) };
    // SAFETY: a zeroed sockaddr_storage is a valid out-buffer for getsockname.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `addr` and `len` describe a writable buffer of the right size.
    let rc = unsafe {
        libc::getsockname(
            dup,
            (&mut addr as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io_error("not a socket", io::Error::last_os_error()));
    }
    let _guard = crate::runtime::handle().enter();
    if addr.ss_family as i32 == libc::AF_UNIX {
        let s = std::os::unix::net::UnixStream::from(owned);
        s.set_nonblocking(true)
            .map_err(|e| io_error("cannot adopt the socket", e))?;
        let s = tokio::net::UnixStream::from_std(s)
            .map_err(|e| io_error("cannot adopt the socket", e))?;
        let (r, w) = s.into_split();
        Ok((ReadHalf::Unix(r), WriteHalf::Unix(w), dup))
    } else {
        let s = std::net::TcpStream::from(owned);
        s.set_nonblocking(true)
            .map_err(|e| io_error("cannot adopt the socket", e))?;
        let _ = s.set_nodelay(true);
        let s = tokio::net::TcpStream::from_std(s)
            .map_err(|e| io_error("cannot adopt the socket", e))?;
        let (r, w) = s.into_split();
        Ok((ReadHalf::Tcp(r), WriteHalf::Tcp(w), dup))
    }
}

/// Without Unix descriptors, sockets are never adopted: JS pumps them instead.
#[cfg(not(unix))]
fn adopt_fd(_fd: i32) -> Result<(ReadHalf, WriteHalf, i32)> {
    Err(Error::new(
        Status::GenericFailure,
        "adopting a socket by descriptor needs a Unix platform",
    ))
}

/// Counters of a hub, as JS sees them.
#[napi(object)]
pub struct WsHubStats {
    /// Connections open now.
    pub connections: u32,
    /// Connections adopted since the hub was made.
    pub opened: f64,
    /// Data messages received.
    pub messages_in: f64,
    /// Bytes read.
    pub bytes_in: f64,
    /// Data messages queued for sending (a broadcast counts once per connection).
    pub messages_out: f64,
    /// Bytes written.
    pub bytes_out: f64,
    /// Messages skipped by the `'drop'` backpressure policy.
    pub dropped: f64,
}

/// A registry of WebSocket connections sharing one bridge to JS. The callback receives batches
/// as described in `lib/bridge.js`; each record's tag is a connection id and its number a
/// record kind (see `connection::record`).
#[napi]
pub struct NativeWsHub {
    core: Arc<HubCore>,
}

#[napi]
impl NativeWsHub {
    /// Makes a hub delivering to `callback`. The hub does not keep Node alive until `setRef(true)`.
    /// Inbound records are never dropped: when JS falls behind, readers wait (TCP backpressure).
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "(...args: any[]) => void")] callback: Function<BatchArgs, ()>,
        options: Option<BridgeOptions>,
    ) -> Result<Self> {
        let options = options.unwrap_or_default();
        let hwm_given = options.high_water_mark.is_some();
        let mut config = options.into_config(Columns {
            tag: true,
            number: true,
            bytes: true,
        });
        config.overflow = Overflow::Wait;
        if !hwm_given {
            // A few batches queued ahead of JS keep it busy; more would only be run back to
            // back by Node without returning to its event loop (and hold memory): readers
            // wait instead, which pushes back on the peers through TCP.
            config.high_water_mark = config.max_batch.saturating_mul(4).max(16 * 1024);
        }
        let bridge = Bridge::new(&env, callback, config)?;
        bridge.set_keep_alive(&env, false)?;
        Ok(NativeWsHub {
            core: Arc::new(HubCore {
                bridge,
                conns: Mutex::new(BTreeMap::new()),
                next_id: AtomicU32::new(1),
                topics: Topics::default(),
                stats: HubStats::default(),
                corked: AtomicBool::new(false),
                to_flush: Mutex::new(Vec::new()),
                log: Mutex::new(VecDeque::new()),
                seq: AtomicU64::new(0),
                fanout_wake: Arc::new(tokio::sync::Notify::new()),
                fanout_started: AtomicBool::new(false),
                fanout_woken: Arc::new(AtomicBool::new(false)),
                last_config: Mutex::new(None),
            }),
        })
    }

    /// JS calls `dispatch(true, cork)` before dispatching a batch and `dispatch(false, false)`
    /// after. Meanwhile new inbound records accumulate into one batch (handed over at the end),
    /// and with `cork` sends are queued and written by the runtime (one vectored write per
    /// socket) instead of written from the JS thread one by one.
    #[napi]
    pub fn dispatch(&self, on: bool, cork: bool) {
        self.core.corked.store(cork, Ordering::Release);
        if !cork {
            self.core.flush_corked();
        }
        self.core.bridge.hold(on);
    }

    /// Whether the hub keeps Node's event loop alive (JS turns it on while connections exist).
    #[napi]
    pub fn set_ref(&self, env: Env, on: bool) -> Result<()> {
        self.core.bridge.set_keep_alive(&env, on)
    }

    /// Adopts an upgraded socket by file descriptor: the descriptor is duplicated, so JS may
    /// destroy its own socket afterwards (closing one of two descriptors sends no FIN).
    /// `head` holds bytes already read past the handshake; `preamble` is written first (the
    /// server's 101 response).
    #[napi]
    pub fn adopt_fd(
        &self,
        fd: i32,
        head: BufferSlice,
        preamble: BufferSlice,
        options: Option<ConnOptions>,
    ) -> Result<NativeWsConnection> {
        let (r, w, raw) = adopt_fd(fd)?;
        let conn = self.core.register(options, raw);
        conn.start(Some(r), w, &preamble, head.to_vec());
        Ok(NativeWsConnection { conn })
    }

    /// Adopts a socket that has no file descriptor: JS feeds inbound bytes with `feed()` and
    /// writes the `OUT` records it receives.
    #[napi]
    pub fn adopt_stream(
        &self,
        head: BufferSlice,
        preamble: BufferSlice,
        options: Option<ConnOptions>,
    ) -> NativeWsConnection {
        let conn = self.core.register(options, -1);
        conn.start(None, WriteHalf::Js, &preamble, head.to_vec());
        NativeWsConnection { conn }
    }

    /// Sends one data frame to every connection except the ids in `except`, in order with the
    /// other sends on each. The frame is built once; the runtime queues it on each connection
    /// (O(1) on the calling thread). Returns how many connections it is addressed to (closing
    /// ones skip it).
    #[napi]
    pub fn broadcast(&self, data: BufferSlice, binary: bool, except: Option<Vec<u32>>) -> u32 {
        let frame = server_frame(&data, binary);
        let except = except.unwrap_or_default();
        let n = {
            let conns = self.core.conns.lock().unwrap();
            conns.len() - except.iter().filter(|id| conns.contains_key(id)).count()
        };
        self.core.fan_out(frame, except, None);
        n as u32
    }

    /// Sends one data frame to the subscribers of `topic` except the ids in `except`.
    #[napi]
    pub fn publish(
        &self,
        topic: String,
        data: BufferSlice,
        binary: bool,
        except: Option<Vec<u32>>,
    ) -> u32 {
        let frame = server_frame(&data, binary);
        let except = except.unwrap_or_default();
        let n = self.core.topics.count_except(&topic, &except);
        if n > 0 {
            self.core
                .fan_out(frame, except, Some(Arc::from(topic.as_str())));
        }
        n as u32
    }

    /// Connections subscribed to `topic`.
    #[napi]
    pub fn num_subscribers(&self, topic: String) -> u32 {
        self.core.topics.count(&topic) as u32
    }

    /// Connections open now.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.core.conns.lock().unwrap().len() as u32
    }

    /// The hub's counters.
    #[napi]
    pub fn stats(&self) -> WsHubStats {
        let s = &self.core.stats;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        WsHubStats {
            connections: self.size(),
            opened: l(&s.opened),
            messages_in: l(&s.messages_in),
            bytes_in: l(&s.bytes_in),
            messages_out: l(&s.messages_out),
            bytes_out: l(&s.bytes_out),
            dropped: l(&s.dropped),
        }
    }

    /// Closes the bridge (after a final batch). Connections still open are terminated.
    #[napi]
    pub fn close(&self) {
        let conns: Vec<Arc<Conn>> = self.core.conns.lock().unwrap().values().cloned().collect();
        for c in conns {
            c.terminate();
        }
        self.core.bridge.close();
    }
}

fn server_frame(data: &[u8], binary: bool) -> Bytes {
    let op = if binary { OP_BINARY } else { OP_TEXT };
    Bytes::from(frame::encode(op, true, &[data], None))
}

/// `send_buffer` flag: the frame ends its message.
const SEND_FIN: u32 = 4;
/// `send_buffer` flag: mask the frame (clients do).
const SEND_MASK: u32 = 8;
/// `send_buffer` flag: report a `SENT` record once the frame is written.
const SEND_NOTIFY: u32 = 16;
/// `send_buffer` flag: no earlier send of the connection waits for its `SENT` record, so a
/// frame written whole at once may say so by returning `WRITTEN` instead.
const SEND_SYNC: u32 = 32;

fn data_opcode(opcode: u32) -> u8 {
    match opcode {
        0 => OP_CONT,
        1 => OP_TEXT,
        _ => OP_BINARY,
    }
}

/// One connection, as its `WebSocket` sees it.
#[napi]
pub struct NativeWsConnection {
    conn: Arc<Conn>,
}

impl NativeWsConnection {
    /// Frames `payload` as one data frame and queues it after whatever the hub queued earlier.
    fn send_payload(&self, payload: &[u8], flags: u32, key: Option<[u8; 4]>) -> u32 {
        self.conn.catch_up_to_hub();
        let (opcode, fin) = (data_opcode(flags & 3), flags & SEND_FIN != 0);
        let (mask, notify) = (flags & SEND_MASK != 0, flags & SEND_NOTIFY != 0);
        let sync = flags & SEND_SYNC != 0;
        #[cfg(unix)]
        if !mask {
            if let Some(status) = self.conn.send_direct(opcode, fin, payload, notify, sync) {
                return status;
            }
        }
        let frame = self
            .conn
            .frame_keyed(opcode, fin, &[payload], Some(mask), key);
        self.conn.enqueue_reporting(frame, true, notify, true, sync)
    }
}

#[napi]
impl NativeWsConnection {
    /// The connection's id (the tag of its bridge records).
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.conn.id
    }

    /// Queues a data frame with `data` as payload. `flags` packs the frame's options into one
    /// argument (this is the hot path; each argument is a conversion): the opcode (0
    /// continuation, 1 text, 2 binary) | 4 FIN | 8 mask the frame | 16 report a `SENT` record
    /// once written | 32 no earlier `SENT` record is awaited (then a frame written whole at
    /// once returns 3 instead of a record). Returns 0 when queued, 1 when the connection is
    /// closing, 2 when the backpressure policy dropped it, 3 when written (see 32).
    #[napi]
    pub fn send_buffer(&self, data: BufferSlice, flags: u32) -> u32 {
        self.send_payload(&data, flags, None)
    }

    /// `send_buffer` for a string (sent as its UTF-8 bytes).
    #[napi]
    pub fn send_string(&self, data: String, flags: u32) -> u32 {
        self.send_payload(data.as_bytes(), flags, None)
    }

    /// `send_buffer` masked with `key` (the 4 bytes a client's `generateMask` filled, read as a
    /// little-endian u32) rather than a key drawn in Rust.
    #[napi]
    pub fn send_buffer_keyed(&self, data: BufferSlice, flags: u32, key: u32) -> u32 {
        self.send_payload(&data, flags, Some(key.to_le_bytes()))
    }

    /// `send_string` masked with `key` (see `send_buffer_keyed`).
    #[napi]
    pub fn send_string_keyed(&self, data: String, flags: u32, key: u32) -> u32 {
        self.send_payload(data.as_bytes(), flags, Some(key.to_le_bytes()))
    }

    /// Queues a ping (`pong` false) or pong with `data` (at most 125 bytes; JS checks), masked
    /// with `key` when given (see `send_buffer_keyed`).
    #[napi]
    pub fn control(
        &self,
        pong: bool,
        data: BufferSlice,
        mask: Option<bool>,
        notify: bool,
        key: Option<u32>,
    ) -> u32 {
        self.conn.catch_up_to_hub();
        let op = if pong { OP_PONG } else { OP_PING };
        let key = key.map(u32::to_le_bytes);
        let frame = self.conn.frame_keyed(op, true, &[&data], mask, key);
        self.conn.enqueue(frame, false, notify, true)
    }

    /// Starts the closing handshake with `code` (none when absent) and `reason`; the close
    /// frame is masked with `key` when given (see `send_buffer_keyed`).
    #[napi]
    pub fn close(&self, code: Option<u32>, reason: Option<BufferSlice>, key: Option<u32>) {
        let reason: &[u8] = reason.as_deref().unwrap_or(&[]);
        self.conn.catch_up_to_hub();
        let key = key.map(u32::to_le_bytes);
        self.conn.close_keyed(code.map(|c| c as u16), reason, key);
    }

    /// Destroys the connection now.
    #[napi]
    pub fn terminate(&self) {
        self.conn.terminate();
    }

    /// Ends the write side after what is queued, without a close frame (`timer`: destroy the
    /// connection if it is not closed within the close timeout).
    #[napi]
    pub fn end(&self, timer: bool) {
        self.conn.end_output(timer);
    }

    /// Stops reading from the socket.
    #[napi]
    pub fn pause(&self) {
        self.conn.pause();
    }

    /// Reads again.
    #[napi]
    pub fn resume(&self) {
        self.conn.resume();
    }

    /// Bytes queued and not yet written.
    #[napi(getter)]
    pub fn buffered_amount(&self) -> f64 {
        self.conn.buffered_amount() as f64
    }

    /// Messages skipped by the `'drop'` backpressure policy.
    #[napi(getter)]
    pub fn dropped(&self) -> f64 {
        self.conn.dropped() as f64
    }

    /// Subscribes to `topic`; false if already subscribed or closed.
    #[napi]
    pub fn subscribe(&self, topic: String) -> bool {
        // Publishes issued before this call must not reach it: take them first.
        self.conn.catch_up_to_hub();
        self.conn.hub.topics.subscribe(&self.conn, &topic)
    }

    /// Unsubscribes from `topic`; false if not subscribed.
    #[napi]
    pub fn unsubscribe(&self, topic: String) -> bool {
        // Publishes issued before this call still reach it.
        self.conn.catch_up_to_hub();
        self.conn.hub.topics.unsubscribe(&self.conn, &topic)
    }

    /// Whether the connection is subscribed to `topic`.
    #[napi]
    pub fn is_subscribed(&self, topic: String) -> bool {
        Topics::is_subscribed(&self.conn, &topic)
    }

    /// The topics the connection is subscribed to.
    #[napi]
    pub fn topics(&self) -> Vec<String> {
        self.conn
            .topics
            .lock()
            .unwrap()
            .iter()
            .map(|t| t.to_string())
            .collect()
    }

    /// Feeds bytes read by a JS transport (sockets without a file descriptor).
    #[napi]
    pub fn feed(&self, data: BufferSlice) {
        let mut owned = data.to_vec();
        self.conn.on_input(&mut owned);
    }

    /// The JS transport's readable side ended.
    #[napi]
    pub fn end_input(&self) {
        self.conn.input_ended();
    }

    /// The JS transport is full (`write()` returned false), or drained again (`on` false).
    #[napi]
    pub fn pause_output(&self, on: bool) {
        if on {
            self.conn.pause_output();
        } else {
            self.conn.resume_output();
        }
    }
}
