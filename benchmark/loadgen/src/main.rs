//! `loadgen`: the WebSocket load generator behind ferrocast's `benchmark/ws-*.js` and
//! `benchmark/fanout.js`.
//!
//! It only ever connects to 127.0.0.1. It runs on one thread (tokio current-thread runtime), so
//! `taskset -c 1 loadgen …` confines it to one core, and it reports its own CPU time so a driver
//! can tell whether it was saturated. Progress events and the result are JSON lines on stdout:
//! `{"event":"ready",…}`, `{"event":"measure-start"}`, `{"event":"measure-end"}`,
//! `{"event":"result",…}`; errors go to stderr with a non-zero exit. After `measure-end` (and in
//! `idle` mode, after `ready`) it keeps its connections open until stdin says `quit` or closes, so
//! a driver reads the server's counters first; every mode is also bounded by its own timers.

mod conn;
mod frame;
mod sys;

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::task::LocalSet;

use conn::Conn;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Each connection sends one message of --size bytes and waits for its echo, in a loop.
    Echo,
    /// Every connection sends messages of --size bytes as fast as TCP allows (or --rate in total).
    Inbound,
    /// Connect, then count the messages the server broadcasts until --expect per connection.
    FanoutBurst,
    /// Like fanout-burst, and the latency of each stamped message is recorded: from its send
    /// stamp (payload bytes 0–7) and, when it has one, from its scheduled send time (bytes 8–15).
    FanoutRate,
    /// Open --conns connections and hold them until stdin closes or says `quit`.
    Idle,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Client {
    /// Pre-encoded frames, in-place parsing: the cheapest client the generator can be.
    Raw,
    /// tokio-tungstenite for every message (reference path, echo only).
    Tungstenite,
}

#[derive(Parser, Debug)]
#[command(name = "loadgen", about = "WebSocket load generator (127.0.0.1 only)")]
struct Args {
    mode: Mode,
    /// Server port on 127.0.0.1.
    #[arg(long)]
    port: u16,
    /// Request path of the opening handshake.
    #[arg(long, default_value = "/")]
    path: String,
    /// Number of connections.
    #[arg(long, default_value_t = 100)]
    conns: usize,
    /// Message size in bytes (echo, inbound).
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Seconds of measurement (echo, inbound); for idle, the longest hold.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds of warm-up before the measurement (echo, inbound).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Echo: messages each connection writes at once (one write) before reading their echoes.
    #[arg(long, default_value_t = 1)]
    inflight: usize,
    /// Inbound: total messages per second across all connections (0 = as fast as possible).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Fan-out: messages each connection expects.
    #[arg(long, default_value_t = 1000)]
    expect: u64,
    /// Fan-out: stop when no message arrived for this many ms (after the first one).
    #[arg(long, default_value_t = 3000)]
    idle_ms: u64,
    /// Fan-out: stop this many seconds after `ready` whatever happens.
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
    /// Fan-out: the read buffer's growth step, KiB (bigger reads cost fewer system calls for
    /// large messages; for small ones a smaller working set wins).
    #[arg(long, default_value_t = 16)]
    read_kib: usize,
    /// Fan-out burst: after the first message, receive with MSG_TRUNC (the kernel drops the
    /// bytes instead of copying them), count messages as bytes / the first frame's length, and
    /// check a frame boundary every 64 reads. Every message of a burst has the same length, so
    /// the count is exact; it takes the copy (~2.3 GB/s at 1 KiB) off the generator's core.
    #[arg(long)]
    discard: bool,
    /// Fan-out: delay ACKs (TCP_QUICKACK off after every read), as receivers on a network do.
    /// On loopback each read that empties the receive queue otherwise sends an ACK at once, and
    /// that ACK's processing (on the server's socket, in this process's system call) was half of
    /// the generator's CPU in the rate runs.
    #[arg(long)]
    lazy_ack: bool,
    /// Handshakes in flight while connecting.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    #[arg(long, value_enum, default_value_t = Client::Raw)]
    client: Client,
}

fn emit(value: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

fn fail(msg: String) -> ! {
    eprintln!("loadgen: {msg}");
    std::process::exit(1);
}

fn latency_json(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return Value::Null;
    }
    json!({
        "unit": "us",
        "count": h.len(),
        "p50": h.value_at_quantile(0.50),
        "p99": h.value_at_quantile(0.99),
        "p999": h.value_at_quantile(0.999),
        "max": h.max(),
        "mean": (h.mean() * 10.0).round() / 10.0,
    })
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 10 min, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds")
}

