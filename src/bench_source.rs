//! A native event source for the bridge benchmark only (reachable from the binding, not part of
//! the public API). A tokio task produces events at a fixed rate, or as fast as JS takes them,
//! and delivers them either through the batched [`Bridge`] or with one threadsafe-function call
//! per event (the baseline the bridge is measured against).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use tokio::sync::Notify;

use crate::bridge::{BatchArgs, Bridge, BridgeOptions, Columns, JsBridgeStats};

type PerEventTsfn = ThreadsafeFunction<Event, (), Either<f64, Buffer>, Status, false, false, 0>;

enum Event {
    Number(f64),
    Bytes(Vec<u8>),
}

enum Sink {
    Batched(Bridge),
    PerEvent {
        tsfn: PerEventTsfn,
        in_flight: Arc<AtomicUsize>,
        room: Arc<Notify>,
        high_water_mark: usize,
    },
}

/// A benchmark-only native source. `mode` is `'batched'` or `'per-event'`; `payload` is
/// `'number'` (an `f64` per event) or `'bytes'` (a 16-byte string per event).
#[napi]
pub struct NativeBenchSource {
    sink: Option<Arc<Sink>>,
    bridge: Option<Bridge>,
    bytes: bool,
    stop: Arc<AtomicBool>,
    produced: Arc<AtomicU64>,
    dropped: Arc<AtomicU64>,
    task: Option<tokio::task::JoinHandle<()>>,
}

#[napi]
impl NativeBenchSource {
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "(...args: any[]) => void")] callback: Function<BatchArgs, ()>,
        mode: String,
        payload: String,
        options: Option<BridgeOptions>,
    ) -> Result<Self> {
        let bytes = payload == "bytes";
        let options = options.unwrap_or_default();
        let sink = if mode == "per-event" {
            let high_water_mark = options.high_water_mark.unwrap_or(1 << 20) as usize;
            let in_flight = Arc::new(AtomicUsize::new(0));
            let room = Arc::new(Notify::new());
            let (f, r) = (in_flight.clone(), room.clone());
            let tsfn: PerEventTsfn = callback
                .build_threadsafe_function::<Event>()
                .callee_handled::<false>()
                .build_callback(move |ctx| {
                    f.fetch_sub(1, Ordering::AcqRel);
                    r.notify_waiters();
                    Ok(match ctx.value {
                        Event::Number(n) => Either::A(n),
                        Event::Bytes(b) => Either::B(Buffer::from(b)),
                    })
                })?;
            Sink::PerEvent {
                tsfn,
                in_flight,
                room,
                high_water_mark,
            }
        } else {
            let columns = Columns {
                number: !bytes,
                bytes,
                tag: false,
            };
            Sink::Batched(Bridge::new(&env, callback, options.into_config(columns))?)
        };
        let bridge = match &sink {
            Sink::Batched(b) => Some(b.clone()),
            Sink::PerEvent { .. } => None,
        };
        Ok(NativeBenchSource {
            bridge,
            sink: Some(Arc::new(sink)),
            bytes,
            stop: Arc::new(AtomicBool::new(false)),
            produced: Arc::new(AtomicU64::new(0)),
            dropped: Arc::new(AtomicU64::new(0)),
            task: None,
        })
    }

    /// Starts producing `total` events (0: until closed) at `rate` events/s (0: as fast as JS
    /// takes them, waiting when it falls behind).
    #[napi]
    pub fn start(&mut self, rate: f64, total: f64) {
        if self.task.is_some() {
            return;
        }
        let Some(sink) = self.sink.clone() else {
            return;
        };
        let stop = self.stop.clone();
        let produced = self.produced.clone();
        let dropped = self.dropped.clone();
        let bytes = self.bytes;
        let total = if total <= 0.0 { u64::MAX } else { total as u64 };
        self.task = Some(crate::runtime::spawn(async move {
            let t0 = Instant::now();
            let mut n: u64 = 0;
            let payload = *b"0123456789abcdef";
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            while n < total && !stop.load(Ordering::Acquire) {
                let target = if rate > 0.0 {
                    tick.tick().await;
                    ((t0.elapsed().as_secs_f64() * rate) as u64).min(total)
                } else {
                    (n + 4096).min(total)
                };
                while n < target {
                    if rate <= 0.0 {
                        wait_for_room(&sink).await;
                    }
                    let chunk = (target - n).min(4096);
                    for i in 0..chunk {
                        if !emit(&sink, bytes, (n + i) as f64, &payload) {
                            dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    n += chunk;
                    produced.store(n, Ordering::Relaxed);
                }
            }
            if let Sink::Batched(b) = &*sink {
                b.flush();
            }
        }));
    }

    /// Events produced so far.
    #[napi(getter)]
    pub fn produced(&self) -> f64 {
        self.produced.load(Ordering::Relaxed) as f64
    }

    /// The bridge's counters (`batches` counts threadsafe calls; per-event mode counts events).
    #[napi]
    pub fn stats(&self) -> JsBridgeStats {
        match &self.bridge {
            Some(b) => b.stats().into(),
            None => {
                let produced = self.produced.load(Ordering::Relaxed) as f64;
                let dropped = self.dropped.load(Ordering::Relaxed) as f64;
                JsBridgeStats {
                    delivered: produced - dropped,
                    dropped,
                    batches: produced - dropped,
                }
            }
        }
    }

    /// Stops producing, flushes and lets the process exit.
    #[napi]
    pub fn close(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(task) = self.task.take() {
            task.abort();
        }
        // Dropping the last handle on a threadsafe function releases it.
        match self.sink.take().as_deref() {
            Some(Sink::Batched(b)) => b.close(),
            Some(Sink::PerEvent { room, .. }) => room.notify_waiters(),
            None => {}
        }
    }
}

async fn wait_for_room(sink: &Sink) {
    match sink {
        Sink::Batched(b) => b.reserve().await,
        Sink::PerEvent {
            in_flight,
            room,
            high_water_mark,
            ..
        } => loop {
            let notified = room.notified();
            if in_flight.load(Ordering::Acquire) < *high_water_mark {
                return;
            }
            notified.await;
        },
    }
}

fn emit(sink: &Sink, bytes: bool, n: f64, payload: &[u8; 16]) -> bool {
    match sink {
        Sink::Batched(b) => b.push(0, n, payload),
        Sink::PerEvent {
            tsfn,
            in_flight,
            high_water_mark,
            ..
        } => {
            if in_flight.load(Ordering::Acquire) >= *high_water_mark {
                return false;
            }
            in_flight.fetch_add(1, Ordering::AcqRel);
            let ev = if bytes {
                Event::Bytes(payload.to_vec())
            } else {
                Event::Number(n)
            };
            tsfn.call(ev, ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
        }
    }
}
