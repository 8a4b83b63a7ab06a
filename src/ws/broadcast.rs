//! Fan-out: a frame is built once and queued on many connections (each queue holds a reference
//! to the same bytes), in the order of the calls relative to every other send on each socket.
//! Topics map a name to the connections subscribed to it; a connection leaves every topic when
//! it finishes.
//!
//! The JS thread's part of a broadcast is O(1): it appends the frame to the hub's fan-out log
//! under the next sequence number and wakes the hub's fan-out task, which queues it on every
//! connection. Order is kept because every connection records the last sequence number it has
//! taken (`Conn::catch_up`): a send, close or (un)subscribe from JS first catches its own
//! connection up, so its frame lands after every broadcast issued before it, and a publish only
//! reaches the connections subscribed when it was issued. Log entries go once every connection
//! has passed them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::connection::Conn;

/// The subscribers of one topic, by connection id.
type Subscribers = HashMap<u32, Arc<Conn>>;

/// Topic name → subscribers.
#[derive(Default)]
pub struct Topics {
    map: Mutex<HashMap<Arc<str>, Subscribers>>,
}

impl Topics {
    /// Subscribes `conn` to `topic`. Returns false if it already was, or has finished.
    pub fn subscribe(&self, conn: &Arc<Conn>, topic: &str) -> bool {
        if conn.is_finished() {
            return false;
        }
        let mut map = self.map.lock().unwrap();
        let key: Arc<str> = match map.get_key_value(topic) {
            Some((k, _)) => k.clone(),
            None => Arc::from(topic),
        };
        let subs = map.entry(key.clone()).or_default();
        if subs.insert(conn.id, conn.clone()).is_some() {
            return false;
        }
        conn.topics.lock().unwrap().push(key);
        true
    }

    /// Unsubscribes `conn` from `topic`. Returns false if it was not subscribed.
    pub fn unsubscribe(&self, conn: &Conn, topic: &str) -> bool {
        let mut map = self.map.lock().unwrap();
        let Some(subs) = map.get_mut(topic) else {
            return false;
        };
        if subs.remove(&conn.id).is_none() {
            return false;
        }
        if subs.is_empty() {
            map.remove(topic);
        }
        conn.topics.lock().unwrap().retain(|t| &**t != topic);
        true
    }

    /// Removes `conn` from every topic it is subscribed to.
    pub fn remove_all(&self, conn: &Conn) {
        let topics = std::mem::take(&mut *conn.topics.lock().unwrap());
        if topics.is_empty() {
            return;
        }
        let mut map = self.map.lock().unwrap();
        for t in topics {
            if let Some(subs) = map.get_mut(&t) {
                subs.remove(&conn.id);
                if subs.is_empty() {
                    map.remove(&t);
                }
            }
        }
    }

    /// Connections subscribed to `topic`.
    pub fn count(&self, topic: &str) -> usize {
        self.map.lock().unwrap().get(topic).map_or(0, |s| s.len())
    }

    /// Whether `conn` is subscribed to `topic`.
    pub fn is_subscribed(conn: &Conn, topic: &str) -> bool {
        conn.topics.lock().unwrap().iter().any(|t| &**t == topic)
    }

    /// How many subscribers of `topic` are not in `except`.
    pub fn count_except(&self, topic: &str, except: &[u32]) -> usize {
        let map = self.map.lock().unwrap();
        map.get(topic).map_or(0, |subs| {
            subs.len() - except.iter().filter(|id| subs.contains_key(id)).count()
        })
    }
}

/// One broadcast or publish, waiting in the hub's log until every connection has taken it.
pub struct LogEntry {
    /// The hub sequence number of this fan-out.
    pub seq: u64,
    /// The finished frame.
    pub frame: Bytes,
    /// Connection ids that skip it.
    pub except: Vec<u32>,
    /// For a publish, the topic; its subscribers at the time of the call get it.
    pub topic: Option<Arc<str>>,
}

/// The frames of several log entries back to back, for a fan-out pass where every entry goes
/// to the same connections (no `except`, one topic or none).
pub struct Joined {
    /// The sequence number of the first entry.
    pub first: u64,
    pub bytes: Bytes,
    pub topic: Option<Arc<str>>,
}

impl Joined {
    /// Joins `entries` when there are at least two and they share their audience.
    pub fn of(entries: &[Arc<LogEntry>]) -> Option<Joined> {
        let first = entries.first()?;
        if entries.len() < 2
            || entries
                .iter()
                .any(|e| !e.except.is_empty() || e.topic != first.topic)
        {
            return None;
        }
        let len = entries.iter().map(|e| e.frame.len()).sum();
        let mut buf = Vec::with_capacity(len);
        for e in entries {
            buf.extend_from_slice(&e.frame);
        }
        Some(Joined {
            first: first.seq,
            bytes: Bytes::from(buf),
            topic: first.topic.clone(),
        })
    }
}
