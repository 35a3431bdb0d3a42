//! Partitions between an instance and Redis (not between the instance and its callers),
//! made by a TCP proxy of the test's own on 127.0.0.1: instance `a` reaches Redis
//! through the proxy, instance `b` directly. Each kind of partition must behave as
//! Redis down does in scenario (e) of `cluster.rs`: calls keep completing on local
//! decisions, none waits past the same bound, one WARN, and on return the instance
//! reconnects and reconciles (an opening it made meanwhile reaches `b`). Also: an
//! instance that starts while Redis is cut off (`start_disconnected`), and joins later.
//!
//! `cargo test -p resilience-tests --features redis --test cluster_partition` (needs
//! `redis-server` on the PATH).

use std::time::{Duration, Instant};

use resilience_tests::proxy::{Mode, Proxy};
use resilience_tests::redis_server::RedisServer;

// Each cluster target uses part of what the children and scenarios share.
#[allow(dead_code)]
mod cluster_common;

use cluster_common::{field, main_with, Instance, OP_TIMEOUT_MS, SEC};

/// The WARN an instance logs when it loses Redis.
const LOST: &str = "lost the cluster's Redis";

/// The bound of scenario (e): the operation's timeout, and scheduling slack on a shared
/// 2-core machine.
fn bound_us() -> u128 {
    u128::from(OP_TIMEOUT_MS) * 1000 + 40_000
}

/// `a` under load while `mode` cuts it from Redis, then the same checks as (e).
fn partitioned(mode: Mode) {
    let redis = RedisServer::start().unwrap();
    let proxy = Proxy::start(redis.port()).unwrap();
    let mut a = Instance::spawn("a", &proxy.url(), OP_TIMEOUT_MS);
    let mut b = Instance::spawn("b", &redis.url(), OP_TIMEOUT_MS);
    a.send("load 1500");
    std::thread::sleep(Duration::from_millis(300));
    proxy.set(mode);
    let answer = a.recv(5 * SEC);
    println!("    {mode:?}: {answer}");
    let calls = field(&answer, "calls");
    assert!(calls > 100, "too few calls completed: {answer}");
    assert_eq!(
        field(&answer, "ok") + field(&answer, "refused"),
        calls,
        "a call went missing: {answer}"
    );
    assert_eq!(
        field(&answer, "decisions"),
        calls,
        "the limiter lost a decision: {answer}"
    );
    assert!(
        field(&answer, "local") > 0,
        "no local decisions while cut off: {answer}"
    );
    assert!(
        field(&answer, "cluster") > 0,
        "no cluster decisions before the cut: {answer}"
    );
    assert!(
        field(&answer, "max_us") <= bound_us(),
        "a call waited past the bound: {answer}"
    );
    // Cut off, `a` opens a breaker on its own; `b` cannot know yet.
    assert!(a.ask("fail t.fault 3", 2 * SEC).starts_with("state open"));
    assert_eq!(b.ask("state t.fault", SEC), "state closed");
    let status = a.ask("status", SEC);
    assert!(status.starts_with("connected 0"), "{status}");
    proxy.set(Mode::Pass);
    let healed = Instant::now();
    let up = a.ask("connected 5000", 6 * SEC);
    assert!(up.starts_with("connected"), "a did not reconnect: {up}");
    let seen = b.ask("wait t.fault open 5000", 6 * SEC);
    assert!(
        seen.starts_with("seen"),
        "the opening made while cut off never reached b: {seen}"
    );
    println!(
        "    {mode:?}: a reconnected and its opening reached b {:?} after the partition ended",
        healed.elapsed()
    );
    assert!(healed.elapsed() < 5 * SEC);
    assert_eq!(
        a.logged(LOST),
        1,
        "not one WARN for one partition: {:?}",
        a.logs()
    );
    assert_eq!(b.logged(LOST), 0, "b was never cut off: {:?}", b.logs());
}

/// Every connection closed, new ones refused.
fn cut() {
    partitioned(Mode::Cut);
}

/// Connections stay open, answers stop.
fn black_hole() {
    partitioned(Mode::BlackHole);
}

/// Every answer late by four times the operation's bound.
fn delay() {
    partitioned(Mode::Delay(Duration::from_millis(4 * OP_TIMEOUT_MS)));
}

