//! RFC 6455 framing: a push decoder that turns bytes into messages and control frames, and the
//! frame encoder the senders use.
//!
//! The decoder checks every frame the way the `ws` package does, in the same order and with the
//! same messages, status codes and `WS_ERR_*` codes, so a peer sees the same close code and a
//! listener the same `error` as with `ws`. It is synchronous and owns no I/O: the connection
//! layer feeds it whatever bytes the socket (or a Node stream) produced, and it keeps only the
//! bytes of an incomplete frame and of an unfinished fragmented message between calls, so an
//! idle connection holds no buffer at all.

/// Continuation frame.
pub const OP_CONT: u8 = 0x0;
/// Text frame.
pub const OP_TEXT: u8 = 0x1;
/// Binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Ping frame.
pub const OP_PING: u8 = 0x9;
/// Pong frame.
pub const OP_PONG: u8 = 0xA;

/// A frame or message the peer got wrong. Once returned, the decoder ignores further input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    /// The close status code to answer with (1002, 1007, 1008 or 1009).
    pub status: u16,
    /// The `ws` error code, e.g. `WS_ERR_EXPECTED_MASK`.
    pub code: &'static str,
    /// The error message, exactly as `ws` words it.
    pub message: String,
    /// Whether `ws` raises it as a `RangeError` (otherwise a plain `Error`).
    pub range: bool,
}

impl ProtocolError {
    fn frame(status: u16, code: &'static str, what: impl std::fmt::Display, range: bool) -> Self {
        ProtocolError {
            status,
            code,
            message: format!("Invalid WebSocket frame: {what}"),
            range,
        }
    }

    fn plain(status: u16, code: &'static str, message: &str) -> Self {
        ProtocolError {
            status,
            code,
            message: message.to_string(),
            range: true,
        }
    }
}

