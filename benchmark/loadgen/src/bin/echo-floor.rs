//! `echo-floor`: a WebSocket echo server with no JavaScript at all, the floor the echo
//! benchmark (`benchmark/ws-echo.js --kinds floor`) measures every Node server against.
//!
//! One thread (a tokio current-thread runtime, so `taskset -c 0` confines it to one core, as the
//! Node servers are), tokio-tungstenite for the handshake and framing, and each message written
//! back with one `send` (tungstenite's `send` writes and flushes). It does the same system calls
//! per round-trip as a Node server reading on its JS thread (one read, one write), and none of the
//! work of calling into JS: what the kernel and a minimal WebSocket layer cost, nothing more.
//!
//! `echo-floor raw` replaces tungstenite after the handshake with the least a WebSocket echo can
//! do: frames are parsed in the read buffer, unmasked in place and written back behind a server
//! header, every reply of one read in one `write`; no allocation per message.
//!
//! Usage: `echo-floor [raw|tungstenite] [echo]`. It listens on 127.0.0.1 only, prints
//! `{"event":"listening","port":P,"pid":N}` and answers the JSON commands of
//! `benchmark/servers/common.js` that an echo driver sends (`stats`, `gc`: nothing to report;
//! `quit`), and exits when its stdin closes. For any mode but `echo` it prints
//! `{"event":"unavailable"}` and exits.

use futures_util::{SinkExt, StreamExt};
use std::io::Write;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// The handshake by hand (httparse, tungstenite's accept key), then `raw_loop`.
async fn raw_echo(mut tcp: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut have = 0;
    let key = loop {
        let n = tcp.read(&mut buf[have..]).await?;
        if n == 0 {
            return Ok(());
        }
        have += n;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(len)) = req.parse(&buf[..have]) {
            let key = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-key"))
                .map(|h| h.value.to_vec())
                .unwrap_or_default();
            buf.copy_within(len..have, 0);
            have -= len;
            break key;
        }
    };
    let accept = tungstenite::handshake::derive_accept_key(&key);
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    tcp.write_all(response.as_bytes()).await?;
    raw_loop(tcp, buf, have).await
}

/// Echoes every complete client frame in `buf[..have]` and what follows, until EOF.
async fn raw_loop(mut tcp: TcpStream, mut buf: Vec<u8>, mut have: usize) -> std::io::Result<()> {
    let mut out: Vec<u8> = Vec::with_capacity(256 * 1024);
    loop {
        let mut at = 0;
        while let Some((header_len, payload_len, opcode)) = client_frame(&buf[at..have]) {
            let key = [
                buf[at + header_len - 4],
                buf[at + header_len - 3],
                buf[at + header_len - 2],
                buf[at + header_len - 1],
            ];
            unmask(
                &mut buf[at + header_len..at + header_len + payload_len],
                key,
            );
            let payload = &buf[at + header_len..at + header_len + payload_len];
            if opcode == 0x8 {
                return Ok(());
            }
            out.push(0x80 | opcode);
            if payload_len < 126 {
                out.push(payload_len as u8);
            } else if payload_len < 65536 {
                out.push(126);
                out.extend_from_slice(&(payload_len as u16).to_be_bytes());
            } else {
                out.push(127);
                out.extend_from_slice(&(payload_len as u64).to_be_bytes());
            }
            out.extend_from_slice(payload);
            at += header_len + payload_len;
        }
        if !out.is_empty() {
            tcp.write_all(&out).await?;
            out.clear();
        }
        buf.copy_within(at..have, 0);
        have -= at;
        if have == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = tcp.read(&mut buf[have..]).await?;
        if n == 0 {
            return Ok(());
        }
        have += n;
    }
}

/// XORs `payload` with the repeated `key`, eight bytes at a time (as uWebSockets and ws's
/// bufferutil do), so that a 16 KiB payload costs what a copy does.
fn unmask(payload: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = payload.chunks_exact_mut(8);
    for w in &mut words {
        let x = u64::from_ne_bytes((&*w).try_into().expect("8 bytes")) ^ wide;
        w.copy_from_slice(&x.to_ne_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// `(header length, payload length, opcode)` of a complete masked frame at the start of `b`.
fn client_frame(b: &[u8]) -> Option<(usize, usize, u8)> {
    if b.len() < 2 {
        return None;
    }
    let (len, header) = match b[1] & 0x7f {
        126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 8),
        127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().ok()?) as usize, 14),
        126 | 127 => return None,
        n => (n as usize, 6),
    };
    (b.len() >= header + len).then_some((header, len, b[0] & 0x0f))
}

fn main() {
    let raw = std::env::args().nth(1).as_deref() == Some("raw");
    if std::env::args().nth(2).is_some_and(|mode| mode != "echo") {
        println!("{{\"event\":\"unavailable\",\"message\":\"the floor server only echoes\"}}");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        println!(
            "{{\"event\":\"listening\",\"kind\":\"floor\",\"port\":{port},\"pid\":{}}}",
            std::process::id()
        );
        std::io::stdout().flush().ok();
        let accept = async {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                tcp.set_nodelay(true).ok();
                if raw {
                    tokio::task::spawn_local(async move {
                        let _ = raw_echo(tcp).await;
                    });
                    continue;
                }
                tokio::task::spawn_local(async move {
                    let config = WebSocketConfig::default().max_message_size(Some(64 << 20));
                    let Ok(mut ws) =
                        tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await
                    else {
                        return;
                    };
                    while let Some(Ok(msg)) = ws.next().await {
                        let reply = match msg {
                            Message::Binary(_) | Message::Text(_) => msg,
                            Message::Close(_) => break,
                            _ => continue,
                        };
                        if ws.send(reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        };
        let stdin = async {
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let reply = if line.contains("\"stats\"") {
                    "stats"
                } else if line.contains("\"gc\"") {
                    "gc"
                } else if line.contains("\"quit\"") {
                    break;
                } else {
                    "error"
                };
                println!("{{\"reply\":\"{reply}\",\"eld_p99_ms\":null}}");
                std::io::stdout().flush().ok();
            }
        };
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                tokio::select! {
                    _ = accept => {}
                    _ = stdin => {}
                }
            })
            .await;
    });
}