/// Only pub/sub is lost (silently: its connection stays open): `a` stays connected and
/// still learns of `b`'s opening, at the next reconciliation (one heartbeat, 200 ms)
/// instead of at once; its pub/sub finds the silence by PING and subscribes anew.
fn pubsub_only() {
    let redis = RedisServer::start().unwrap();
    let proxy = Proxy::start(redis.port()).unwrap();
    let mut a = Instance::spawn("a", &proxy.url(), OP_TIMEOUT_MS);
    let mut b = Instance::spawn("b", &redis.url(), OP_TIMEOUT_MS);
    proxy.set(Mode::PubSubBlackHole);
    std::thread::sleep(Duration::from_millis(50));
    a.send("wait t.fault open 3000");
    let opened = b.ask("fail t.fault 3", 2 * SEC);
    assert!(opened.starts_with("state open"), "{opened}");
    let seen = a.recv(4 * SEC);
    assert!(
        seen.starts_with("seen"),
        "a never learned of b's opening: {seen}"
    );
    let lag = field(&seen, "seen").saturating_sub(field(&opened, "at"));
    println!(
        "    pub/sub lost: a saw b's opening {} ms after it",
        lag / 1000
    );
    // One heartbeat (200 ms) and its reconciliation, with slack.
    assert!(lag < 700_000, "a took {lag} us");
    let status = a.ask("status", SEC);
    assert!(
        status.starts_with("connected 1 disconnections 0"),
        "{status}"
    );
    assert_eq!(a.logged(LOST), 0, "{:?}", a.logs());
    // Its calls stayed on the cluster.
    let admitted = a.ask("admit1 t.ps 100 1000", SEC);
    assert!(admitted.contains("cluster 1 local 0"), "{admitted}");
}

/// `start_disconnected`: `connect` returns at once with Redis cut off, the instance runs
/// on local state (one WARN), and joins when Redis answers; without the option, the
/// same start is an `Err`.
fn start_disconnected() {
    let redis = RedisServer::start().unwrap();
    let proxy = Proxy::start(redis.port()).unwrap();
    proxy.set(Mode::Cut);
    let mut a = Instance::spawn_with(
        "a",
        &proxy.url(),
        OP_TIMEOUT_MS,
        &[("START_DISCONNECTED", "1")],
    );
    let started = a.ask("status", SEC);
    println!("    started cut off: {started}");
    assert!(started.starts_with("connected 0"), "{started}");
    let local = a.ask("admit1 t.sd 100 1000", SEC);
    assert!(local.starts_with("admitted cluster 0 local 1"), "{local}");
    assert_eq!(a.logged("does not answer"), 1, "{:?}", a.logs());
    proxy.set(Mode::Pass);
    let healed = Instant::now();
    let up = a.ask("connected 5000", 6 * SEC);
    assert!(up.starts_with("connected"), "a never joined: {up}");
    println!("    joined {:?} after Redis answered", healed.elapsed());
    let joined = a.ask("admit1 t.sd 100 1000", SEC);
    assert!(joined.starts_with("admitted cluster 1 local 0"), "{joined}");
    assert!(a.logged("answers: reconciling") >= 1, "{:?}", a.logs());
}

/// Without `start_disconnected`, a Redis cut off at start is an `Err` within the bound.
fn start_refused_without_the_option() {
    let redis = RedisServer::start().unwrap();
    let proxy = Proxy::start(redis.port()).unwrap();
    proxy.set(Mode::Cut);
    let started = Instant::now();
    let message = match Instance::try_spawn_with("a", &proxy.url(), OP_TIMEOUT_MS, &[]) {
        Ok(_) => String::from("it started"),
        Err(answer) => answer,
    };
    println!("    {message}");
    assert!(
        message.contains("error Redis at `redis://127.0.0.1:"),
        "{message}"
    );
    assert!(message.contains("is unreachable"), "{message}");
    assert!(started.elapsed() < 5 * SEC);
}

fn main() {
    main_with(&[
        ("cut", cut),
        ("black_hole", black_hole),
        ("delay", delay),
        ("pubsub_only", pubsub_only),
        ("start_disconnected", start_disconnected),
        (
            "start_refused_without_the_option",
            start_refused_without_the_option,
        ),
    ]);
}
