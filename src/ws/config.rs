//! Per-connection configuration: limits, timers and the backpressure policy.

use std::time::Duration;

use napi_derive::napi;

use super::frame::DecoderConfig;

/// What a connection does when a send would push its queued bytes past `max_backpressure`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackpressurePolicy {
    /// Queue anyway (the `ws` behaviour): memory grows with what the peer does not read.
    Buffer,
    /// Skip the message for this connection and count it.
    Drop,
    /// Close the connection with status 1008.
    Close,
}

/// A connection's settings. JS validates the values; defaults are those of `ws` 8.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ConnConfig {
    /// The server side of the connection (expects masked frames, sends unmasked ones).
    pub server: bool,
    /// Largest message accepted, in bytes; 0 means no limit. Default 100 MiB. Guards against a
    /// peer that makes the process buffer an unbounded message.
    pub max_payload: u64,
    /// Most fragments in one message; 0 means no limit. Default 16,384.
    pub max_fragments: u32,
    /// Most socket reads an unfinished frame may be spread over; 0 means no limit. Default
    /// 262,144 (ws's).
    pub max_buffered_chunks: u32,
    /// Skip UTF-8 validation of text messages and close reasons. Default false.
    pub skip_utf8_validation: bool,
    /// Answer pings with pongs in Rust. Default true.
    pub auto_pong: bool,
    /// Automatic pongs queued and not yet written (counted since the output queue was last
    /// empty) at which the connection is terminated, as ws does; 0 means no limit. Default 60.
    pub max_pending_auto_pongs: u32,
    /// How long after a close frame is sent the socket is destroyed if the handshake has not
    /// finished. Default 30 s.
    pub close_timeout: Duration,
    /// Queued outbound bytes beyond which `policy` applies. Default 16 MiB.
    pub max_backpressure: u64,
    /// What to do beyond `max_backpressure`. Default [`BackpressurePolicy::Buffer`].
    pub policy: BackpressurePolicy,
    /// With no inbound frame for this long a ping is sent; if another period passes without one
    /// the connection is terminated. `None` (the default) disables it.
    pub idle_timeout: Option<Duration>,
}

impl Default for ConnConfig {
    fn default() -> Self {
        ConnConfig {
            server: true,
            max_payload: 100 * 1024 * 1024,
            max_fragments: 16 * 1024,
            max_buffered_chunks: 256 * 1024,
            skip_utf8_validation: false,
            auto_pong: true,
            max_pending_auto_pongs: 60,
            close_timeout: Duration::from_secs(30),
            max_backpressure: 16 * 1024 * 1024,
            policy: BackpressurePolicy::Buffer,
            idle_timeout: None,
        }
    }
}

impl ConnConfig {
    /// The decoder settings of this connection.
    pub fn decoder(&self) -> DecoderConfig {
        DecoderConfig {
            server: self.server,
            max_payload: self.max_payload,
            max_fragments: self.max_fragments,
            max_buffered_chunks: self.max_buffered_chunks,
            skip_utf8_validation: self.skip_utf8_validation,
        }
    }
}

/// Connection options as JS passes them to `adopt`.
#[napi(object)]
#[derive(Default)]
pub struct ConnOptions {
    /// The server side of the connection. Default true.
    pub server: Option<bool>,
    /// Largest message in bytes; 0 disables the limit. Default 104857600 (100 MiB).
    pub max_payload: Option<f64>,
    /// Most fragments per message; 0 disables the limit. Default 16384.
    pub max_fragments: Option<u32>,
    /// Most socket reads an unfinished frame may be spread over; 0 or less: no limit.
    pub max_buffered_chunks: Option<f64>,
    /// Skip UTF-8 validation. Default false.
    pub skip_utf8_validation: Option<bool>,
    /// Answer pings automatically. Default true.
    pub auto_pong: Option<bool>,
    /// Pending automatic pongs at which the connection is terminated; 0 or less: no limit.
    /// Default 60.
    pub max_pending_auto_pongs: Option<f64>,
    /// Milliseconds to wait for the closing handshake. Default 30000.
    pub close_timeout: Option<f64>,
    /// Queued outbound bytes beyond which `backpressure` applies. Default 16777216 (16 MiB).
    pub max_backpressure: Option<f64>,
    /// `'buffer'` (default), `'drop'` or `'close'`.
    pub backpressure: Option<String>,
    /// Milliseconds without inbound frames before a ping; 0 (default) disables it.
    pub idle_timeout: Option<f64>,
}

impl ConnOptions {
    /// Fills defaults.
    pub fn into_config(self) -> ConnConfig {
        let d = ConnConfig::default();
        ConnConfig {
            server: self.server.unwrap_or(d.server),
            max_payload: self
                .max_payload
                .map_or(d.max_payload, |v| v.max(0.0) as u64),
            max_fragments: self.max_fragments.unwrap_or(d.max_fragments),
            // ws coerces it to a 32-bit integer.
            max_buffered_chunks: self
                .max_buffered_chunks
                .map_or(d.max_buffered_chunks, |v| (v as i32).max(0) as u32),
            skip_utf8_validation: self.skip_utf8_validation.unwrap_or(d.skip_utf8_validation),
            auto_pong: self.auto_pong.unwrap_or(d.auto_pong),
            // ws coerces it to a 32-bit integer.
            max_pending_auto_pongs: self
                .max_pending_auto_pongs
                .map_or(d.max_pending_auto_pongs, |v| (v as i32).max(0) as u32),
            close_timeout: self.close_timeout.map_or(d.close_timeout, |ms| {
                Duration::from_secs_f64(ms.max(0.0) / 1000.0)
            }),
            max_backpressure: self
                .max_backpressure
                .map_or(d.max_backpressure, |v| v.max(0.0) as u64),
            policy: match self.backpressure.as_deref() {
                Some("drop") => BackpressurePolicy::Drop,
                Some("close") => BackpressurePolicy::Close,
                _ => BackpressurePolicy::Buffer,
            },
            idle_timeout: self
                .idle_timeout
                .filter(|ms| *ms > 0.0)
                .map(|ms| Duration::from_secs_f64(ms / 1000.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_ws_defaults() {
        let c = ConnOptions::default().into_config();
        assert_eq!(c.max_payload, 104_857_600);
        assert_eq!(c.close_timeout, Duration::from_secs(30));
        assert!(c.auto_pong && c.server && c.idle_timeout.is_none());
        assert_eq!(c.max_pending_auto_pongs, 60);
        assert_eq!(c.policy, BackpressurePolicy::Buffer);
    }

    #[test]
    fn converts_units_and_policy() {
        let c = ConnOptions {
            server: Some(false),
            close_timeout: Some(250.0),
            idle_timeout: Some(1500.0),
            backpressure: Some("drop".into()),
            ..Default::default()
        }
        .into_config();
        assert!(!c.server);
        assert_eq!(c.close_timeout, Duration::from_millis(250));
        assert_eq!(c.idle_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(c.policy, BackpressurePolicy::Drop);
        assert!(!c.decoder().server);
        for (given, kept) in [(-3.0, 0), (0.0, 0), (7.9, 7)] {
            let c = ConnOptions {
                max_pending_auto_pongs: Some(given),
                ..Default::default()
            }
            .into_config();
            assert_eq!(c.max_pending_auto_pongs, kept);
        }
    }
}
