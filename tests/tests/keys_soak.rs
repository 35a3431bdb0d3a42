//! A million distinct keys through keyed breakers, bulkheads and rate limiters: at most
//! `max_keys` instances stay live per name, and memory stays flat. Ignored by default;
//! run it in release mode (it prints its figures):
//!
//! `cargo test -p resilience-tests --release --test keys_soak -- --ignored --nocapture`

use std::time::Instant;

use resilience::{
    bulkhead, circuit_breaker, rate_limit, registry, BulkheadFull, CircuitOpen, RateLimited,
};

#[derive(Debug, thiserror::Error)]
enum SoakError {
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

const MAX_KEYS: usize = 1000;
const KEYS: u64 = 1_000_000;
/// Growth allowed between a tenth of the keys and the end.
const MAX_RSS_GROWTH: u64 = 8 << 20;

#[circuit_breaker(name = "keys_soak.breaker", key = key, max_keys = 1000)]
#[bulkhead(name = "keys_soak.bulkhead", key = key, max_keys = 1000)]
#[rate_limit(name = "keys_soak.rate", limit = 10, per = 1s, key = key, max_keys = 1000)]
fn call(key: u64) -> Result<u64, SoakError> {
    Ok(key)
}

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kib * 1024
}

fn live(name: &str) -> (usize, usize, usize) {
    let reg = registry();
    (
        reg.breakers().iter().filter(|s| s.name == name).count(),
        reg.bulkheads().iter().filter(|s| s.name == name).count(),
        reg.rate_limiters()
            .iter()
            .filter(|s| s.name == name)
            .count(),
    )
}

#[test]
#[ignore = "a soak: run in release mode (see the module docs)"]
fn a_million_keys_leave_at_most_max_keys_instances_and_flat_memory() {
    let start = Instant::now();
    let rss_start = rss();
    let mut rss_early = 0;
    for key in 0..KEYS {
        assert_eq!(call(key).unwrap(), key);
        if key == KEYS / 10 {
            rss_early = rss();
        }
    }
    let rss_end = rss();
    let (breakers, _, _) = live("keys_soak.breaker");
    let (_, bulkheads, _) = live("keys_soak.bulkhead");
    let (_, _, limiters) = live("keys_soak.rate");
    println!(
        "keys soak: {KEYS} keys in {:.2?}; live breakers {breakers}, bulkheads {bulkheads}, rate limiters {limiters} (max {MAX_KEYS}); RSS {:.1} MiB at start, {:.1} at 10 %, {:.1} at the end",
        start.elapsed(),
        rss_start as f64 / 1048576.0,
        rss_early as f64 / 1048576.0,
        rss_end as f64 / 1048576.0,
    );
    assert!(breakers <= MAX_KEYS && breakers > 0, "{breakers} breakers");
    assert!(
        bulkheads <= MAX_KEYS && bulkheads > 0,
        "{bulkheads} bulkheads"
    );
    assert!(limiters <= MAX_KEYS, "{limiters} rate limiters");
    assert!(
        rss_end.saturating_sub(rss_early) < MAX_RSS_GROWTH,
        "RSS grew by {} bytes",
        rss_end - rss_early
    );
}
