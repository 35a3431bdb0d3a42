//! `resilience::cluster` across processes, against a real `redis-server` each scenario
//! starts on a free 127.0.0.1 port (no persistence) and stops.
//!
//! The test binary is its own worker: the scenarios re-run it as child processes (the
//! `RESILIENCE_CLUSTER_CHILD` variable names the instance), drive each through stdin
//! with one command a line, and read one `@@ ` answer a line. Every loop is bounded in
//! count and time. Run with
//! `cargo test -p resilience-tests --features redis --test cluster` (needs
//! `redis-server` on the PATH).

use std::time::{Duration, Instant};

use resilience::{cluster, registry};
use resilience_tests::redis_server::RedisServer;

// Each cluster target uses part of what the children and scenarios share.
#[allow(dead_code)]
mod cluster_common;

use cluster_common as common;
use common::{field, quota_before_connect, three, three_with, OP_TIMEOUT_MS, ROLE, SEC};

fn a_cluster_limit() {
    let redis = RedisServer::start().unwrap();
    common::a_cluster_limit_holds_across_instances(&redis.url());
}

fn b_quorum_one() {
    let redis = RedisServer::start().unwrap();
    common::b_quorum_one_opening_reaches_everyone(&redis.url());
}

fn c_quorum_two() {
    let redis = RedisServer::start().unwrap();
    common::c_quorum_two_needs_two_instances(&redis.url());
}

fn d_half_open() {
    let redis = RedisServer::start().unwrap();
    common::d_half_open_admits_one_trial_across_the_cluster(&redis.url());
}

/// (i) A cluster retry budget of 30 tokens (no refill): one instance alone is granted
/// all 30; three together are granted at most 30, not 90. With Redis stopped, each falls
/// back to its local share (30 / 3) without a withdrawal ever waiting; once Redis is
/// back, they draw on the cluster's bucket again, as the outage left it.
fn i_a_cluster_retry_budget_is_shared_and_falls_back() {
    let redis = RedisServer::start().unwrap();
    // A wide bound, so a starved top-up on a busy machine does not fall back early.
    let mut all = three_with(&redis.url(), 200);
    let capacity = 30u128;
    let alone = all[0].ask(&format!("budget t.rb.alone {capacity} 3 80"), 5 * SEC);
    println!("    (i) alone: {alone}");
    assert_eq!(field(&alone, "granted"), capacity, "{alone}");
    assert_eq!(field(&alone, "on_cluster"), 1, "{alone}");
    for i in all.iter_mut() {
        i.send(&format!("budget t.rb.shared {capacity} 3 100"));
    }
    let answers: Vec<String> = all.iter().map(|i| i.recv(5 * SEC)).collect();
    let granted: u128 = answers.iter().map(|a| field(a, "granted")).sum();
    println!("    (i) together: {answers:?}: {granted} granted");
    assert!(
        granted <= capacity,
        "{granted} granted, more than the capacity"
    );
    assert!(
        granted >= capacity - 3,
        "only {granted} of {capacity} granted"
    );
    for a in &answers {
        assert_eq!(field(a, "on_cluster"), 1, "{a}");
    }
    // Redis stopped: the heartbeat (200 ms) finds it silent within its 200 ms bound.
    redis.signal("STOP").unwrap();
    for i in all.iter_mut() {
        let down = i.ask("down 2000", 3 * SEC);
        assert!(down.starts_with("down"), "{}: {down}", i.role);
    }
    for i in all.iter_mut() {
        i.send(&format!("budget t.rb.shared {capacity} 3 20"));
    }
    let answers: Vec<String> = all.iter().map(|i| i.recv(5 * SEC)).collect();
    println!("    (i) Redis stopped: {answers:?}");
    for a in &answers {
        assert_eq!(
            field(a, "granted"),
            capacity / 3,
            "not the local share: {a}"
        );
        assert_eq!(field(a, "on_cluster"), 0, "{a}");
        assert!(
            field(a, "max_us") <= u128::from(OP_TIMEOUT_MS) * 1000,
            "a withdrawal waited: {a}"
        );
    }
    redis.signal("CONT").unwrap();
    for i in all.iter_mut() {
        let up = i.ask("connected 3000", 4 * SEC);
        assert!(up.starts_with("connected"), "{}: {up}", i.role);
    }
    // Back on the cluster: its bucket is as the outage left it, empty.
    let back = all[1].ask(&format!("budget t.rb.shared {capacity} 3 20"), 5 * SEC);
    println!("    (i) Redis back: {back}");
    assert_eq!(field(&back, "on_cluster"), 1, "{back}");
    assert_eq!(field(&back, "granted"), 0, "{back}");
    // Deposits cross too: a drains a budget of 10, then 8 successes at 0.5 a token put 4
    // tokens in the cluster's bucket, which b and a then share.
    let drained = all[0].ask("budget t.rb.deposit 10 3 40 50", 5 * SEC);
    assert_eq!(field(&drained, "granted"), 10, "{drained}");
    assert_eq!(all[0].ask("succeed t.rb.deposit 8", SEC), "ok");
    std::thread::sleep(Duration::from_millis(150)); // past a's 100 ms flush
    let b = all[1].ask("budget t.rb.deposit 10 3 40 50", 5 * SEC);
    let a = all[0].ask("budget t.rb.deposit 10 3 20 50", 5 * SEC);
    println!("    (i) after 8 deposits of 0.5 on a: b {b}, a {a}");
    assert_eq!(
        field(&b, "granted") + field(&a, "granted"),
        4,
        "the deposits did not reach the cluster's bucket: {b} / {a}"
    );
}

