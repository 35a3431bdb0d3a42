//! Soak: a million calls from two threads through one function under `#[retry]` and a
//! `#[circuit_breaker]` with a time window, a failure rate and `record_if`, failing at
//! random (seeded), with every call accounted for and memory flat.
//!
//! Ignored by default; `.ci/run` runs it in release mode:
//!
//! ```text
//! cargo test -p resilience-tests --release --test soak -- --ignored --nocapture
//! ```
//!
//! `SOAK_CALLS` (default 1 000 000, both threads together) caps the calls and
//! `SOAK_SECONDS` (default 20) the time; `SOAK_SEED` fixes the dice (the seed is printed;
//! health and outage follow the clock, so the counts still vary from run to run).
//!
//! Checked: successes + failures + rejections = calls; each call's body runs match its
//! outcome (only a transient failure is retried, a refusal ends the call); attempts =
//! body runs + rejections; the breaker counted exactly the refusals the callers saw; the
//! monitor recorded each failed run once and keeps its history at its bound (2 000 here,
//! so the failures overflow it many times); the resident set grows by less than 8 MiB
//! between 10 % of the calls and the end.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use resilience::{
    circuit_breaker, monitor, registry, retry, CircuitOpen, MarcusError, MonitorConfig,
};

#[derive(Debug, thiserror::Error, MarcusError)]
enum SoakError {
    /// Retried, and counted by the breaker.
    #[error("the dependency failed")]
    #[marcus(category = transient)]
    Down,
    /// Not retried, and not a failure for the breaker (the dependency answered).
    #[error("no such item")]
    #[marcus(category = business_logic)]
    NotFound,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

fn is_outage(e: &SoakError) -> bool {
    matches!(e, SoakError::Down)
}

/// One caller's dice, and what the body did during the current call.
struct Dice {
    rng: SmallRng,
    p_down: f64,
    runs: u32,
    down: u32,
    not_found: u32,
}

#[retry(max_attempts = 2, backoff = none)]
#[circuit_breaker(
    name = "soak",
    window = 1s,
    max_failures_per_window = 50,
    failure_rate = 50,
    minimum_calls = 20,
    window_size = 100,
    recovery_timeout = 10ms,
    record_if = is_outage
)]
fn call(dice: &mut Dice) -> Result<(), SoakError> {
    dice.runs += 1;
    work();
    let roll: f64 = dice.rng.random();
    if roll < dice.p_down {
        dice.down += 1;
        Err(SoakError::Down)
    } else if roll < dice.p_down + P_NOT_FOUND {
        dice.not_found += 1;
        Err(SoakError::NotFound)
    } else {
        Ok(())
    }
}

/// Half a microsecond or so of work: the dependency's, in the body, and the caller's own
/// between calls. Without the latter a refusal would cost a hundred nanoseconds and the
/// 10 ms open periods would take nearly every one of the million calls.
fn work() {
    let mut x = 1u64;
    for _ in 0..500 {
        x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
}

/// Time runs in cycles of a healthy stretch (rare outages: the breaker closes and stays
/// closed) and an outage (half the runs fail: it opens, probes every 10 ms, re-opens).
const HEALTHY_FOR: Duration = Duration::from_millis(60);
const OUTAGE_FOR: Duration = Duration::from_millis(20);
const P_DOWN_HEALTHY: f64 = 0.000_02;
const P_DOWN_OUTAGE: f64 = 0.5;
/// Answers that are errors but not outages, all the time.
const P_NOT_FOUND: f64 = 0.01;
const MAX_RSS_GROWTH: u64 = 8 << 20;
const HISTORY_CAPACITY: usize = 2_000;

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    calls: u64,
    successes: u64,
    /// Calls that returned the body's error: `Down` twice, or `NotFound`.
    failures: u64,
    failures_not_found: u64,
    rejections: u64,
    body_runs: u64,
    body_errors: u64,
    attempts: u64,
}