/// What the decoder found in the input, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A complete data message (all its fragments joined).
    Message {
        /// Binary (opcode 2) or text (opcode 1, valid UTF-8 unless validation is skipped).
        binary: bool,
        /// The payload, unmasked.
        data: &'a [u8],
    },
    /// A ping and its payload.
    Ping(&'a [u8]),
    /// A pong and its payload.
    Pong(&'a [u8]),
    /// A close frame: its status code (1005 when it had none) and reason. The decoder ignores
    /// everything after it.
    Close {
        /// The status code, or 1005 for an empty close frame.
        code: u16,
        /// The reason, valid UTF-8 unless validation is skipped.
        reason: &'a [u8],
    },
}

/// Limits and checks of a [`Decoder`].
#[derive(Clone, Copy, Debug)]
pub struct DecoderConfig {
    /// Decoding frames a server receives: they must be masked. A client's must not be.
    pub server: bool,
    /// Largest message in bytes; 0 means no limit. Beyond it: 1009.
    pub max_payload: u64,
    /// Most fragments in one message; 0 means no limit. Beyond it: 1008.
    pub max_fragments: u32,
    /// Most inputs ([`Decoder::feed`] calls, i.e. socket reads) an unfinished frame may be
    /// spread over, as ws counts the socket chunks it buffers; 0 means no limit. Beyond it:
    /// 1008.
    pub max_buffered_chunks: u32,
    /// Skip UTF-8 validation of text messages and close reasons.
    pub skip_utf8_validation: bool,
}

/// Whether `code` may appear in a close frame (RFC 6455 section 7.4, as `ws` applies it).
pub fn is_valid_status_code(code: u16) -> bool {
    (1000..=1014).contains(&code) && code != 1004 && code != 1005 && code != 1006
        || (3000..=4999).contains(&code)
}

/// A push decoder for one connection.
pub struct Decoder {
    config: DecoderConfig,
    /// Bytes of a frame that has not fully arrived.
    partial: Vec<u8>,
    /// Inputs `partial` holds bytes of (at most: one whose start was consumed counts whole).
    partial_chunks: u32,
    /// Payload of the fragments received so far of an unfinished message.
    fragments: Vec<u8>,
    /// The opcode of the unfinished fragmented message, or 0.
    fragmented: u8,
    num_fragments: u32,
    /// Payload bytes of the current message counted against `max_payload`.
    total: u64,
    /// A close frame or an error ended the stream.
    done: bool,
}

/// The parsed head of a frame.
struct Head {
    fin: bool,
    opcode: u8,
    masked: bool,
    header_len: usize,
    payload_len: u64,
}

impl Decoder {
    /// A decoder with the given checks.
    pub fn new(config: DecoderConfig) -> Self {
        Decoder {
            config,
            partial: Vec::new(),
            partial_chunks: 0,
            fragments: Vec::new(),
            fragmented: 0,
            num_fragments: 0,
            total: 0,
            done: false,
        }
    }

    /// Whether a close frame or an error has ended decoding.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Bytes held between calls (an incomplete frame and an unfinished message).
    pub fn buffered(&self) -> usize {
        self.partial.len() + self.fragments.len()
    }

    /// Decodes `input` (unmasking it in place), calling `on` for each message and control frame
    /// in order. Keeps an incomplete trailing frame for the next call. After an error or a close
    /// frame, input is ignored.
    pub fn feed(
        &mut self,
        input: &mut [u8],
        on: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), ProtocolError> {
        if self.done || input.is_empty() {
            return Ok(());
        }
        if self.partial.is_empty() {
            let used = self.decode(input, on)?;
            if !self.done && used < input.len() {
                self.partial.extend_from_slice(&input[used..]);
                self.partial_chunks = 1;
            }
        } else {
            let max = self.config.max_buffered_chunks;
            if max > 0 && self.partial_chunks >= max {
                self.done = true;
                return Err(ProtocolError::plain(
                    1008,
                    "WS_ERR_TOO_MANY_BUFFERED_PARTS",
                    "Too many buffered chunks",
                ));
            }
            let held = self.partial.len();
            let mut buf = std::mem::take(&mut self.partial);
            buf.extend_from_slice(input);
            let used = self.decode(&mut buf, on)?;
            // What is left: this input's tail only, or (nothing consumed past the old bytes)
            // the earlier inputs and this one.
            self.partial_chunks = if used >= held {
                1
            } else {
                self.partial_chunks + 1
            };
            if !self.done && used < buf.len() {
                buf.drain(..used);
                if buf.capacity() > 4 * buf.len().max(4096) {
                    buf.shrink_to_fit();
                }
                self.partial = buf;
            }
        }
        Ok(())
    }

    /// Checks the first two bytes (and the length) of a frame the way `ws` does. `Ok(None)`
    /// means more bytes are needed to know the length.
    fn head(&self, buf: &[u8]) -> Result<Option<Head>, ProtocolError> {
        let (b0, b1) = (buf[0], buf[1]);
        if b0 & 0x30 != 0 {
            return Err(ProtocolError::frame(
                1002,
                "WS_ERR_UNEXPECTED_RSV_2_3",
                "RSV2 and RSV3 must be clear",
                true,
            ));
        }
        if b0 & 0x40 != 0 {
            // No extension is negotiated, so RSV1 is never allowed.
            return Err(ProtocolError::frame(
                1002,
                "WS_ERR_UNEXPECTED_RSV_1",
                "RSV1 must be clear",
                true,
            ));
        }
        let fin = b0 & 0x80 != 0;
        let opcode = b0 & 0x0f;
        let len7 = b1 & 0x7f;
        match opcode {
            OP_CONT => {
                if self.fragmented == 0 {
                    return Err(ProtocolError::frame(
                        1002,
                        "WS_ERR_INVALID_OPCODE",
                        "invalid opcode 0",
                        true,
                    ));
                }
            }
            OP_TEXT | OP_BINARY => {
                if self.fragmented != 0 {
                    return Err(ProtocolError::frame(
                        1002,
                        "WS_ERR_INVALID_OPCODE",
                        format!("invalid opcode {opcode}"),
                        true,
                    ));
                }
            }
            OP_CLOSE | OP_PING | OP_PONG => {
                if !fin {
                    return Err(ProtocolError::frame(
                        1002,
                        "WS_ERR_EXPECTED_FIN",
                        "FIN must be set",
                        true,
                    ));
                }
                if len7 > 125 || (opcode == OP_CLOSE && len7 == 1) {
                    return Err(ProtocolError::frame(
                        1002,
                        "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH",
                        format!("invalid payload length {len7}"),
                        true,
                    ));
                }
            }
            _ => {
                return Err(ProtocolError::frame(
                    1002,
                    "WS_ERR_INVALID_OPCODE",
                    format!("invalid opcode {opcode}"),
                    true,
                ))
            }
        }
        let masked = b1 & 0x80 != 0;
        if self.config.server && !masked {
            return Err(ProtocolError::frame(
                1002,
                "WS_ERR_EXPECTED_MASK",
                "MASK must be set",
                true,
            ));
        }
        if !self.config.server && masked {
            return Err(ProtocolError::frame(
                1002,
                "WS_ERR_UNEXPECTED_MASK",
                "MASK must be clear",
                true,
            ));
        }
        let (payload_len, ext) = match len7 {
            126 => {
                if buf.len() < 4 {
                    return Ok(None);
                }
                (u16::from_be_bytes([buf[2], buf[3]]) as u64, 2)
            }
            127 => {
                if buf.len() < 10 {
                    return Ok(None);
                }
                let hi = u32::from_be_bytes([buf[2], buf[3], buf[4], buf[5]]);
                if hi > (1 << 21) - 1 {
                    return Err(ProtocolError::plain(
                        1009,
                        "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH",
                        "Unsupported WebSocket frame: payload length > 2^53 - 1",
                    ));
                }
                let lo = u32::from_be_bytes([buf[6], buf[7], buf[8], buf[9]]);
                (((hi as u64) << 32) | lo as u64, 8)
            }
            n => (n as u64, 0),
        };
        if payload_len > 0 && opcode < OP_CLOSE {
            let total = self.total + payload_len;
            if self.config.max_payload > 0 && total > self.config.max_payload {
                return Err(ProtocolError::plain(
                    1009,
                    "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH",
                    "Max payload size exceeded",
                ));
            }
        }
        Ok(Some(Head {
            fin,
            opcode,
            masked,
            header_len: 2 + ext + if masked { 4 } else { 0 },
            payload_len,
        }))
    }

    fn fail(&mut self, e: ProtocolError) -> Result<usize, ProtocolError> {
        self.done = true;
        self.partial = Vec::new();
        self.fragments = Vec::new();
        Err(e)
    }

    /// Decodes whole frames from `buf`; returns how many bytes they used.
    fn decode(
        &mut self,
        buf: &mut [u8],
        on: &mut dyn FnMut(Event<'_>),
    ) -> Result<usize, ProtocolError> {
        let mut pos = 0;
        while !self.done && buf.len() - pos >= 2 {
            let head = match self.head(&buf[pos..]) {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(e) => return self.fail(e),
            };
            let avail = (buf.len() - pos) as u64;
            if avail < head.header_len as u64 + head.payload_len {
                break;
            }
            let start = pos + head.header_len;
            let end = start + head.payload_len as usize;
            if head.masked {
                let k = start - 4;
                let key = [buf[k], buf[k + 1], buf[k + 2], buf[k + 3]];
                apply_mask(&mut buf[start..end], key);
            }
            pos = end;
            let payload = &buf[start..end];
            if head.opcode >= OP_CLOSE {
                if let Err(e) = self.control(head.opcode, payload, on) {
                    return self.fail(e);
                }
                continue;
            }
            if let Err(e) = self.data(head.fin, head.opcode, payload, on) {
                return self.fail(e);
            }
        }
        Ok(pos)
    }

    fn control(
        &mut self,
        opcode: u8,
        payload: &[u8],
        on: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), ProtocolError> {
        match opcode {
            OP_PING => on(Event::Ping(payload)),
            OP_PONG => on(Event::Pong(payload)),
            _ => {
                self.done = true;
                if payload.is_empty() {
                    on(Event::Close {
                        code: 1005,
                        reason: &[],
                    });
                } else {
                    let code = u16::from_be_bytes([payload[0], payload[1]]);
                    if !is_valid_status_code(code) {
                        return Err(ProtocolError::frame(
                            1002,
                            "WS_ERR_INVALID_CLOSE_CODE",
                            format!("invalid status code {code}"),
                            true,
                        ));
                    }
                    let reason = &payload[2..];
                    if !self.config.skip_utf8_validation && std::str::from_utf8(reason).is_err() {
                        return Err(invalid_utf8());
                    }
                    on(Event::Close { code, reason });
                }
                self.partial = Vec::new();
                self.fragments = Vec::new();
            }
        }
        Ok(())
    }

    fn data(
        &mut self,
        fin: bool,
        opcode: u8,
        payload: &[u8],
        on: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), ProtocolError> {
        self.total += payload.len() as u64;
        self.num_fragments += 1;
        if self.config.max_fragments > 0 && self.num_fragments > self.config.max_fragments {
            return Err(ProtocolError::plain(
                1008,
                "WS_ERR_TOO_MANY_BUFFERED_PARTS",
                "Too many message fragments",
            ));
        }
        let opcode = if opcode == OP_CONT {
            self.fragmented
        } else {
            opcode
        };
        if !fin {
            self.fragmented = opcode;
            self.fragments.extend_from_slice(payload);
            return Ok(());
        }
        let joined;
        let data: &[u8] = if self.fragmented != 0 {
            self.fragments.extend_from_slice(payload);
            joined = std::mem::take(&mut self.fragments);
            &joined
        } else {
            payload
        };
        self.fragmented = 0;
        self.num_fragments = 0;
        self.total = 0;
        let binary = opcode == OP_BINARY;
        if !binary && !self.config.skip_utf8_validation && std::str::from_utf8(data).is_err() {
            return Err(invalid_utf8());
        }
        on(Event::Message { binary, data });
        Ok(())
    }
}

fn invalid_utf8() -> ProtocolError {
    ProtocolError::frame(1007, "WS_ERR_INVALID_UTF8", "invalid UTF-8 sequence", false)
}

/// XORs `data` with the 4-byte masking `key` (RFC 6455 section 5.3), 8 bytes at a time.
pub fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    let key64 = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let v = u64::from_ne_bytes(c.try_into().unwrap()) ^ key64;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// The header of a frame with `len` payload bytes (masked with `mask` when given): its bytes
/// and how many of them there are.
pub fn header(opcode: u8, fin: bool, len: usize, mask: Option<[u8; 4]>) -> ([u8; 14], usize) {
    let mut h = [0u8; 14];
    h[0] = if fin { 0x80 } else { 0 } | opcode;
    let m = if mask.is_some() { 0x80 } else { 0 };
    let mut n = if len < 126 {
        h[1] = m | len as u8;
        2
    } else if len <= 0xffff {
        h[1] = m | 126;
        h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        4
    } else {
        h[1] = m | 127;
        h[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    if let Some(key) = mask {
        h[n..n + 4].copy_from_slice(&key);
        n += 4;
    }
    (h, n)
}

/// Builds one frame whose payload is the concatenation of `parts`, masked with `mask` when given
/// (clients mask; servers do not). The result is the exact bytes to write, so one frame can be
/// written to many sockets.
pub fn encode(opcode: u8, fin: bool, parts: &[&[u8]], mask: Option<[u8; 4]>) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let (head, head_len) = header(opcode, fin, len, mask);
    let mut out = Vec::with_capacity(head_len + len);
    out.extend_from_slice(&head[..head_len]);
    let start = out.len();
    for p in parts {
        out.extend_from_slice(p);
    }
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(e: Event<'_>) -> (String, Vec<u8>) {
        match e {
            Event::Message { binary, data } => (
                (if binary { "binary" } else { "text" }).into(),
                data.to_vec(),
            ),
            Event::Ping(d) => ("ping".into(), d.to_vec()),
            Event::Pong(d) => ("pong".into(), d.to_vec()),
            Event::Close { code, reason } => (format!("close {code}"), reason.to_vec()),
        }
    }

    fn cfg(server: bool) -> DecoderConfig {
        DecoderConfig {
            server,
            max_payload: 0,
            max_fragments: 0,
            max_buffered_chunks: 0,
            skip_utf8_validation: false,
        }
    }

    fn run(d: &mut Decoder, input: &[u8]) -> (Vec<(String, Vec<u8>)>, Option<ProtocolError>) {
        let mut out = Vec::new();
        let mut buf = input.to_vec();
        let r = d.feed(&mut buf, &mut |e| out.push(owned(e)));
        (out, r.err())
    }

    #[test]
    fn decodes_masked_frames_byte_by_byte() {
        let mut input = encode(OP_TEXT, true, &[b"hello"], Some([1, 2, 3, 4]));
        input.extend(encode(OP_BINARY, true, &[&[7u8; 300]], Some([9, 8, 7, 6])));
        input.extend(encode(OP_PING, true, &[b"p"], Some([0, 0, 0, 1])));
        let mut d = Decoder::new(cfg(true));
        let mut all = Vec::new();
        for b in &input {
            let (out, err) = run(&mut d, std::slice::from_ref(b));
            assert!(err.is_none());
            all.extend(out);
        }
        assert_eq!(
            all,
            vec![
                ("text".into(), b"hello".to_vec()),
                ("binary".into(), vec![7u8; 300]),
                ("ping".into(), b"p".to_vec())
            ]
        );
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn joins_fragments_around_control_frames() {
        let mut input = encode(OP_TEXT, false, &[b"ab"], None);
        input.extend(encode(OP_PONG, true, &[], None));
        input.extend(encode(OP_CONT, true, &[b"cd"], None));
        let (out, err) = run(&mut Decoder::new(cfg(false)), &input);
        assert!(err.is_none());
        assert_eq!(
            out,
            vec![("pong".into(), vec![]), ("text".into(), b"abcd".to_vec())]
        );
    }

    #[test]
    fn server_rejects_unmasked_frames() {
        let input = encode(OP_TEXT, true, &[b"x"], None);
        let (_, err) = run(&mut Decoder::new(cfg(true)), &input);
        let err = err.unwrap();
        assert_eq!(err.status, 1002);
        assert_eq!(err.code, "WS_ERR_EXPECTED_MASK");
        assert_eq!(err.message, "Invalid WebSocket frame: MASK must be set");
    }

    #[test]
    fn counts_the_inputs_an_unfinished_frame_is_spread_over() {
        let frame = encode(OP_BINARY, true, &[&[7u8; 200]], None);
        // Three inputs may hold the frame's start; the fourth is refused, as ws refuses a
        // chunk when `maxBufferedChunks` are buffered.
        let mut d = Decoder::new(DecoderConfig {
            max_buffered_chunks: 3,
            ..cfg(false)
        });
        for part in frame[..30].chunks(10) {
            assert_eq!(run(&mut d, part), (vec![], None));
        }
        let (_, err) = run(&mut d, &frame[30..40]);
        let err = err.unwrap();
        assert_eq!(
            (err.status, err.code),
            (1008, "WS_ERR_TOO_MANY_BUFFERED_PARTS")
        );
        assert_eq!(
            (err.message.as_str(), err.range),
            ("Too many buffered chunks", true)
        );
        assert!(d.is_done());
        // A completed frame frees its inputs: the next frame counts from its own first input.
        let mut d = Decoder::new(DecoderConfig {
            max_buffered_chunks: 2,
            ..cfg(false)
        });
        let two = [&frame[..], &frame[..]].concat();
        let (out, err) = run(&mut d, &two[..150]);
        assert_eq!((out.len(), err), (0, None));
        let (out, err) = run(&mut d, &two[150..frame.len() + 20]);
        assert_eq!((out.len(), err), (1, None));
        let (out, err) = run(&mut d, &two[frame.len() + 20..]);
        assert_eq!((out.len(), err), (1, None));
    }

    #[test]
    fn limits_and_utf8() {
        let mut d = Decoder::new(DecoderConfig {
            max_payload: 4,
            ..cfg(false)
        });
        let (_, err) = run(&mut d, &encode(OP_BINARY, true, &[b"12345"], None)[..3]);
        assert_eq!(err.unwrap().message, "Max payload size exceeded");
        assert!(d.is_done());

        let (_, err) = run(
            &mut Decoder::new(cfg(false)),
            &encode(OP_TEXT, true, &[&[0xff, 0xfe]], None),
        );
        let err = err.unwrap();
        assert_eq!(
            (err.status, err.code, err.range),
            (1007, "WS_ERR_INVALID_UTF8", false)
        );
    }

    #[test]
    fn close_frames() {
        let (out, err) = run(
            &mut Decoder::new(cfg(false)),
            &encode(OP_CLOSE, true, &[&1000u16.to_be_bytes(), b"bye"], None),
        );
        assert!(err.is_none());
        assert_eq!(out, vec![("close 1000".into(), b"bye".to_vec())]);
        let (_, err) = run(
            &mut Decoder::new(cfg(false)),
            &encode(OP_CLOSE, true, &[&1005u16.to_be_bytes()], None),
        );
        assert_eq!(
            err.unwrap().message,
            "Invalid WebSocket frame: invalid status code 1005"
        );
        let (_, err) = run(&mut Decoder::new(cfg(false)), &[0x88, 0x01, 0x03]);
        assert_eq!(
            err.unwrap().message,
            "Invalid WebSocket frame: invalid payload length 1"
        );
    }

    #[test]
    fn header_checks_in_ws_order() {
        let msg = |bytes: &[u8]| run(&mut Decoder::new(cfg(false)), bytes).1.unwrap().message;
        assert_eq!(
            msg(&[0xa1, 0x00]),
            "Invalid WebSocket frame: RSV2 and RSV3 must be clear"
        );
        assert_eq!(
            msg(&[0xc1, 0x00]),
            "Invalid WebSocket frame: RSV1 must be clear"
        );
        assert_eq!(
            msg(&[0x80, 0x00]),
            "Invalid WebSocket frame: invalid opcode 0"
        );
        assert_eq!(
            msg(&[0x83, 0x00]),
            "Invalid WebSocket frame: invalid opcode 3"
        );
        assert_eq!(
            msg(&[0x09, 0x00]),
            "Invalid WebSocket frame: FIN must be set"
        );
        assert_eq!(
            msg(&[0x81, 0x80]),
            "Invalid WebSocket frame: MASK must be clear"
        );
        assert_eq!(
            msg(&[0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
            "Unsupported WebSocket frame: payload length > 2^53 - 1"
        );
    }

    #[test]
    fn mask_roundtrip_and_header_sizes() {
        let mut data: Vec<u8> = (0..=255).collect();
        apply_mask(&mut data, [1, 2, 3, 4]);
        apply_mask(&mut data, [1, 2, 3, 4]);
        assert_eq!(data, (0..=255).collect::<Vec<u8>>());
        assert_eq!(encode(OP_TEXT, true, &[&[0; 125]], None).len(), 127);
        assert_eq!(encode(OP_TEXT, true, &[&[0; 126]], None).len(), 130);
        assert_eq!(encode(OP_TEXT, true, &[&[0; 70000]], None).len(), 70010);
        assert_eq!(header(OP_TEXT, true, 70000, Some([1, 2, 3, 4])).1, 14);
        assert_eq!(header(OP_BINARY, false, 300, None), {
            let mut h = [0u8; 14];
            h[..4].copy_from_slice(&[0x02, 126, 1, 44]);
            (h, 4)
        });
    }
}
