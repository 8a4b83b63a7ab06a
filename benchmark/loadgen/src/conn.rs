//! One raw client connection: TCP connect, the opening handshake (key and accept checked with
//! tungstenite's helpers), and frame reading straight from a reusable buffer.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::frame::{self, Header};

pub struct Conn {
    pub stream: TcpStream,
    buf: BytesMut,
    mask: [u8; 4],
    read_chunk: usize,
    /// Put the socket back in delayed-ACK mode after every read (see `--lazy-ack`).
    pub lazy_ack: bool,
    /// CLOCK_MONOTONIC ns of the last read: frames from one read share it, which saves a clock
    /// read per message and is as exact as the kernel's delivery to us.
    read_at: u64,
}

/// What `read_frame` saw: the header and, when the payload has one, the 8-byte send stamp.
pub struct Seen {
    pub header: Header,
    pub stamp: Option<u64>,
    /// The scheduled send time (payload bytes 8–15), when the payload carries one.
    pub scheduled: Option<u64>,
    /// When the read that completed this frame returned (CLOCK_MONOTONIC ns).
    pub at_ns: u64,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Conn {
    /// Connects and completes the opening handshake. `read_chunk` is the read buffer's growth
    /// step (small for idle connections, large for fan-out).
    pub async fn connect(
        addr: SocketAddr,
        path: &str,
        index: u64,
        read_chunk: usize,
    ) -> io::Result<Conn> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let key = tungstenite::handshake::client::generate_key();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut buf = BytesMut::with_capacity(read_chunk.max(1024));
        loop {
            if stream.read_buf(&mut buf).await? == 0 {
                return Err(bad("connection closed during the opening handshake"));
            }
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            match response
                .parse(&buf)
                .map_err(|e| bad(format!("bad handshake response: {e}")))?
            {
                httparse::Status::Partial => {
                    if buf.len() > 16 * 1024 {
                        return Err(bad("handshake response too large"));
                    }
                }
                httparse::Status::Complete(len) => {
                    if response.code != Some(101) {
                        return Err(bad(format!("handshake answered {:?}", response.code)));
                    }
                    let expected = tungstenite::handshake::derive_accept_key(key.as_bytes());
                    let accept = response
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-accept"))
                        .map(|h| h.value);
                    if accept != Some(expected.as_bytes()) {
                        return Err(bad("wrong Sec-WebSocket-Accept"));
                    }
                    // Bytes after the response are already frames: keep them.
                    buf.advance(len);
                    return Ok(Conn {
                        stream,
                        buf,
                        mask: frame::mask_for(index),
                        read_chunk,
                        lazy_ack: false,
                        read_at: crate::sys::mono_ns(),
                    });
                }
            }
        }
    }

    pub fn mask(&self) -> [u8; 4] {
        self.mask
    }