struct Gen {
    args: Args,
    addr: SocketAddr,
}

impl Gen {
    async fn connect(&self, read_chunk: usize) -> (Vec<Conn>, f64) {
        let t = Instant::now();
        let conns = conn::connect_many(
            self.addr,
            &self.args.path,
            self.args.conns,
            self.args.connect_concurrency,
            read_chunk,
        )
        .await
        .unwrap_or_else(|e| fail(format!("connecting {} clients: {e}", self.args.conns)));
        let ms = t.elapsed().as_secs_f64() * 1e3;
        emit(json!({"event": "ready", "conns": conns.len(), "connect_ms": ms.round()}));
        (conns, ms)
    }

    /// Runs `warmup` then `duration`, emitting the measure events, stops the load, and returns
    /// the counter's increase, the wall seconds and the generator's CPU seconds in the window.
    /// Connections stay open until stdin closes, so the driver can read the server's counters
    /// (and this process's CPU time) first.
    async fn window(&self, counter: &Rc<Cell<u64>>, stop: &Rc<Cell<bool>>) -> (u64, f64, f64) {
        tokio::time::sleep(Duration::from_secs_f64(self.args.warmup)).await;
        emit(json!({"event": "measure-start"}));
        let (c0, cpu0, t0) = (counter.get(), sys::cpu_seconds(), Instant::now());
        tokio::time::sleep(Duration::from_secs_f64(self.args.duration)).await;
        let (c1, cpu1, wall) = (
            counter.get(),
            sys::cpu_seconds(),
            t0.elapsed().as_secs_f64(),
        );
        stop.set(true);
        emit(json!({"event": "measure-end"}));
        let _ = tokio::time::timeout(Duration::from_secs(60), wait_stdin()).await;
        (c1 - c0, wall, cpu1 - cpu0)
    }

