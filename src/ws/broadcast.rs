//! Fan-out: a frame is built once and queued on many connections (each queue holds a reference
//! to the same bytes), in the order of the calls relative to every other send on each socket.
//! Topics map a name to the connections subscribed to it; a connection leaves every topic when
//! it finishes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::connection::{Conn, QUEUED};

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

    /// Queues `frame` on every subscriber of `topic` except those in `except`. Returns how many
    /// connections it was queued on.
    pub fn publish(&self, topic: &str, frame: &Bytes, except: &[u32]) -> usize {
        let map = self.map.lock().unwrap();
        let Some(subs) = map.get(topic) else {
            return 0;
        };
        fan_out(subs.values(), frame, except)
    }
}

/// Queues `frame` on each open connection not in `except`; returns how many took it.
pub fn fan_out<'a>(
    conns: impl Iterator<Item = &'a Arc<Conn>>,
    frame: &Bytes,
    except: &[u32],
) -> usize {
    let mut n = 0;
    for c in conns {
        if except.contains(&c.id) || !c.is_open() {
            continue;
        }
        if c.enqueue(frame.clone(), true, false, false) == QUEUED {
            n += 1;
        }
    }
    n
}
