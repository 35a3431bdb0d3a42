//! A million distinct keys through keyed breakers, bulkheads and rate limiters: at most
//! `max_keys` instances stay live per name whatever their state (a million failing keys
//! leave a thousand open breakers, not a million), memory stays flat, and a new key
//! costs the same at 400 000 keys as at 100 000. Ignored by default; run it in release
//! mode (it prints its figures; with `--features tower` it floods a tower layer too):
//!
//! `cargo test -p resilience-tests --release --features tower --test keys_soak -- --ignored --nocapture`

use std::time::{Duration, Instant};

use resilience::{
    bulkhead, circuit_breaker, rate_limit, registry, BreakerConfig, BulkheadFull, CircuitOpen,
    RateLimited,
};

#[derive(Debug, thiserror::Error)]
enum SoakError {
    #[error("down")]
    Down,
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

const MAX_KEYS: usize = 1000;
const KEYS: u64 = 1_000_000;
/// Growth allowed between a twentieth of the keys and the end.
const MAX_RSS_GROWTH: u64 = 8 << 20;
/// Where the time per new key is sampled, over `SAMPLE` keys each.
const SAMPLES: [u64; 3] = [100_000, 200_000, 400_000];
const SAMPLE: u64 = 20_000;

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kib * 1024
}

/// This thread's CPU time so far (the machine may be shared: wall time would measure
/// the others too).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let nanos = stat.split_whitespace().next().and_then(|n| n.parse().ok());
    Duration::from_nanos(nanos.expect("a run time in nanoseconds"))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

/// What a flood measured.
struct Flood {
    rss_start: u64,
    rss_early: u64,
    rss_end: u64,
    /// CPU time per new key, from the key count given on.
    per_key: Vec<(u64, Duration)>,
    elapsed: Duration,
}

impl Flood {
    /// Calls `call` with `KEYS` distinct keys, sampling memory and time per key.
    fn run(mut call: impl FnMut(u64)) -> Flood {
        let start = Instant::now();
        let rss_start = rss();
        let mut rss_early = 0;
        let mut per_key = Vec::new();
        let mut key = 0;
        while key < KEYS {
            if SAMPLES.contains(&key) {
                let t = cpu();
                for k in key..key + SAMPLE {
                    call(k);
                }
                per_key.push((key, (cpu() - t) / SAMPLE as u32));
                key += SAMPLE;
                continue;
            }
            call(key);
            if key == KEYS / 20 {
                rss_early = rss();
            }
            key += 1;
        }
        Flood {
            rss_start,
            rss_early,
            rss_end: rss(),
            per_key,
            elapsed: start.elapsed(),
        }
    }

    fn report(&self, what: &str, live: usize) {
        let per_key: Vec<String> = self
            .per_key
            .iter()
            .map(|(at, d)| format!("{}k keys: {:.0} ns", at / 1000, d.as_nanos()))
            .collect();
        println!(
            "{what}: {KEYS} keys in {:.2?}; {live} live (max {MAX_KEYS}); RSS {:.1} MiB at start, {:.1} at 5 %, {:.1} at the end; CPU per new key at {}",
            self.elapsed,
            mib(self.rss_start),
            mib(self.rss_early),
            mib(self.rss_end),
            per_key.join(", "),
        );
        assert!(live <= MAX_KEYS && live > 0, "{what}: {live} live");
        assert!(
            self.rss_end.saturating_sub(self.rss_early) < MAX_RSS_GROWTH,
            "{what}: RSS grew by {} bytes",
            self.rss_end.saturating_sub(self.rss_early)
        );
    }
}

fn live_breakers(name: &str) -> usize {
    registry()
        .breakers()
        .iter()
        .filter(|s| s.name == name)
        .count()
}

#[circuit_breaker(name = "keys_soak.breaker", key = key, max_keys = 1000)]
#[bulkhead(name = "keys_soak.bulkhead", key = key, max_keys = 1000)]
#[rate_limit(name = "keys_soak.rate", limit = 10, per = 1s, key = key, max_keys = 1000)]
fn call(key: u64) -> Result<u64, SoakError> {
    Ok(key)
}