    async fn echo(&self) -> Value {
        let a = &self.args;
        let stop = Rc::new(Cell::new(false));
        let count = Rc::new(Cell::new(0u64));
        let errors = Rc::new(Cell::new(0u64));
        let hist = Rc::new(RefCell::new(new_histogram()));
        let payload = vec![b'x'; a.size];
        let connect_ms;
        match a.client {
            Client::Raw => {
                let (conns, ms) = self.connect(a.size + 64 * 1024).await;
                connect_ms = ms;
                let inflight = a.inflight.max(1);
                for mut c in conns {
                    let mut one = Vec::with_capacity(a.size + 14);
                    frame::encode_client_frame(frame::OP_BINARY, &payload, c.mask(), &mut one);
                    let frames = one.repeat(inflight);
                    let (stop, count, errors, hist) =
                        (stop.clone(), count.clone(), errors.clone(), hist.clone());
                    tokio::task::spawn_local(async move {
                        'run: while !stop.get() {
                            let t = sys::mono_ns();
                            if c.stream.write_all(&frames).await.is_err() {
                                errors.set(errors.get() + 1);
                                break;
                            }
                            for _ in 0..inflight {
                                if c.read_message().await.is_err() {
                                    errors.set(errors.get() + 1);
                                    break 'run;
                                }
                            }
                            let _ = hist
                                .borrow_mut()
                                .record(((sys::mono_ns() - t) / 1000).max(1));
                            count.set(count.get() + inflight as u64);
                        }
                    });
                }
            }
            Client::Tungstenite => {
                use futures_util::{SinkExt, StreamExt};
                use tokio_tungstenite::tungstenite::Message;
                let t = Instant::now();
                let mut sockets = Vec::with_capacity(a.conns);
                for _ in 0..a.conns {
                    let tcp = tokio::net::TcpStream::connect(self.addr)
                        .await
                        .unwrap_or_else(|e| fail(format!("connect: {e}")));
                    tcp.set_nodelay(true).ok();
                    let url = format!("ws://{}{}", self.addr, a.path);
                    let (ws, _) = tokio_tungstenite::client_async(url, tcp)
                        .await
                        .unwrap_or_else(|e| fail(format!("handshake: {e}")));
                    sockets.push(ws);
                }
                connect_ms = t.elapsed().as_secs_f64() * 1e3;
                emit(
                    json!({"event": "ready", "conns": sockets.len(), "connect_ms": connect_ms.round()}),
                );
                let payload = bytes::Bytes::from(payload);
                for mut ws in sockets {
                    let (stop, count, errors, hist, payload) = (
                        stop.clone(),
                        count.clone(),
                        errors.clone(),
                        hist.clone(),
                        payload.clone(),
                    );
                    tokio::task::spawn_local(async move {
                        'outer: while !stop.get() {
                            let t = sys::mono_ns();
                            if ws.send(Message::Binary(payload.clone())).await.is_err() {
                                errors.set(errors.get() + 1);
                                break;
                            }
                            loop {
                                match ws.next().await {
                                    Some(Ok(Message::Binary(_) | Message::Text(_))) => break,
                                    Some(Ok(_)) => continue,
                                    _ => {
                                        errors.set(errors.get() + 1);
                                        break 'outer;
                                    }
                                }
                            }
                            let _ = hist
                                .borrow_mut()
                                .record(((sys::mono_ns() - t) / 1000).max(1));
                            count.set(count.get() + 1);
                        }
                    });
                }
            }
        }
        hist.borrow_mut().reset();
        let (n, wall, cpu) = self.window(&count, &stop).await;
        json!({
            "mode": "echo", "inflight": a.inflight, "client": format!("{:?}", a.client).to_lowercase(), "conns": a.conns,
            "size": a.size, "seconds": wall, "roundtrips": n, "rate": n as f64 / wall,
            "latency": latency_json(&hist.borrow()), "errors": errors.get(), "connect_ms": connect_ms.round(),
            "gen_cpu_s": cpu, "gen_cpu_util": cpu / wall,
        })
    }

    async fn inbound(&self) -> Value {
        let a = &self.args;
        let (conns, connect_ms) = self.connect(4096).await;
        let stop = Rc::new(Cell::new(false));
        let sent = Rc::new(Cell::new(0u64));
        let errors = Rc::new(Cell::new(0u64));
        let payload = vec![b'x'; a.size];
        let per_conn_rate = if a.rate > 0.0 {
            a.rate / a.conns as f64
        } else {
            0.0
        };
        for c in conns {
            let mut one = Vec::with_capacity(a.size + 14);
            frame::encode_client_frame(frame::OP_BINARY, &payload, c.mask(), &mut one);
            // Unpaced: batches of ~16 KiB per write, as a busy client's socket would coalesce.
            let per_batch = if per_conn_rate > 0.0 {
                1
            } else {
                (16 * 1024 / one.len()).clamp(1, 64)
            };
            let batch = one.repeat(per_batch);
            let (stop, sent, errors) = (stop.clone(), sent.clone(), errors.clone());
            let (mut reader, mut writer) = c.stream.into_split();
            // Drain whatever the server sends (it should send nothing) so it never blocks on us.
            tokio::task::spawn_local(async move {
                let mut sink = vec![0u8; 4096];
                while let Ok(n) = tokio::io::AsyncReadExt::read(&mut reader, &mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            });
            tokio::task::spawn_local(async move {
                if per_conn_rate > 0.0 {
                    let start = Instant::now();
                    let mut done = 0u64;
                    let mut tick = tokio::time::interval(Duration::from_millis(10));
                    while !stop.get() {
                        tick.tick().await;
                        let due = (start.elapsed().as_secs_f64() * per_conn_rate) as u64;
                        while done < due {
                            if writer.write_all(&batch).await.is_err() {
                                errors.set(errors.get() + 1);
                                return;
                            }
                            done += 1;
                            sent.set(sent.get() + 1);
                        }
                    }
                } else {
                    while !stop.get() {
                        if writer.write_all(&batch).await.is_err() {
                            errors.set(errors.get() + 1);
                            return;
                        }
                        sent.set(sent.get() + per_batch as u64);
                    }
                }
            });
        }
        let (n, wall, cpu) = self.window(&sent, &stop).await;
        json!({
            "mode": "inbound", "conns": a.conns, "size": a.size, "seconds": wall, "sent": n,
            "send_rate": n as f64 / wall, "target_rate": a.rate, "errors": errors.get(),
            "connect_ms": connect_ms.round(), "gen_cpu_s": cpu, "gen_cpu_util": cpu / wall,
        })
    }

    async fn fanout(&self) -> Value {
        let a = &self.args;
        // Reads of `--read-kib` (16 KiB by default: a few hundred small messages each, and
        // 160 MB at most for 10,000 clients).
        let (conns, connect_ms) = self.connect(a.read_kib.max(1) * 1024).await;
        let delivered = Rc::new(Cell::new(0u64));
        let complete = Rc::new(Cell::new(0usize));
        let errors = Rc::new(Cell::new(0u64));
        let first_ns = Rc::new(Cell::new(0u64));
        let last_ns = Rc::new(Cell::new(0u64));
        let cpu_at_first = Rc::new(Cell::new(0f64));
        let hist = Rc::new(RefCell::new(new_histogram()));
        let hist_scheduled = Rc::new(RefCell::new(new_histogram()));
        let expect = a.expect;
        for mut c in conns {
            let (delivered, complete, errors, first_ns, last_ns, cpu_at_first) = (
                delivered.clone(),
                complete.clone(),
                errors.clone(),
                first_ns.clone(),
                last_ns.clone(),
                cpu_at_first.clone(),
            );
            let (hist, hist_scheduled) = (hist.clone(), hist_scheduled.clone());
            c.lazy_ack = a.lazy_ack;
            if c.lazy_ack {
                c.delay_acks();
            }
            let discard = a.discard && a.mode == Mode::FanoutBurst;
            let chunk = a.read_kib.max(1) * 4096;
            tokio::task::spawn_local(async move {
                let mut mine = 0u64;
                let credit = |frames: u64, now: u64, mine: &mut u64| {
                    if first_ns.get() == 0 {
                        first_ns.set(now);
                        cpu_at_first.set(sys::cpu_seconds());
                    }
                    last_ns.set(now);
                    delivered.set(delivered.get() + frames);
                    let was = *mine;
                    *mine += frames;
                    if was < expect && *mine >= expect {
                        complete.set(complete.get() + 1);
                    }
                };
                if discard {
                    if let Err(e) = discard_burst(&mut c, expect, chunk, &mut |n, now| {
                        credit(n, now, &mut mine)
                    })
                    .await
                    {
                        if e.kind() == std::io::ErrorKind::InvalidData {
                            eprintln!("loadgen: {e}");
                        }
                        errors.set(errors.get() + 1);
                        return;
                    }
                }
                loop {
                    let seen = match c.read_message().await {
                        Ok(s) => s,
                        Err(_) => {
                            errors.set(errors.get() + 1);
                            return;
                        }
                    };
                    let now = seen.at_ns;
                    if let Some(st) = seen.stamp {
                        let _ = hist
                            .borrow_mut()
                            .record((now.saturating_sub(st) / 1000).max(1));
                    }
                    if let Some(st) = seen.scheduled {
                        let _ = hist_scheduled
                            .borrow_mut()
                            .record((now.saturating_sub(st) / 1000).max(1));
                    }
                    credit(1, now, &mut mine);
                }
            });
        }
        let ready = Instant::now();
        let n = a.conns;
        let idle = Duration::from_millis(a.idle_ms);
        let outcome = loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if complete.get() >= n {
                break "complete";
            }
            let last = last_ns.get();
            if last != 0 && sys::mono_ns().saturating_sub(last) > idle.as_nanos() as u64 {
                break "idle";
            }
            if ready.elapsed().as_secs_f64() > a.timeout {
                break "timeout";
            }
            if errors.get() as usize >= n {
                break "all-closed";
            }
        };
        let cpu_end = sys::cpu_seconds();
        let span = (last_ns.get().saturating_sub(first_ns.get())) as f64 / 1e9;
        let d = delivered.get();
        let cpu = if first_ns.get() != 0 {
            cpu_end - cpu_at_first.get()
        } else {
            0.0
        };
        let expected = expect * n as u64;
        // Connections stay open until stdin closes, so the driver can read the server's
        // counters before hundreds of disconnects land on it.
        emit(json!({"event": "measure-end"}));
        let _ = tokio::time::timeout(Duration::from_secs(60), wait_stdin()).await;
        json!({
            "mode": if a.mode == Mode::FanoutRate { "fanout-rate" } else { "fanout-burst" },
            "conns": n, "expect_per_conn": expect, "delivered": d, "expected": expected,
            "fraction": if expected > 0 { d as f64 / expected as f64 } else { 0.0 },
            "conns_complete": complete.get(), "outcome": outcome, "first_to_last_s": span,
            "rate": if span > 0.0 { d as f64 / span } else { 0.0 },
            "latency": latency_json(&hist.borrow()),
            "latency_scheduled": latency_json(&hist_scheduled.borrow()), "errors": errors.get(),
            "connect_ms": connect_ms.round(), "gen_cpu_s": cpu,
            "gen_cpu_util": if span > 0.0 { cpu / span } else { 0.0 },
        })
    }

    async fn idle(&self) -> Value {
        let a = &self.args;
        let (conns, connect_ms) = self.connect(256).await;
        let closed = Rc::new(Cell::new(0u64));
        for mut c in conns {
            let closed = closed.clone();
            tokio::task::spawn_local(async move {
                // Answers pings; returns when the server closes.
                loop {
                    if c.read_frame().await.is_err() {
                        closed.set(closed.get() + 1);
                        return;
                    }
                }
            });
        }
        let held = Instant::now();
        let why = tokio::select! {
            _ = wait_stdin() => "stdin",
            _ = tokio::time::sleep(Duration::from_secs_f64(a.duration)) => "duration",
        };
        json!({
            "mode": "idle", "conns": a.conns, "connect_ms": connect_ms.round(),
            "held_s": held.elapsed().as_secs_f64(), "ended_by": why, "closed_by_server": closed.get(),
            "gen_cpu_s": sys::cpu_seconds(),
        })
    }
}

