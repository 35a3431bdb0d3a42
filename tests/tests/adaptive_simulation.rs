//! The adaptive limit against a simulated server on paused time (the simulation is
//! `support/adaptive_sim.rs`, shared with `examples/adaptive.rs`): 100 callers in a
//! closed loop, a server of capacity C. Without a limit every call waits behind the
//! others (latency 100 / C times the unloaded one); with each algorithm the limit
//! settles near C, latency stays within a few times the unloaded one, throughput near
//! the capacity; when the capacity halves and doubles again, the limit follows.

#[path = "support/adaptive_sim.rs"]
mod adaptive_sim;

use std::sync::Arc;
use std::time::Duration;

use adaptive_sim::{run, Ours, PhaseStats, Scenario, Unlimited};
use resilience::adaptive_limit::{AdaptiveLimiter, Algorithm};
use resilience::AdaptiveLimitConfig;

fn ours(algorithm: Algorithm, scenario: &Scenario) -> Arc<Ours> {
    let limiter = AdaptiveLimiter::new(
        format!("sim.{algorithm}"),
        AdaptiveLimitConfig {
            algorithm,
            min_limit: 1,
            max_limit: 200,
            initial_limit: 20,
            max_wait: Duration::from_secs(1),
            ..Default::default()
        },
    )
    .unwrap();
    Arc::new(Ours {
        limiter: Arc::new(limiter),
        timeout: scenario.timeout,
    })
}

fn show(label: &str, stats: &[PhaseStats]) {
    for s in stats {
        println!(
            "{label:10} C={:3} latency {:7.1} ms  throughput {:7.1}/s of {:7.1}  limit {:?}  refused {} timed out {} settle {:?}",
            s.capacity, s.median_latency_ms, s.throughput, s.capacity_throughput, s.median_limit, s.refused, s.timed_out, s.settle_secs
        );
    }
}

#[tokio::test(start_paused = true)]
async fn without_a_limit_latency_is_callers_over_capacity_times_the_unloaded() {
    let scenario = Scenario::standard(10);
    let (_, stats) = run(&scenario, Arc::new(Unlimited)).await;
    show("none", &stats);
    let unloaded = scenario.base.as_secs_f64() * 1e3;
    for s in &stats {
        let expected = f64::from(scenario.callers) / f64::from(s.capacity) * unloaded;
        assert!(
            (s.median_latency_ms - expected).abs() <= 0.1 * expected,
            "C = {}: {} ms, not {expected} ms",
            s.capacity,
            s.median_latency_ms
        );
    }
}

#[tokio::test(start_paused = true)]
async fn each_algorithm_settles_near_the_capacity_and_follows_it() {
    let scenario = Scenario::standard(10);
    let unloaded = scenario.base.as_secs_f64() * 1e3;
    for algorithm in [Algorithm::Vegas, Algorithm::Gradient2, Algorithm::Aimd] {
        let (_, stats) = run(&scenario, ours(algorithm, &scenario)).await;
        show(algorithm.as_str(), &stats);
        for s in &stats {
            let c = f64::from(s.capacity);
            let limit = s.median_limit.expect("a limit");
            assert!(
                (0.8 * c..=2.0 * c).contains(&limit),
                "{algorithm} at C = {}: limit {limit}",
                s.capacity
            );
            assert!(
                s.median_latency_ms <= 3.0 * unloaded,
                "{algorithm} at C = {}: {} ms",
                s.capacity,
                s.median_latency_ms
            );
            assert!(
                s.throughput >= 0.8 * s.capacity_throughput,
                "{algorithm} at C = {}: {} calls/s of {}",
                s.capacity,
                s.throughput,
                s.capacity_throughput
            );
            // The capacity halves, then doubles: the limit follows within seconds.
            let settled = s.settle_secs.expect("the limit settles");
            assert!(
                settled <= 3.0,
                "{algorithm} at C = {}: settled after {settled} s",
                s.capacity
            );
        }
    }
}
