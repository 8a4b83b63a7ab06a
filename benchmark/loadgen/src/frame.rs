//! Minimal RFC 6455 framing for the load generator's hot path.
//!
//! The generator must not be the bottleneck, so it does not build a frame per message: a client
//! frame (masked, as the RFC requires of clients) is encoded once and written again and again, and
//! server frames (unmasked) are parsed in place, reading only the header and, for latency, the
//! first 8 payload bytes. Correctness is checked against tungstenite in this module's tests and in
//! `tests/against_tungstenite.rs`.

#[cfg_attr(not(test), allow(dead_code))]
pub const OP_CONTINUATION: u8 = 0x0;
#[cfg_attr(not(test), allow(dead_code))]
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub fin: bool,
    pub opcode: u8,
    pub masked: bool,
    /// Bytes of header, including the masking key if any.
    pub header_len: usize,
    pub payload_len: usize,
}

impl Header {
    /// Whether this frame ends a data message (text/binary/continuation with FIN).
    pub fn ends_message(&self) -> bool {
        self.fin && self.opcode < OP_CLOSE
    }

    pub fn total_len(&self) -> usize {
        self.header_len + self.payload_len
    }
}

/// Parses a frame header at the start of `buf`. `Ok(None)` means more bytes are needed.
pub fn parse_header(buf: &[u8]) -> Result<Option<Header>, String> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let b0 = buf[0];
    let b1 = buf[1];
    if b0 & 0x70 != 0 {
        return Err(format!(
            "reserved bits set (0x{b0:02x}): extensions are not negotiated"
        ));
    }
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0f;
    if !matches!(opcode, 0x0..=0x2 | 0x8..=0xA) {
        return Err(format!("unknown opcode 0x{opcode:x}"));
    }
    let masked = b1 & 0x80 != 0;
    let len7 = (b1 & 0x7f) as usize;
    let (payload_len, mut header_len) = match len7 {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            let len = u64::from_be_bytes(b);
            if len > (1 << 32) {
                return Err(format!(
                    "frame of {len} bytes is beyond what the generator accepts"
                ));
            }
            (len as usize, 10)
        }
        n => (n, 2),
    };
    if masked {
        header_len += 4;
    }
    Ok(Some(Header {
        fin,
        opcode,
        masked,
        header_len,
        payload_len,
    }))
}

/// Appends one complete client frame (FIN set, masked with `mask`) to `out`.
pub fn encode_client_frame(opcode: u8, payload: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= u16::MAX as usize {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
}

/// A per-connection masking key: distinct per connection, cheap, not cryptographic (servers do
/// not check unpredictability; the RFC asks it of browsers to defeat cache poisoning).
pub fn mask_for(index: u64) -> [u8; 4] {
    let mut x = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    (x as u32).to_le_bytes()
}

/// Reads the send timestamp stamped in the first 8 payload bytes (little-endian nanoseconds of
/// CLOCK_MONOTONIC), if the payload is long enough and unmasked.
pub fn stamp(header: &Header, frame: &[u8]) -> Option<u64> {
    stamp_at(header, frame, 0)
}

/// Reads the scheduled send time in payload bytes 8–15, if there is one: it is never later than
/// the send stamp, nor more than a minute earlier (other payload bytes are not a time).
pub fn scheduled(header: &Header, frame: &[u8], sent: u64) -> Option<u64> {
    stamp_at(header, frame, 8).filter(|&t| t <= sent && sent - t < 60_000_000_000)
}

fn stamp_at(header: &Header, frame: &[u8], at: usize) -> Option<u64> {
    let from = header.header_len + at;
    if header.masked || header.payload_len < at + 8 || frame.len() < from + 8 {
        return None;
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&frame[from..from + 8]);
    Some(u64::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tungstenite::protocol::frame::coding::{Data, OpCode};
    use tungstenite::protocol::frame::{Frame, FrameHeader};

    fn tungstenite_server_frame(opcode: OpCode, payload: &[u8], fin: bool) -> Vec<u8> {
        let mut frame = Frame::message(payload.to_vec(), opcode, fin);
        frame.header_mut().mask = None;
        let mut out = Vec::new();
        frame.format(&mut out).unwrap();
        out
    }

    #[test]
    fn parses_tungstenite_frames_of_every_length_class() {
        for len in [
            0usize, 1, 8, 125, 126, 127, 1024, 16384, 65535, 65536, 200_000,
        ] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let bytes = tungstenite_server_frame(OpCode::Data(Data::Binary), &payload, true);
            let h = parse_header(&bytes).unwrap().unwrap();
            assert_eq!(h.payload_len, len, "len {len}");
            assert_eq!(h.total_len(), bytes.len(), "len {len}");
            assert!(h.fin && !h.masked && h.opcode == OP_BINARY && h.ends_message());
            assert_eq!(&bytes[h.header_len..], &payload[..]);
            // Every strict prefix of the header asks for more bytes.
            for cut in 0..h.header_len {
                assert_eq!(
                    parse_header(&bytes[..cut]).unwrap(),
                    None,
                    "len {len} cut {cut}"
                );
            }
        }
    }

    #[test]
    fn fragments_end_a_message_only_at_fin() {
        let first = tungstenite_server_frame(OpCode::Data(Data::Text), b"ab", false);
        let last = tungstenite_server_frame(OpCode::Data(Data::Continue), b"cd", true);
        let h = parse_header(&first).unwrap().unwrap();
        assert_eq!(h.opcode, OP_TEXT);
        assert!(!h.ends_message());
        let h = parse_header(&last).unwrap().unwrap();
        assert_eq!(h.opcode, OP_CONTINUATION);
        assert!(h.ends_message());
        let ping = tungstenite_server_frame(
            OpCode::Control(tungstenite::protocol::frame::coding::Control::Ping),
            b"p",
            true,
        );
        assert!(!parse_header(&ping).unwrap().unwrap().ends_message());
    }

    #[test]
    fn client_frames_decode_with_tungstenite() {
        for len in [0usize, 5, 125, 126, 16384, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let mut out = Vec::new();
            encode_client_frame(OP_BINARY, &payload, mask_for(len as u64), &mut out);
            let mut cursor = std::io::Cursor::new(&out[..]);
            let (header, payload_len) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
            assert_eq!(payload_len as usize, len);
            assert!(header.is_final);
            assert_eq!(header.opcode, OpCode::Data(Data::Binary));
            let mask = header.mask.expect("client frames are masked");
            let start = cursor.position() as usize;
            let unmasked: Vec<u8> = out[start..]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i & 3])
                .collect();
            assert_eq!(unmasked, payload);
            let ours = parse_header(&out).unwrap().unwrap();
            assert!(ours.masked);
            assert_eq!(ours.total_len(), out.len());
        }
    }

    #[test]
    fn reads_the_stamp_and_rejects_reserved_bits() {
        let mut payload = 123_456_789u64.to_le_bytes().to_vec();
        payload.extend_from_slice(&[0; 56]);
        let bytes = tungstenite_server_frame(OpCode::Data(Data::Binary), &payload, true);
        let h = parse_header(&bytes).unwrap().unwrap();
        assert_eq!(stamp(&h, &bytes), Some(123_456_789));
        let short = tungstenite_server_frame(OpCode::Data(Data::Binary), b"1234", true);
        let h = parse_header(&short).unwrap().unwrap();
        assert_eq!(stamp(&h, &short), None);
        assert!(parse_header(&[0xC2, 0x00]).is_err());
        assert!(parse_header(&[0x83, 0x00]).is_err());
    }

    #[test]
    fn masks_differ_between_connections() {
        assert_ne!(mask_for(1), mask_for(2));
    }
}
