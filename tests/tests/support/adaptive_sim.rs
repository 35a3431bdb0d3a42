//! The simulation behind `tests/adaptive_simulation.rs` and `examples/adaptive.rs`: a
//! server that can work on `capacity` calls at once (a call takes `base`; the others
//! wait their turn, first come first served, so latency is flat up to the capacity and
//! grows with the queue past it), and callers in a closed loop calling it through a
//! front end (an adaptive limit, a peer's layer, or nothing). Time is tokio's: paused in
//! the test and the plot, real for the peers (they read `std::time::Instant`).

#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

/// The server: `capacity` workers, a first-in-first-out queue in front of them.
pub struct Server {
    base: Duration,
    state: Mutex<ServerState>,
}

struct ServerState {
    capacity: u32,
    busy: u32,
    queue: VecDeque<oneshot::Sender<()>>,
}

/// A worker held by a call; given back (to the next in the queue) when dropped, also by
/// a call cut off by its timeout.
struct Worker<'a>(&'a Server);

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let mut s = self.0.state.lock().unwrap();
        s.busy -= 1;
        Server::dispatch(&mut s);
    }
}

impl Server {
    pub fn new(capacity: u32, base: Duration) -> Arc<Server> {
        Arc::new(Server {
            base,
            state: Mutex::new(ServerState {
                capacity,
                busy: 0,
                queue: VecDeque::new(),
            }),
        })
    }

    /// Hands free workers to the queue.
    fn dispatch(s: &mut ServerState) {
        while s.busy < s.capacity {
            let Some(next) = s.queue.pop_front() else {
                return;
            };
            // A caller that gave up left a closed channel: skip it.
            if next.send(()).is_ok() {
                s.busy += 1;
            }
        }
    }

    /// Calls at the server now, working or queued.
    pub fn calls(&self) -> u32 {
        let s = self.state.lock().unwrap();
        s.busy + s.queue.len() as u32
    }

    pub fn set_capacity(&self, capacity: u32) {
        let mut s = self.state.lock().unwrap();
        s.capacity = capacity;
        Server::dispatch(&mut s);
    }

    /// One call: queued until a worker is free, then `base`. Returns its latency.
    pub async fn call(&self) -> Duration {
        let start = Instant::now();
        let turn = {
            let mut s = self.state.lock().unwrap();
            if s.busy < s.capacity && s.queue.is_empty() {
                s.busy += 1;
                None
            } else {
                let (tx, rx) = oneshot::channel();
                s.queue.push_back(tx);
                Some(rx)
            }
        };
        if let Some(turn) = turn {
            let mut waiting = Waiting {
                server: self,
                turn: Some(turn),
            };
            if let Some(turn) = waiting.turn.as_mut() {
                let _ = turn.await;
            }
            waiting.turn = None;
        }
        let _worker = Worker(self);
        tokio::time::sleep(self.base).await;
        start.elapsed()
    }
}

/// A call waiting in the queue. Cut off there (its caller's timeout), it gives back a
/// worker that was handed to it in the meantime.
struct Waiting<'a> {
    server: &'a Server,
    turn: Option<oneshot::Receiver<()>>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(mut turn) = self.turn.take() {
            turn.close();
            if turn.try_recv().is_ok() {
                let mut s = self.server.state.lock().unwrap();
                s.busy -= 1;
                Server::dispatch(&mut s);
            }
        }
    }
}

/// What one call through a front end came to.
pub enum Outcome {
    /// Served, after this latency at the server.
    Served(Duration),
    /// Refused by the front end; try again after this.
    Refused(Duration),
    /// Cut off by the caller's timeout.
    TimedOut,
}

pub type Call = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// A way of calling the server: through a limit, or not.
pub trait Front: Send + Sync + 'static {
    /// One call.
    fn call(&self, server: Arc<Server>) -> Call;
    /// The limit and the calls it has in flight now, where the front end says.
    fn gauge(&self) -> (Option<u32>, u32);
}

/// One point of the time series.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    pub t: f64,
    pub capacity: u32,
    pub limit: Option<u32>,
    /// Calls at the server, working or queued.
    pub in_flight: u32,
    /// Median server latency of the calls that ended in the last tick, in ms.
    pub latency_ms: Option<f64>,
}

/// What a phase (one capacity) came to, over its second half.
#[derive(Clone, Debug)]
pub struct PhaseStats {
    pub capacity: u32,
    pub median_latency_ms: f64,
    /// Calls served per second, against the capacity's `capacity / base`.
    pub throughput: f64,
    pub capacity_throughput: f64,
    pub median_limit: Option<f64>,
    pub refused: u64,
    pub timed_out: u64,
    /// Seconds from the phase's start until the limit stays within `[0.8 C, 2 C]`.
    pub settle_secs: Option<f64>,
}

/// The scenario: callers, base latency, the phases' capacities and lengths, the caller's
/// timeout (a timeout is a drop for the limit).
#[derive(Clone, Debug)]
pub struct Scenario {
    pub callers: u32,
    pub base: Duration,
    pub phases: Vec<(u32, Duration)>,
    pub timeout: Duration,
    pub tick: Duration,
}

impl Scenario {
    /// 100 callers, 20 ms, capacity 20, then 10, then 20 again, `secs` each.
    pub fn standard(secs: u64) -> Scenario {
        Scenario {
            callers: 100,
            base: Duration::from_millis(20),
            phases: vec![
                (20, Duration::from_secs(secs)),
                (10, Duration::from_secs(secs)),
                (20, Duration::from_secs(secs)),
            ],
            timeout: Duration::from_millis(30),
            tick: Duration::from_millis(100),
        }
    }
}