    /// Reads the next frame. Pings are answered with a pong and a close frame is answered
    /// and reported as `UnexpectedEof`; both are still returned to the caller only if data.
    pub async fn read_frame(&mut self) -> io::Result<Seen> {
        loop {
            if let Some(header) = frame::parse_header(&self.buf).map_err(bad)? {
                let total = header.total_len();
                if self.buf.len() >= total {
                    let stamp = frame::stamp(&header, &self.buf);
                    let scheduled = stamp.and_then(|t| frame::scheduled(&header, &self.buf, t));
                    match header.opcode {
                        frame::OP_PING => {
                            let payload = self.buf[header.header_len..total].to_vec();
                            self.buf.advance(total);
                            let mut pong = Vec::with_capacity(payload.len() + 6);
                            frame::encode_client_frame(
                                frame::OP_PONG,
                                &payload,
                                self.mask,
                                &mut pong,
                            );
                            self.stream.write_all(&pong).await?;
                            continue;
                        }
                        frame::OP_PONG => {
                            self.buf.advance(total);
                            continue;
                        }
                        frame::OP_CLOSE => {
                            let code = if header.payload_len >= 2 {
                                u16::from_be_bytes([
                                    self.buf[header.header_len],
                                    self.buf[header.header_len + 1],
                                ])
                            } else {
                                1005
                            };
                            self.buf.advance(total);
                            let mut reply = Vec::new();
                            frame::encode_client_frame(
                                frame::OP_CLOSE,
                                &1000u16.to_be_bytes(),
                                self.mask,
                                &mut reply,
                            );
                            let _ = self.stream.write_all(&reply).await;
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                format!("server closed the connection with {code}"),
                            ));
                        }
                        _ => {
                            self.buf.advance(total);
                            return Ok(Seen {
                                header,
                                stamp,
                                scheduled,
                                at_ns: self.read_at,
                            });
                        }
                    }
                }
                self.buf.reserve(total - self.buf.len());
            }
            if self.buf.capacity() - self.buf.len() < 64 {
                self.buf.reserve(self.read_chunk);
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed the TCP connection",
                ));
            }
            self.read_at = crate::sys::mono_ns();
            if self.lazy_ack {
                self.delay_acks();
            }
        }
    }

    /// Turns TCP_QUICKACK off: the kernel then delays this socket's ACKs (until a full segment's
    /// worth of data is unacknowledged, or its delayed-ACK timer fires) instead of sending one
    /// after every read that empties the receive queue. Linux leaves that mode on its own (a
    /// delayed-ACK timer expiry), so it is set again after each read.
    #[cfg(target_os = "linux")]
    pub fn delay_acks(&self) {
        use std::os::fd::AsRawFd;
        let off: libc::c_int = 0;
        // SAFETY: a valid socket and an int option.
        unsafe {
            libc::setsockopt(
                self.stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_QUICKACK,
                (&off as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }

    /// Discard mode (fan-out bursts of equal frames): receives up to `max` bytes with `MSG_TRUNC`,
    /// which on TCP drops them in the kernel instead of copying them to user space, and returns
    /// how many there were. The caller counts frames from bytes and checks frame boundaries with
    /// sampled `read_message` calls.
    #[cfg(target_os = "linux")]
    pub async fn discard(&mut self, max: usize) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        use tokio::io::Interest;
        let fd = self.stream.as_raw_fd();
        // Never written to (MSG_TRUNC), but the kernel checks the range is user memory.
        let mut scratch = [0u8; 1];
        loop {
            self.stream.readable().await?;
            let got = self.stream.try_io(Interest::READABLE, || {
                // SAFETY: with MSG_TRUNC a TCP socket copies nothing into the buffer, and `fd`
                // stays open for the duration of the call.
                let n = unsafe {
                    libc::recv(
                        fd,
                        scratch.as_mut_ptr().cast(),
                        max,
                        libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match got {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "server closed the TCP connection",
                    ))
                }
                Ok(n) => {
                    self.read_at = crate::sys::mono_ns();
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Drops up to `max` of the bytes already read but not parsed and returns how many.
    pub fn skip_buffered(&mut self, max: usize) -> usize {
        let n = self.buf.len().min(max);
        self.buf.advance(n);
        n
    }

    /// When the last read returned (CLOCK_MONOTONIC ns).
    pub fn read_at(&self) -> u64 {
        self.read_at
    }

    /// Reads frames until one ends a data message; the stamp is the message's first frame's.
    pub async fn read_message(&mut self) -> io::Result<Seen> {
        let mut first_stamps = None;
        loop {
            let mut seen = self.read_frame().await?;
            let (stamp, scheduled) = *first_stamps.get_or_insert((seen.stamp, seen.scheduled));
            if seen.header.ends_message() {
                seen.stamp = stamp;
                seen.scheduled = scheduled;
                return Ok(seen);
            }
        }
    }
}

/// Connects `n` clients with at most `concurrency` handshakes in flight (the server's accept
/// backlog is usually 511), retrying refused or reset attempts a few times.
pub async fn connect_many(
    addr: SocketAddr,
    path: &str,
    n: usize,
    concurrency: usize,
    read_chunk: usize,
) -> io::Result<Vec<Conn>> {
    use futures_util::stream::{self, StreamExt};
    let path = path.to_string();
    let results: Vec<io::Result<Conn>> = stream::iter(0..n)
        .map(|i| {
            let path = path.clone();
            async move {
                let mut attempt = 0;
                loop {
                    match tokio::time::timeout(
                        Duration::from_secs(10),
                        Conn::connect(addr, &path, i as u64, read_chunk),
                    )
                    .await
                    {
                        Ok(Ok(c)) => return Ok(c),
                        Ok(Err(e)) if attempt < 5 => {
                            attempt += 1;
                            let _ = e;
                            tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                        }
                        Ok(Err(e)) => return Err(e),
                        Err(_) if attempt < 2 => attempt += 1,
                        Err(_) => {
                            return Err(io::Error::new(
                                io::ErrorKind::TimedOut,
                                "handshake timed out",
                            ))
                        }
                    }
                }
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect()
}