/// Returns when stdin says `quit` or closes.
/// Receives one connection's burst in discard mode (see `--discard`), calling `credit(messages,
/// at_ns)` as whole frames arrive, until `expect` messages are in. The first and the last
/// message and one read in 64 are parsed: a frame of another length, or bytes that do not add up
/// to whole frames, end the run with an error or leave the connection incomplete.
async fn discard_burst(
    c: &mut Conn,
    expect: u64,
    chunk: usize,
    credit: &mut impl FnMut(u64, u64),
) -> std::io::Result<()> {
    let bad = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidData, msg);
    let check = |seen: &conn::Seen, frame: u64| {
        if !seen.header.fin || seen.header.total_len() as u64 != frame {
            return Err(bad(format!(
                "discard mode: a {}-byte frame after {frame}-byte ones",
                seen.header.total_len()
            )));
        }
        Ok(())
    };
    let first = c.read_message().await?;
    let frame = first.header.total_len() as u64;
    check(&first, frame)?;
    credit(1, first.at_ns);
    if expect <= 1 {
        return Ok(());
    }
    // Bytes up to the start of the last frame, which is parsed.
    let stop = (expect - 1) * frame;
    let mut consumed = frame;
    consumed += c.skip_buffered((stop - consumed) as usize) as u64;
    let mut credited = 1u64;
    let mut reads = 0u64;
    while consumed < stop {
        reads += 1;
        if reads.is_multiple_of(64) && consumed.is_multiple_of(frame) {
            check(&c.read_message().await?, frame)?;
            consumed += frame;
            consumed += c.skip_buffered((stop - consumed) as usize) as u64;
        } else {
            // The buffer is empty here: skip_buffered only leaves bytes once `stop` is reached.
            let mut want = (stop - consumed).min(chunk as u64);
            if reads % 64 == 63 && !consumed.is_multiple_of(frame) {
                // Stop at a frame boundary so that the next read can be parsed.
                want = want.min(frame - consumed % frame);
            }
            consumed += c.discard(want as usize).await? as u64;
        }
        let whole = consumed / frame;
        if whole > credited {
            credit(whole - credited, c.read_at());
            credited = whole;
        }
    }
    let last = c.read_message().await?;
    check(&last, frame)?;
    credit(expect - credited, last.at_ns);
    Ok(())
}

async fn wait_stdin() {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim() == "quit" {
            break;
        }
    }
}

fn main() {
    let args = Args::parse();
    if args.conns == 0 {
        fail("--conns must be at least 1".into());
    }
    if args.client == Client::Tungstenite && args.mode != Mode::Echo {
        fail("--client tungstenite is implemented for echo only".into());
    }
    let (soft, hard) = sys::raise_nofile().unwrap_or_else(|e| fail(format!("RLIMIT_NOFILE: {e}")));
    if (soft as usize) < args.conns + 64 {
        fail(format!(
            "RLIMIT_NOFILE is {soft} (hard {hard}), too low for {} connections",
            args.conns
        ));
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let gen = Gen { args, addr };
    let local = LocalSet::new();
    let mut result = local.block_on(&rt, async {
        match gen.args.mode {
            Mode::Echo => gen.echo().await,
            Mode::Inbound => gen.inbound().await,
            Mode::FanoutBurst | Mode::FanoutRate => gen.fanout().await,
            Mode::Idle => gen.idle().await,
        }
    });
    result["event"] = json!("result");
    result["nofile"] = json!(soft);
    emit(result);
    // Tasks still hold sockets; exiting closes them all at once.
    std::process::exit(0);
}