#[derive(Default)]
struct Tally {
    latencies: Vec<(f64, f64)>,
    refused: Vec<f64>,
    timed_out: Vec<f64>,
}

/// Runs `scenario` against `front`; returns the time series and each phase's figures.
pub async fn run(scenario: &Scenario, front: Arc<dyn Front>) -> (Vec<Point>, Vec<PhaseStats>) {
    let server = Server::new(scenario.phases[0].0, scenario.base);
    let start = Instant::now();
    let total: Duration = scenario.phases.iter().map(|p| p.1).sum();
    let end = start + total;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut callers = Vec::new();
    for _ in 0..scenario.callers {
        let (front, server, tally) = (front.clone(), server.clone(), tally.clone());
        let timeout = scenario.timeout;
        callers.push(tokio::spawn(async move {
            while Instant::now() < end {
                let outcome = front.call(server.clone()).await;
                let t = start.elapsed().as_secs_f64();
                match outcome {
                    Outcome::Served(latency) => tally
                        .lock()
                        .unwrap()
                        .latencies
                        .push((t, latency.as_secs_f64() * 1e3)),
                    Outcome::Refused(wait) => {
                        tally.lock().unwrap().refused.push(t);
                        tokio::time::sleep(wait.max(Duration::from_micros(100))).await;
                    }
                    Outcome::TimedOut => tally.lock().unwrap().timed_out.push(t),
                }
                let _ = timeout;
            }
        }));
    }
    // The capacity changes, and the gauge each tick.
    let mut series = Vec::new();
    let mut boundaries = Vec::new();
    let mut phase_end = Duration::ZERO;
    let mut last_tick_latencies = 0usize;
    for &(capacity, length) in &scenario.phases {
        server.set_capacity(capacity);
        boundaries.push((
            phase_end.as_secs_f64(),
            (phase_end + length).as_secs_f64(),
            capacity,
        ));
        phase_end += length;
        while start.elapsed() < phase_end {
            tokio::time::sleep(scenario.tick).await;
            let (limit, _) = front.gauge();
            let in_flight = server.calls();
            let latency_ms = {
                let tally = tally.lock().unwrap();
                let mut recent: Vec<f64> = tally.latencies[last_tick_latencies..]
                    .iter()
                    .map(|l| l.1)
                    .collect();
                last_tick_latencies = tally.latencies.len();
                median(&mut recent)
            };
            series.push(Point {
                t: start.elapsed().as_secs_f64(),
                capacity,
                limit,
                in_flight,
                latency_ms,
            });
        }
    }
    for caller in callers {
        caller.await.unwrap();
    }
    let tally = tally.lock().unwrap();
    let stats = boundaries
        .iter()
        .map(|&(from, to, capacity)| {
            let half = (from + to) / 2.0;
            let mut latencies: Vec<f64> = tally
                .latencies
                .iter()
                .filter(|l| l.0 >= half && l.0 < to)
                .map(|l| l.1)
                .collect();
            let served = latencies.len() as f64;
            let mut limits: Vec<f64> = series
                .iter()
                .filter(|p| p.t >= half && p.t < to)
                .filter_map(|p| p.limit.map(f64::from))
                .collect();
            let settle_secs = series
                .iter()
                .filter(|p| p.t >= from && p.t < to)
                .filter(|p| match p.limit {
                    Some(l) => {
                        let c = f64::from(capacity);
                        !(0.8 * c..=2.0 * c).contains(&f64::from(l))
                    }
                    None => true,
                })
                .map(|p| p.t - from)
                .fold(None, |last: Option<f64>, t| {
                    Some(last.map_or(t, |l| l.max(t)))
                })
                .map_or(Some(0.0), |t| (t < to - from - 1.0).then_some(t));
            PhaseStats {
                capacity,
                median_latency_ms: median(&mut latencies).unwrap_or(f64::NAN),
                throughput: served / (to - half),
                capacity_throughput: f64::from(capacity) / scenario.base.as_secs_f64(),
                median_limit: median(&mut limits),
                refused: tally
                    .refused
                    .iter()
                    .filter(|t| **t >= half && **t < to)
                    .count() as u64,
                timed_out: tally
                    .timed_out
                    .iter()
                    .filter(|t| **t >= half && **t < to)
                    .count() as u64,
                settle_secs,
            }
        })
        .collect();
    (series, stats)
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    Some(values[values.len() / 2])
}

/// No limit: every caller calls the server at once.
pub struct Unlimited;

impl Front for Unlimited {
    fn call(&self, server: Arc<Server>) -> Call {
        Box::pin(async move { Outcome::Served(server.call().await) })
    }

    fn gauge(&self) -> (Option<u32>, u32) {
        (None, 0)
    }
}

/// Ours: an `AdaptiveLimiter`, the call cut off by the caller's timeout inside it (so
/// a timeout is a drop).
pub struct Ours {
    pub limiter: Arc<resilience::adaptive_limit::AdaptiveLimiter>,
    pub timeout: Duration,
}

impl Front for Ours {
    fn call(&self, server: Arc<Server>) -> Call {
        let (limiter, timeout) = (self.limiter.clone(), self.timeout);
        Box::pin(async move {
            let permit = match limiter.acquire(resilience::Priority::Normal).await {
                Ok(permit) => permit,
                Err(refused) => return Outcome::Refused(refused.retry_after),
            };
            match tokio::time::timeout(timeout, server.call()).await {
                Ok(latency) => {
                    permit.succeeded();
                    Outcome::Served(latency)
                }
                Err(_) => {
                    permit.dropped();
                    Outcome::TimedOut
                }
            }
        })
    }

    fn gauge(&self) -> (Option<u32>, u32) {
        (Some(self.limiter.limit()), self.limiter.in_flight())
    }
}