impl Tally {
    fn add(&mut self, o: Tally) {
        self.calls += o.calls;
        self.successes += o.successes;
        self.failures += o.failures;
        self.failures_not_found += o.failures_not_found;
        self.rejections += o.rejections;
        self.body_runs += o.body_runs;
        self.body_errors += o.body_errors;
        self.attempts += o.attempts;
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The resident set size, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kib * 1024
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// One caller: `share` calls, or fewer if the deadline passes; when `sampler`, samples the
/// resident set into `early_rss` after a tenth of its calls.
fn caller(
    seed: u64,
    share: u64,
    (started, deadline): (Instant, Instant),
    sampler: bool,
    early_rss: &OnceLock<u64>,
) -> Tally {
    let mut dice = Dice {
        rng: SmallRng::seed_from_u64(seed),
        p_down: P_DOWN_HEALTHY,
        runs: 0,
        down: 0,
        not_found: 0,
    };
    let cycle = (HEALTHY_FOR + OUTAGE_FOR).as_nanos();
    let mut t = Tally::default();
    for i in 0..share {
        if i % 256 == 0 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let healthy = (now - started).as_nanos() % cycle < HEALTHY_FOR.as_nanos();
            dice.p_down = if healthy {
                P_DOWN_HEALTHY
            } else {
                P_DOWN_OUTAGE
            };
        }
        if sampler && i == share / 10 {
            let _ = early_rss.set(rss());
        }
        (dice.runs, dice.down, dice.not_found) = (0, 0, 0);
        work();
        let outcome = call(&mut dice);
        let (runs, down, nf) = (
            u64::from(dice.runs),
            u64::from(dice.down),
            u64::from(dice.not_found),
        );
        let what = format_args!("{runs} runs, {down} down, {nf} not found");
        match outcome {
            // The last run succeeded; only a `Down` before it was retried.
            Ok(()) => {
                assert!(
                    runs >= 1 && down == runs - 1 && nf == 0,
                    "success after {what}"
                );
                t.successes += 1;
                t.attempts += runs;
            }
            // Both attempts ran and failed.
            Err(SoakError::Down) => {
                assert!(runs == 2 && down == 2 && nf == 0, "failure after {what}");
                t.failures += 1;
                t.attempts += runs;
            }
            // Not retried: the last run's answer, after at most one `Down`.
            Err(SoakError::NotFound) => {
                assert!(
                    runs >= 1 && nf == 1 && down == runs - 1,
                    "not found after {what}"
                );
                t.failures += 1;
                t.failures_not_found += 1;
                t.attempts += runs;
            }
            // Refused at the first attempt, or at the retry of a `Down`: a refusal is not
            // retryable, so it ends the call.
            Err(SoakError::Open(_)) => {
                assert!(
                    runs <= 1 && down == runs && nf == 0,
                    "rejection after {what}"
                );
                t.rejections += 1;
                t.attempts += runs + 1;
            }
        }
        t.calls += 1;
        t.body_runs += runs;
        t.body_errors += down + nf;
    }
    t
}

#[test]
#[ignore = "a soak: run by .ci/run in release mode (see the module docs)"]
fn a_million_calls_are_all_accounted_for_and_memory_stays_flat() {
    const THREADS: u64 = 2;
    let calls = env_u64("SOAK_CALLS").unwrap_or(1_000_000);
    let limit = Duration::from_secs(env_u64("SOAK_SECONDS").unwrap_or(20));
    let seed = env_u64("SOAK_SEED").unwrap_or_else(|| SmallRng::from_os_rng().next_u64());
    println!("soak: {calls} calls on {THREADS} threads, at most {limit:?}, SOAK_SEED={seed}");

    monitor()
        .configure(MonitorConfig {
            history_capacity: HISTORY_CAPACITY,
            ..monitor().config()
        })
        .expect("a valid monitor configuration");
    let recorded_before = monitor().total_recorded();
    let early_rss = Arc::new(OnceLock::new());
    let rss_start = rss();
    let started = Instant::now();
    let deadline = started + limit;
    let threads: Vec<_> = (0..THREADS)
        .map(|n| {
            let early_rss = early_rss.clone();
            let share = calls / THREADS + u64::from(n < calls % THREADS);
            std::thread::spawn(move || {
                caller(
                    seed.wrapping_add(n),
                    share,
                    (started, deadline),
                    n == 0,
                    &early_rss,
                )
            })
        })
        .collect();
    let mut total = Tally::default();
    for t in threads {
        total.add(t.join().expect("a caller panicked"));
    }
    let elapsed = started.elapsed();
    let rss_end = rss();

    let breaker = registry().breaker("soak").expect("registered").snapshot();
    let recorded = monitor().total_recorded() - recorded_before;
    let history = monitor().history_len();

    println!(
        "soak: {} calls in {:.2} s ({:.0} calls/s){}",
        total.calls,
        elapsed.as_secs_f64(),
        total.calls as f64 / elapsed.as_secs_f64(),
        if total.calls < calls {
            ", stopped by SOAK_SECONDS"
        } else {
            ""
        }
    );
    println!(
        "soak: {} successes + {} failures ({} not found) + {} rejections = {}",
        total.successes,
        total.failures,
        total.failures_not_found,
        total.rejections,
        total.successes + total.failures + total.rejections
    );
    println!(
        "soak: body runs {} ({} errors); attempts {} = runs + rejections; retries {}",
        total.body_runs,
        total.body_errors,
        total.attempts,
        total.attempts - total.calls
    );
    println!(
        "soak: breaker opened {} times, counted {} rejections, ends {:?}",
        breaker.times_opened, breaker.rejections, breaker.state
    );
    println!("soak: monitor recorded {recorded}, history {history} (bound {HISTORY_CAPACITY})");
    match early_rss.get() {
        Some(&early) => println!(
            "soak: RSS at start {:.1} MiB, at 10 % {:.1} MiB, at the end {:.1} MiB ({:+.2} MiB)",
            mib(rss_start),
            mib(early),
            mib(rss_end),
            mib(rss_end) - mib(early)
        ),
        None => println!(
            "soak: RSS at start {:.1} MiB, at the end {:.1} MiB",
            mib(rss_start),
            mib(rss_end)
        ),
    }

    assert!(total.calls > 0, "no call made within {limit:?}");
    assert_eq!(
        total.successes + total.failures + total.rejections,
        total.calls,
        "every call ends in exactly one outcome"
    );
    assert_eq!(total.attempts, total.body_runs + total.rejections);
    assert!(
        total.attempts <= 2 * total.calls,
        "at most two attempts a call"
    );
    assert_eq!(
        breaker.rejections, total.rejections,
        "the breaker counted every refusal"
    );
    assert_eq!(
        recorded, total.body_errors,
        "the monitor saw every failed run, once"
    );
    let expected_history =
        usize::try_from(recorded).map_or(HISTORY_CAPACITY, |r| r.min(HISTORY_CAPACITY));
    assert_eq!(history, expected_history, "the history stays at its bound");
    if let Some(&early) = early_rss.get() {
        let growth = rss_end.saturating_sub(early);
        assert!(
            growth < MAX_RSS_GROWTH,
            "the resident set grew by {:.1} MiB",
            mib(growth)
        );
    }
}