/// (g) Scenario (a) through the attribute: three instances running
/// `#[rate_limit(limit = 40, per = 1s, burst = 10, scope = cluster)]` admit at most
/// `limit + burst` together in one window; each alone, on its local limiter (or on a
/// local share, `expected_instances` being 1), would admit that much by itself.
fn g_the_attribute_holds_the_cluster_limit() {
    let redis = RedisServer::start().unwrap();
    let mut all = three_with(&redis.url(), 1000);
    let (limit, burst) = (40u128, 10u128);
    for i in all.iter_mut() {
        i.send("quota 900");
    }
    let answers: Vec<String> = all.iter().map(|i| i.recv(5 * SEC)).collect();
    let admitted: u128 = answers.iter().map(|a| field(a, "admitted")).sum();
    println!(
        "    (g) {answers:?}: {admitted} admitted together, limit + burst = {}",
        limit + burst
    );
    assert!(
        admitted <= limit + burst,
        "{admitted} admitted, more than limit + burst"
    );
    assert!(
        admitted >= burst + limit / 2,
        "only {admitted} admitted: the limit did not let its share through"
    );
    for a in &answers {
        let attempts = field(a, "attempts");
        assert!(
            attempts > 10 * (limit + burst),
            "an instance barely tried: {a}"
        );
        // Every refusal is the limiter's, counted in the registry's snapshot.
        assert_eq!(
            field(a, "rejections") + field(a, "admitted"),
            attempts,
            "{a}"
        );
        // The cluster's wait: never below the floor (one emission interval, 25 ms here,
        // capped at 1 ms: the end of a window is no reason to spin), and within the period.
        assert!(field(a, "min_wait_ns") >= 1_000_000, "{a}");
        assert!(field(a, "max_wait_us") <= 1_000_000, "{a}");
    }
}

/// (j) Weighted calls (`cost = expr`) on the cluster's GCRA script: of a burst of 100
/// units (400 a second, 2.5 ms each), a call of 60 is admitted and one of 50 is refused
/// with the wait for the 10 units missing (25 ms, less what passed between the two); a
/// call of 101 can never fit and is refused at once, not retryable. Then three instances
/// calling 10 units at a time take at most `limit + burst` units together in a window.
fn j_costs_are_weighed_in_the_cluster() {
    let redis = RedisServer::start().unwrap();
    let mut all = three_with(&redis.url(), 1000);
    let once = all[0].ask("cost 60 50", 5 * SEC);
    println!("    (j) {once}");
    assert_eq!(field(&once, "first"), 1, "{once}");
    let wait = field(&once, "second_wait_us");
    assert!(
        (5_000..=25_000).contains(&wait),
        "the wait for 10 units of 2.5 ms: {once}"
    );
    assert_eq!(field(&once, "over_burst"), 100, "{once}");
    assert_eq!(field(&once, "retryable"), 0, "{once}");
    // The burst back whole (100 units of 2.5 ms).
    std::thread::sleep(Duration::from_millis(300));
    let (limit, burst) = (400u128, 100u128);
    for i in all.iter_mut() {
        i.send("tokens 900 10");
    }
    let answers: Vec<String> = all.iter().map(|i| i.recv(5 * SEC)).collect();
    let units: u128 = answers.iter().map(|a| field(a, "units")).sum();
    println!(
        "    (j) {answers:?}: {units} units admitted together, limit + burst = {}",
        limit + burst
    );
    assert!(
        units <= limit + burst,
        "{units} units admitted, more than limit + burst"
    );
    assert!(units >= burst + limit / 2, "only {units} units admitted");
    for a in &answers {
        assert!(
            field(a, "attempts") > field(a, "admitted") * 2,
            "an instance barely tried: {a}"
        );
    }
}

