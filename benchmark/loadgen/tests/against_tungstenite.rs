//! End-to-end checks of the generator's raw client against tokio-tungstenite servers on
//! 127.0.0.1: what it sends must be valid client frames, and what it counts must match what a
//! conforming server sent (including pings and fragmented messages it must see through).

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

async fn run_loadgen(args: &[String]) -> Value {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn loadgen");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut result = Value::Null;
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let v: Value = serde_json::from_str(&line).expect("JSON line");
            if v["event"] == "result" {
                result = v;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("loadgen finished in time");
    let status = child.wait().await.unwrap();
    assert!(status.success(), "loadgen failed: {status}");
    result
}

/// CLOCK_MONOTONIC in ns, the clock the generator stamps and reads.
fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_round_trips_through_a_tungstenite_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let bad = Arc::new(AtomicU64::new(0));
    let bad2 = bad.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let bad = bad2.clone();
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
                while let Some(Ok(msg)) = ws.next().await {
                    if let Message::Binary(b) = &msg {
                        if b.len() != 70_000 || b.iter().any(|&c| c != b'x') {
                            bad.fetch_add(1, Ordering::Relaxed);
                        }
                        if ws.send(msg).await.is_err() {
                            break;
                        }
                    }
                }
            });
        }
    });
    for client in ["raw", "tungstenite"] {
        let port_s = port.to_string();
        let r = run_loadgen(&args(&[
            "echo",
            "--port",
            &port_s,
            "--conns",
            "3",
            "--size",
            "70000",
            "--duration",
            "0.4",
            "--warmup",
            "0.1",
            "--client",
            client,
        ]))
        .await;
        assert_eq!(r["mode"], "echo");
        assert!(r["roundtrips"].as_u64().unwrap() > 0, "{client}: {r}");
        assert_eq!(r["errors"], 0, "{client}: {r}");
        assert!(r["latency"]["p99"].as_u64().unwrap() >= 1);
    }
    assert_eq!(
        bad.load(Ordering::Relaxed),
        0,
        "the server saw malformed payloads"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_frames_are_valid_for_a_tungstenite_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let (received2, bad2) = (received.clone(), bad.clone());
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (received, bad) = (received2.clone(), bad2.clone());
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
                while let Some(msg) = ws.next().await {
                    match msg {
                        Ok(Message::Binary(b))
                            if b.len() == 100 && b.iter().all(|&c| c == b'x') =>
                        {
                            received.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {
                            bad.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => break,
                    }
                }
            });
        }
    });
    let port_s = port.to_string();
    let r = run_loadgen(&args(&[
        "inbound",
        "--port",
        &port_s,
        "--conns",
        "2",
        "--size",
        "100",
        "--duration",
        "0.3",
        "--warmup",
        "0.1",
    ]))
    .await;
    assert!(r["sent"].as_u64().unwrap() > 0, "{r}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        received.load(Ordering::Relaxed) >= r["sent"].as_u64().unwrap(),
        "server got fewer than were counted in the window"
    );
    assert_eq!(bad.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_counts_every_message_through_pings_and_fragments() {
    const CONNS: usize = 4;
    const PER_CONN: u64 = 60;
    let (port, clients) = accept_all(CONNS).await;
    let pongs = Arc::new(AtomicU64::new(0));
    let pongs2 = pongs.clone();
    tokio::spawn(async move {
        for mut ws in clients.await.unwrap() {
            let pongs = pongs2.clone();
            tokio::spawn(async move {
                for i in 0..PER_CONN {
                    let now = mono_ns();
                    let mut payload = now.to_le_bytes().to_vec();
                    payload.resize(if i % 3 == 0 { 1024 } else { 64 }, b'x');
                    // A second fragment starting with "1 ns" would yield a latency as old as the
                    // machine's uptime if the stamp were read from the wrong frame.
                    payload[20..28].copy_from_slice(&1u64.to_le_bytes());
                    if i % 10 == 5 {
                        // One message in two fragments, with a ping between them.
                        let (a, b) = payload.split_at(20);
                        ws.send(Message::Frame(Frame::message(
                            a.to_vec(),
                            OpCode::Data(Data::Binary),
                            false,
                        )))
                        .await
                        .unwrap();
                        ws.send(Message::Ping(vec![1, 2, 3].into())).await.unwrap();
                        ws.send(Message::Frame(Frame::message(
                            b.to_vec(),
                            OpCode::Data(Data::Continue),
                            true,
                        )))
                        .await
                        .unwrap();
                    } else {
                        ws.send(Message::Binary(payload.into())).await.unwrap();
                    }
                }
                // The generator must answer every ping with a pong carrying its payload.
                while let Some(Ok(msg)) = ws.next().await {
                    if let Message::Pong(p) = msg {
                        if p[..] == [1, 2, 3] {
                            pongs.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let port_s = port.to_string();
    let r = run_loadgen(&args(&[
        "fanout-rate",
        "--port",
        &port_s,
        "--conns",
        "4",
        "--expect",
        "60",
        "--idle-ms",
        "2000",
        "--timeout",
        "20",
    ]))
    .await;
    assert_eq!(r["delivered"], CONNS as u64 * PER_CONN, "{r}");
    assert_eq!(r["outcome"], "complete");
    assert_eq!(r["fraction"], 1.0);
    assert_eq!(r["conns_complete"], CONNS);
    assert_eq!(r["latency"]["count"], CONNS as u64 * PER_CONN);
    // Stamps were read from each message's first fragment: no latency is absurd.
    assert!(r["latency"]["max"].as_u64().unwrap() < 10_000_000, "{r}");
    assert_eq!(pongs.load(Ordering::Relaxed), CONNS as u64 * PER_CONN / 10);
}

/// Runs a fan-out mode against `port` with a 20 s timeout and one extra flag.
async fn fanout(
    port: &str,
    mode: &str,
    conns: u32,
    expect: u32,
    idle_ms: u32,
    flag: &str,
) -> Value {
    let (conns, expect, idle_ms) = (conns.to_string(), expect.to_string(), idle_ms.to_string());
    run_loadgen(&args(&[
        mode,
        "--port",
        port,
        "--conns",
        &conns,
        "--expect",
        &expect,
        "--idle-ms",
        &idle_ms,
        "--timeout",
        "20",
        flag,
    ]))
    .await
}

/// A listener on 127.0.0.1 (its port), and a task that completes the opening handshake of the
/// first `conns` clients and yields their sockets once all have connected.
async fn accept_all(
    conns: usize,
) -> (
    u16,
    tokio::task::JoinHandle<Vec<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let clients = tokio::spawn(async move {
        let mut sockets = Vec::with_capacity(conns);
        for _ in 0..conns {
            let (tcp, _) = listener.accept().await.unwrap();
            sockets.push(tokio_tungstenite::accept_async(tcp).await.unwrap());
        }
        sockets
    });
    (port, clients)
}

/// A tungstenite server that sends `per_conn` binary messages of `size` bytes to each of `conns`
/// clients, the message at index `odd` (if any) one byte longer.
async fn burst_server(conns: usize, per_conn: u64, size: usize, odd: Option<u64>) -> u16 {
    let (port, clients) = accept_all(conns).await;
    tokio::spawn(async move {
        for mut ws in clients.await.unwrap() {
            tokio::spawn(async move {
                for i in 0..per_conn {
                    let len = if Some(i) == odd { size + 1 } else { size };
                    ws.feed(Message::Binary(vec![b'x'; len].into()))
                        .await
                        .unwrap();
                }
                ws.flush().await.unwrap();
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discard_mode_counts_equal_frames_exactly() {
    // 20,000 messages of 1 KiB per connection: many discard reads, and sampled parses.
    let port = burst_server(3, 20_000, 1024, None).await.to_string();
    let r = fanout(&port, "fanout-burst", 3, 20000, 2000, "--discard").await;
    assert_eq!(r["delivered"], 60_000u64, "{r}");
    assert_eq!(r["outcome"], "complete");
    assert_eq!(r["conns_complete"], 3);
    assert_eq!(r["errors"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_latency_counts_from_the_send_stamp_and_from_the_scheduled_time() {
    // Each message says it was sent now but scheduled two seconds ago: the scheduled latency
    // must include those two seconds, the send-stamp latency must not. Messages too short for
    // a second stamp (the last ten) count in the first histogram only.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        for i in 0..100 {
            let now = mono_ns();
            let mut payload = now.to_le_bytes().to_vec();
            if i < 90 {
                payload.extend_from_slice(&(now - 2_000_000_000).to_le_bytes());
                payload.resize(64, b'x');
            }
            ws.send(Message::Binary(payload.into())).await.unwrap();
        }
        while let Some(Ok(_)) = ws.next().await {}
    });
    let r = fanout(&port, "fanout-rate", 1, 100, 1000, "--lazy-ack").await;
    assert_eq!(r["delivered"], 100u64, "{r}");
    assert_eq!(r["latency"]["count"], 100u64);
    assert_eq!(r["latency_scheduled"]["count"], 90u64);
    assert!(
        r["latency_scheduled"]["p50"].as_u64().unwrap() >= 2_000_000,
        "{r}"
    );
    assert!(r["latency"]["max"].as_u64().unwrap() < 2_000_000, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_acks_still_receive_everything() {
    // Delayed ACKs must not stall a stream: 20,000 × 1 KiB per connection need many window
    // updates.
    let port = burst_server(2, 20_000, 1024, None).await.to_string();
    let r = fanout(&port, "fanout-rate", 2, 20000, 2000, "--lazy-ack").await;
    assert_eq!(r["delivered"], 40_000u64, "{r}");
    assert_eq!(r["outcome"], "complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discard_mode_reports_a_frame_of_another_length() {
    // The odd message lands where no parse samples it or where one does; either way the byte
    // count no longer adds up to whole frames, so the connection cannot complete.
    let port = burst_server(1, 5_000, 64, Some(2_500)).await.to_string();
    let r = fanout(&port, "fanout-burst", 1, 5000, 500, "--discard").await;
    assert_eq!(r["conns_complete"], 0, "{r}");
    assert_ne!(r["outcome"], "complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_holds_connections_until_stdin_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicU64::new(0));
    let accepted2 = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let accepted = accepted2.clone();
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
                accepted.fetch_add(1, Ordering::Relaxed);
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    let port_s = port.to_string();
    // stdin is /dev/null: the generator connects, reports ready, sees EOF and ends.
    let r = run_loadgen(&args(&[
        "idle",
        "--port",
        &port_s,
        "--conns",
        "25",
        "--duration",
        "20",
    ]))
    .await;
    assert_eq!(r["conns"], 25, "{r}");
    assert_eq!(r["ended_by"], "stdin");
    assert_eq!(r["closed_by_server"], 0);
    assert_eq!(accepted.load(Ordering::Relaxed), 25);
}