#[test]
#[ignore = "a soak: run in release mode (see the module docs)"]
fn a_million_keys_leave_at_most_max_keys_instances_and_flat_memory() {
    let (mut admitted, mut refused) = (0u64, 0u64);
    let flood = Flood::run(|key| match call(key) {
        Ok(k) => {
            assert_eq!(k, key);
            admitted += 1;
        }
        // A full store of spent limiters refuses a new key rather than forget one.
        Err(SoakError::Limited(limited)) => {
            assert_eq!(limited.key.as_deref(), Some(key.to_string().as_str()));
            refused += 1;
        }
        Err(other) => panic!("{other:?}"),
    });
    let reg = registry();
    let bulkheads = reg
        .bulkheads()
        .iter()
        .filter(|s| s.name == "keys_soak.bulkhead")
        .count();
    let limiters = reg
        .rate_limiters()
        .iter()
        .filter(|s| s.name == "keys_soak.rate")
        .count();
    println!("stacked: {admitted} admitted, {refused} new keys refused by a full store of spent limiters; live bulkheads {bulkheads}, rate limiters {limiters}");
    assert!(bulkheads <= MAX_KEYS && limiters <= MAX_KEYS);
    assert_eq!(admitted + refused, KEYS);
    flood.report(
        "stacked breaker, bulkhead, rate limit",
        live_breakers("keys_soak.breaker"),
    );
}

#[circuit_breaker(name = "keys_soak.failing", key = key, max_keys = 1000, failure_threshold = 1, recovery_timeout = 1s)]
fn failing(key: u64) -> Result<(), SoakError> {
    let _ = key;
    Err(SoakError::Down)
}

#[test]
#[ignore = "a soak: run in release mode (see the module docs)"]
fn a_million_failing_keys_leave_at_most_max_keys_open_breakers() {
    let flood = Flood::run(|key| {
        assert!(matches!(failing(key), Err(SoakError::Down)));
    });
    flood.report(
        "attribute, failing keys",
        live_breakers("keys_soak.failing"),
    );
}

#[circuit_breaker(name = "keys_soak.configured", key = key)]
fn configured(key: u64) -> Result<(), SoakError> {
    let _ = key;
    Err(SoakError::Down)
}

#[test]
#[ignore = "a soak: run in release mode (see the module docs)"]
fn a_million_failing_keys_under_a_max_keys_the_registry_was_given() {
    registry()
        .configure(
            "keys_soak.configured",
            BreakerConfig {
                failure_threshold: 1,
                max_keys: MAX_KEYS,
                ..Default::default()
            },
        )
        .unwrap();
    let flood = Flood::run(|key| {
        assert!(matches!(configured(key), Err(SoakError::Down)));
    });
    flood.report(
        "registry's max_keys, failing keys",
        live_breakers("keys_soak.configured"),
    );
}

#[cfg(feature = "tower")]
#[test]
#[ignore = "a soak: run in release mode (see the module docs)"]
fn a_million_failing_keys_through_a_tower_layer() {
    use resilience::tower::CircuitBreakerLayer;
    use tower::{service_fn, BoxError, Layer, Service, ServiceExt};

    let name = "keys_soak.tower";
    let mut svc = CircuitBreakerLayer::new(name)
        .config(BreakerConfig {
            failure_threshold: 1,
            ..Default::default()
        })
        .key(|k: &u64| *k)
        .max_keys(MAX_KEYS)
        .layer(service_fn(|_: u64| async {
            Err::<(), BoxError>("down".into())
        }));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let flood = Flood::run(|key| {
        runtime.block_on(async {
            let err = svc.ready().await.unwrap().call(key).await.unwrap_err();
            assert!(!err.is::<CircuitOpen>());
        })
    });
    flood.report("tower layer, failing keys", live_breakers(name));
}