/// (h) Before `connect` (this process never connects), `scope = cluster` is the local
/// limiter with its whole limit: 3 of 10 calls admitted (not the cluster's local share,
/// 3 / expected_instances = 1), every refusal counted.
fn h_before_connect_the_attribute_is_the_local_limiter() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    fn send<T: Send>(t: T) -> T {
        t
    }
    let admitted = rt.block_on(async {
        let mut admitted = 0;
        for _ in 0..10 {
            // The future of a cluster-scoped call is `Send`, as a local one is.
            if send(quota_before_connect()).await.is_ok() {
                admitted += 1;
            }
        }
        admitted
    });
    assert!(!cluster::is_connected());
    assert_eq!(admitted, 3);
    let snapshot = registry().rate_limiter("t.rl.before").unwrap().snapshot();
    assert_eq!((snapshot.rejections, snapshot.available), (7, 0));
    assert_eq!(snapshot.config.scope, resilience::Scope::Cluster);
}

/// (f) The instance that opened the cluster is late to its own recovery (stopped across
/// the deadline), so another instance takes the trial. The opener then waits on that
/// trial, open; its heartbeat must not mistake that wait for its own opening and reopen
/// the cluster, which would refuse the trial everywhere.
fn f_a_trial_elsewhere_survives_the_openers_wait() {
    let redis = RedisServer::start().unwrap();
    let mut all = three(&redis.url());
    for i in all.iter_mut().skip(1) {
        i.send("wait t.trial open 2000");
    }
    assert!(all[0]
        .ask("fail t.trial 3", 2 * SEC)
        .starts_with("state open"));
    let opened = Instant::now();
    for i in all.iter().skip(1) {
        assert!(i.recv(3 * SEC).starts_with("seen"));
    }
    std::thread::sleep(Duration::from_millis(400).saturating_sub(opened.elapsed()));
    all[0].signal("STOP");
    std::thread::sleep(Duration::from_millis(600).saturating_sub(opened.elapsed()));
    all[0].signal("CONT");
    // Past two of the opener's 200 ms heartbeats, well inside its wait on the trial.
    std::thread::sleep(Duration::from_millis(900).saturating_sub(opened.elapsed()));
    for i in all.iter_mut() {
        i.send("call t.trial ok 50");
    }
    let answers: Vec<String> = all.iter().map(|i| i.recv(3 * SEC)).collect();
    println!("    (f) {answers:?}");
    assert_eq!(
        answers[0], "refused open",
        "the late opener ran a second trial"
    );
    let ran = answers.iter().filter(|a| a.starts_with("ran")).count();
    assert_eq!(ran, 1, "trials that ran across the cluster: {answers:?}");
    for i in all.iter_mut() {
        let closed = i.ask("wait t.trial closed 1000", 3 * SEC);
        assert!(closed.starts_with("seen"), "{}: {closed}", i.role);
    }
}

