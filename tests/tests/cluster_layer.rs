//! A `RateLimitLayer` whose configuration says `scope = cluster`, across three
//! processes against a real `redis-server` on a free 127.0.0.1 port: the layer admits
//! through the cluster's limiter as `#[rate_limit(scope = cluster)]` does (three gateways
//! with a fleet limit admitted three times the limit when it did not), and falls back to
//! its local share when Redis is gone. The children are this binary, as in
//! `tests/cluster.rs`. Run with
//! `cargo test -p resilience-tests --features redis,tower --test cluster_layer`.

use std::time::Duration;

use resilience_tests::redis_server::RedisServer;

// The layer's scenario uses part of what the children and scenarios share.
#[allow(dead_code)]
mod cluster_common;

use cluster_common as common;
use common::{field, three_with, ROLE, SEC};

/// Three instances behind `RateLimitLayer::new("t.rl.layer")` configured with 40 a
/// second, bursts of 10, `scope: Scope::Cluster`, `expected_instances: 3`: together at
/// most `limit + burst` in a window (each alone would admit that much). With Redis
/// killed, each admits on its share (40 / 3 a second, a burst of 10 / 3), never waiting
/// on Redis.
fn the_layer_holds_the_cluster_limit_and_falls_back() {
    let mut redis = RedisServer::start().unwrap();
    let mut all = three_with(&redis.url(), 1000);
    let (limit, burst) = (40u128, 10u128);
    for i in all.iter_mut() {
        i.send("layer 900");
    }
    let answers: Vec<String> = all.iter().map(|i| i.recv(5 * SEC)).collect();
    let admitted: u128 = answers.iter().map(|a| field(a, "admitted")).sum();
    println!(
        "    {answers:?}: {admitted} admitted together, limit + burst = {}",
        limit + burst
    );
    assert!(
        admitted <= limit + burst,
        "{admitted} admitted, more than limit + burst"
    );
    assert!(admitted >= burst + limit / 2, "only {admitted} admitted");
    for a in &answers {
        assert_eq!(field(a, "connected"), 1, "{a}");
        assert!(
            field(a, "attempts") > 10 * (limit + burst),
            "an instance barely tried: {a}"
        );
    }
    redis.kill();
    // The next calls find Redis gone (a refused connection, at once) and admit on the
    // local share; a second later every instance's share is whole again.
    std::thread::sleep(Duration::from_millis(1_000));
    for i in all.iter_mut() {
        i.send("layer 900");
    }
    let answers: Vec<String> = all.iter().map(|i| i.recv(10 * SEC)).collect();
    println!("    Redis gone: {answers:?}");
    for a in &answers {
        let admitted = field(a, "admitted");
        // A share of 13 a second, burst 3: at most 3 + 13 * 0.9 (+1 for the edges).
        assert!((1..=16).contains(&admitted), "not the local share: {a}");
    }
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        common::child(&role);
        return;
    }
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let name = "the_layer_holds_the_cluster_limit_and_falls_back";
    if filter.as_deref().is_some_and(|f| !name.contains(f)) {
        println!("\n0 passed, 0 failed");
        return;
    }
    println!("test {name} ...");
    match std::panic::catch_unwind(the_layer_holds_the_cluster_limit_and_falls_back) {
        Ok(()) => println!("test {name} ... ok\n\n1 passed, 0 failed"),
        Err(_) => {
            println!("test {name} ... FAILED\n\n0 passed, 1 failed");
            std::process::exit(1);
        }
    }
}