/// (e) Redis paused, then killed, mid-run: calls keep completing, none waits past the
/// bound, every call is accounted for; restarted, instances reconnect and reconcile
/// (an opening made while Redis was down reaches the others) within 5 s.
fn e_redis_paused_then_killed() {
    let mut redis = RedisServer::start().unwrap();
    let mut all = three(&redis.url());
    for i in all.iter_mut() {
        i.send("load 2400");
    }
    std::thread::sleep(Duration::from_millis(400));
    redis.signal("STOP").unwrap();
    std::thread::sleep(Duration::from_millis(700));
    redis.kill();
    std::thread::sleep(Duration::from_millis(500));
    redis.restart().unwrap();
    let restarted = Instant::now();
    let answers: Vec<String> = all.iter().map(|i| i.recv(5 * SEC)).collect();
    println!("    (e) {answers:?}");
    // Scheduling slack on a shared 2-core machine, on top of the operation's bound.
    let bound_us = u128::from(OP_TIMEOUT_MS) * 1000 + 40_000;
    for a in &answers {
        let calls = field(a, "calls");
        assert!(calls > 100, "too few calls completed: {a}");
        assert_eq!(
            field(a, "ok") + field(a, "refused"),
            calls,
            "a call went missing: {a}"
        );
        assert_eq!(
            field(a, "decisions"),
            calls,
            "the limiter lost a decision: {a}"
        );
        assert!(
            field(a, "local") > 0,
            "no local decisions while Redis was down: {a}"
        );
        assert!(
            field(a, "max_us") <= bound_us,
            "a call waited past the bound: {a}"
        );
    }
    for i in all.iter_mut() {
        let up = i.ask("connected 5000", 6 * SEC);
        assert!(up.starts_with("connected"), "{}: {up}", i.role);
    }
    let reconnected = restarted.elapsed();
    println!("    (e) every instance reconnected {reconnected:?} after the restart");
    assert!(reconnected < 5 * SEC);
    // Heartbeats re-registered every instance.
    let deadline = Instant::now() + 5 * SEC;
    loop {
        let health = all[0].ask("health", 2 * SEC);
        if health == "instances a,b,c" {
            break;
        }
        assert!(Instant::now() < deadline, "after the restart: {health}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // An opening made while Redis is down reaches the others once it is back.
    redis.kill();
    let [a, b, c] = &mut all;
    assert!(a.ask("fail t.fault 3", 2 * SEC).starts_with("state open"));
    assert_eq!(b.ask("state t.fault", SEC), "state closed");
    redis.restart().unwrap();
    let restarted = Instant::now();
    for (who, i) in [("b", b), ("c", c)] {
        let seen = i.ask("wait t.fault open 5000", 6 * SEC);
        assert!(
            seen.starts_with("seen"),
            "{who} never learned of the opening: {seen}"
        );
    }
    println!(
        "    (e) the opening made while Redis was down reached b and c {:?} after the restart",
        restarted.elapsed()
    );
    assert!(restarted.elapsed() < 5 * SEC);
}

fn l_grown_open_period() {
    let redis = RedisServer::start().unwrap();
    common::l_a_grown_open_period_reaches_every_instance(&redis.url());
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        common::child(&role);
        return;
    }
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let scenarios: [(&str, fn()); 11] = [
        ("a_cluster_limit_holds_across_instances", a_cluster_limit),
        ("b_quorum_one_opening_reaches_everyone", b_quorum_one),
        ("c_quorum_two_needs_two_instances", c_quorum_two),
        (
            "d_half_open_admits_one_trial_across_the_cluster",
            d_half_open,
        ),
        ("e_redis_paused_then_killed", e_redis_paused_then_killed),
        (
            "f_a_trial_elsewhere_survives_the_openers_wait",
            f_a_trial_elsewhere_survives_the_openers_wait,
        ),
        (
            "g_the_attribute_holds_the_cluster_limit",
            g_the_attribute_holds_the_cluster_limit,
        ),
        (
            "h_before_connect_the_attribute_is_the_local_limiter",
            h_before_connect_the_attribute_is_the_local_limiter,
        ),
        (
            "i_a_cluster_retry_budget_is_shared_and_falls_back",
            i_a_cluster_retry_budget_is_shared_and_falls_back,
        ),
        (
            "j_costs_are_weighed_in_the_cluster",
            j_costs_are_weighed_in_the_cluster,
        ),
        (
            "l_a_grown_open_period_reaches_every_instance",
            l_grown_open_period,
        ),
    ];
    let (mut passed, mut failed) = (0, 0);
    for (name, scenario) in scenarios {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        println!("test {name} ...");
        match std::panic::catch_unwind(scenario) {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("\n{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
