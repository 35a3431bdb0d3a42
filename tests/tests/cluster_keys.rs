//! What Redis keys can do to an instance: a key holding what this crate never writes
//! (a list, `nan`, `inf`, `1e300`, a huge integer, a vote that never expires, an opening
//! of a day) is that name's problem: repaired by the script (as if it had expired), said
//! once, and never a disconnection; and a registry of 20 000 or 100 000 breakers keeps
//! its heartbeat small and the instance connected.
//!
//! `cargo test -p resilience-tests --features redis --test cluster_keys`.

use std::time::{Duration, Instant};

use resilience_tests::redis_server::RedisServer;

// Each cluster target uses part of what the children and scenarios share.
#[allow(dead_code)]
mod cluster_common;

use cluster_common::{field, main_with, Instance, OP_TIMEOUT_MS, SEC};

/// The WARN said once per corrupt key.
const CORRUPT: &str = "held a value resilience did not write";

fn cli(redis: &RedisServer, args: &[&str]) -> String {
    redis.cli(args).unwrap_or_else(|e| panic!("{e}"))
}

/// Still connected, never disconnected.
fn still_connected(i: &mut Instance) {
    let status = i.ask("status", SEC);
    assert!(
        status.starts_with("connected 1 disconnections 0"),
        "{status}"
    );
}

/// `{rl:NAME}` holding a list, `nan`, `inf`, `1e300` or a huge integer: the next
/// admission goes through Redis, is admitted (the key repaired as if expired), and the
/// key holds an arrival time again; refusals that follow wait at least the floor and at
/// most `per`.
fn rate_limit_key() {
    let redis = RedisServer::start().unwrap();
    let mut a = Instance::spawn("a", &redis.url(), OP_TIMEOUT_MS);
    let key = "{rl:t.corrupt}";
    let values = [
        "nan",
        "inf",
        "-nan",
        "1e300",
        "99999999999999999999999999999",
        "hello",
    ];
    for value in values.iter().copied().chain(["<a list>"]) {
        cli(&redis, &["DEL", key]);
        if value == "<a list>" {
            cli(&redis, &["RPUSH", key, "x", "y"]);
        } else {
            cli(&redis, &["SET", key, value]);
        }
        let admitted = a.ask("admit1 t.corrupt 10 1000", SEC);
        println!("    {key} = {value}: {admitted}");
        assert!(
            admitted.starts_with("admitted cluster 1 local 0"),
            "{value}: {admitted}"
        );
        assert!(
            admitted.contains("connected 1 disconnections 0"),
            "{value}: {admitted}"
        );
        let repaired = cli(&redis, &["GET", key]);
        assert!(
            repaired.parse::<u64>().is_ok(),
            "{value}: left as {repaired}"
        );
    }
    // A huge value makes the limit refuse for ever without the repair; with it, the
    // waits are sane: 10 a second, so refusals wait between the floor (1 ms) and 1 s.
    cli(&redis, &["SET", key, "1e300"]);
    let mut refused = 0;
    for _ in 0..30 {
        let answer = a.ask("admit1 t.corrupt 10 1000", SEC);
        if let Some(us) = answer
            .strip_prefix("refused ")
            .and_then(|r| r.split(' ').next())
        {
            let us: u64 = us.parse().unwrap();
            assert!(
                (1000..=1_000_000).contains(&us),
                "a wait of {us} us: {answer}"
            );
            refused += 1;
        }
    }
    assert!(
        refused >= 15,
        "only {refused} of 30 refused: the limit did not hold"
    );
    still_connected(&mut a);
    assert_eq!(a.logged(CORRUPT), 1, "one WARN for the key: {:?}", a.logs());
}

/// `{cb:..}` keys: votes held as a list or a string, a vote that never expires (which
/// would make a quorum of 2 out of one instance), an opening of a day, a trial lease
/// held as a list. Each is dropped; the breakers work as without it.
fn breaker_keys() {
    let redis = RedisServer::start().unwrap();
    let mut a = Instance::spawn("a", &redis.url(), OP_TIMEOUT_MS);
    // Votes as a list, then as `nan`: the vote is counted, the cluster opens (quorum 1).
    for (name, corrupt) in [("t.q1", "list"), ("t.fault", "nan")] {
        let votes = format!("{{cb:{name}}}:votes");
        if corrupt == "list" {
            cli(&redis, &["RPUSH", &votes, "x"]);
        } else {
            cli(&redis, &["SET", &votes, "nan"]);
        }
        let opened = a.ask(&format!("fail {name} 3"), 2 * SEC);
        assert!(opened.starts_with("state open"), "{opened}");
        let deadline = Instant::now() + 2 * SEC;
        let open = format!("{{cb:{name}}}:open");
        while cli(&redis, &["PTTL", &open]).parse::<i64>().unwrap_or(-2) <= 0 {
            assert!(
                Instant::now() < deadline,
                "{votes} as {corrupt}: the cluster never opened"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(cli(&redis, &["TYPE", &votes]), "zset");
        println!("    {votes} held a {corrupt}: repaired, the cluster opened");
    }
    // A ghost voter whose vote never expires: one instance's vote must not make a
    // quorum of 2.
    cli(&redis, &["ZADD", "{cb:t.q2}:votes", "+inf", "ghost"]);
    assert!(a.ask("fail t.q2 3", 2 * SEC).starts_with("state open"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        cli(&redis, &["EXISTS", "{cb:t.q2}:open"]),
        "0",
        "the ghost's vote made a quorum"
    );
    assert_eq!(cli(&redis, &["ZSCORE", "{cb:t.q2}:votes", "ghost"]), "");
    // An opening of a day on a breaker whose recovery timeout is 500 ms: not applied,
    // dropped at the next reconciliation.
    cli(
        &redis,
        &["SET", "{cb:t.trial}:open", "ghost", "PX", "86400000"],
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(a.ask("state t.trial", SEC), "state closed");
    assert_eq!(cli(&redis, &["EXISTS", "{cb:t.trial}:open"]), "0");
    // A trial lease held as a list: the trial still runs, and closes the breaker.
    assert!(a.ask("fail t.trial 3", 2 * SEC).starts_with("state open"));
    cli(&redis, &["DEL", "{cb:t.trial}:trial"]);
    cli(&redis, &["RPUSH", "{cb:t.trial}:trial", "x"]);
    std::thread::sleep(Duration::from_millis(650));
    let trial = a.ask("call t.trial ok 0", SEC);
    assert_eq!(trial, "ran ok");
    assert!(a
        .ask("wait t.trial closed 1000", 2 * SEC)
        .starts_with("seen"));
    still_connected(&mut a);
    let warned = a.logged(CORRUPT);
    println!("    {warned} WARNs, one per corrupt key");
    assert!((3..=6).contains(&warned), "{:?}", a.logs());
}

/// `{rb:..}` holding a list, `t = nan`, `t = inf`, `t = 1e300`, `ts = 1e300`: treated as
/// a full bucket (as after expiry), the instance stays on the cluster.
fn budget_key() {
    let redis = RedisServer::start().unwrap();
    let mut a = Instance::spawn("a", &redis.url(), OP_TIMEOUT_MS);
    let cases: [(&str, &[&str]); 5] = [
        ("t.b1", &["RPUSH", "{rb:t.b1}", "x"]),
        ("t.b2", &["HSET", "{rb:t.b2}", "t", "nan", "ts", "1"]),
        ("t.b3", &["HSET", "{rb:t.b3}", "t", "inf", "ts", "1"]),
        ("t.b4", &["HSET", "{rb:t.b4}", "t", "1e300", "ts", "1"]),
        (
            "t.b5",
            &["HSET", "{rb:t.b5}", "t", "5000000", "ts", "1e300"],
        ),
    ];
    for (name, corrupt) in cases {
        cli(&redis, corrupt);
        let answer = a.ask(&format!("budget {name} 10 1 5"), 5 * SEC);
        println!("    {corrupt:?}: {answer}");
        // A retry may be refused while the lease is topped up; most are granted.
        assert!(field(&answer, "granted") >= 3, "{answer}");
        assert_eq!(field(&answer, "on_cluster"), 1, "{answer}");
        let key = format!("{{rb:{name}}}");
        let tokens: f64 = cli(&redis, &["HGET", &key, "t"]).parse().unwrap();
        assert!(
            (0.0..=10e6).contains(&tokens),
            "{key} left with t = {tokens}"
        );
    }
    still_connected(&mut a);
    assert_eq!(a.logged(CORRUPT), 5, "{:?}", a.logs());
}

/// The heartbeat with 20 000, then 100 000 breakers registered: its size in Redis
/// stays a few kilobytes, Redis's time per script stays small, and the instance stays
/// connected in every sample; the whole report is still read on demand.
fn heartbeat_with_many_breakers() {
    let redis = RedisServer::start().unwrap();
    let mut a = Instance::spawn("a", &redis.url(), OP_TIMEOUT_MS);
    let mut b = Instance::spawn("b", &redis.url(), OP_TIMEOUT_MS);
    // The whole report, on demand, of a registry of 2 000 breakers (1.2 MB).
    assert!(field(&a.ask("keys 2000", 10 * SEC), "keys") >= 2000);
    let asked = Instant::now();
    let report = b.ask("report a", 10 * SEC);
    println!(
        "    the whole report on demand, {:?}: {report}",
        asked.elapsed()
    );
    assert!(field(&report, "breakers") >= 2000, "{report}");
    for (add, total) in [(18_000, 20_000u128), (80_000, 100_000)] {
        let added = a.ask(&format!("keys {add}"), 60 * SEC);
        assert!(field(&added, "keys") >= total, "{added}");
        std::thread::sleep(Duration::from_millis(500));
        cli(&redis, &["CONFIG", "RESETSTAT"]);
        let sampled = a.ask("sample 2000", 10 * SEC);
        let stats = cli(&redis, &["INFO", "commandstats"]);
        let bytes = cli(&redis, &["HSTRLEN", "{rs}:health", "a"]);
        let evalsha = stats
            .lines()
            .find(|l| l.starts_with("cmdstat_evalsha:"))
            .unwrap_or_default()
            .to_owned();
        println!("    {total} breakers: heartbeat {bytes} bytes; {sampled}; {evalsha}");
        let bytes: usize = bytes.parse().unwrap();
        assert!(bytes < 8 * 1024, "a heartbeat of {bytes} bytes");
        assert_eq!(
            field(&sampled, "samples"),
            field(&sampled, "connected"),
            "{sampled}"
        );
        assert!(sampled.contains("disconnections 0"), "{sampled}");
        let per_call: f64 = evalsha
            .split(',')
            .find_map(|kv| kv.strip_prefix("usec_per_call="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::MAX);
        assert!(per_call < 1000.0, "Redis spends {per_call} us per script");
        let summaries = b.ask("summaries", 2 * SEC);
        println!("    {summaries}");
    }
}

/// A soak of garbage: 40 rounds (seeded) each writing one value of a random type and
/// content into a random key of a limiter, a breaker or a budget, then using it. Never
/// a disconnection, never an insane wait.
fn random_garbage() {
    use rand::{Rng, SeedableRng};
    let redis = RedisServer::start().unwrap();
    let mut a = Instance::spawn("a", &redis.url(), OP_TIMEOUT_MS);
    let mut rng = rand::rngs::StdRng::seed_from_u64(33);
    let keys = [
        "{rl:t.g}",
        "{rb:t.g}",
        "{cb:t.q1}:votes",
        "{cb:t.q1}:open",
        "{cb:t.q1}:trial",
        "{cb:t.q2}:votes",
    ];
    // Both breakers open (votes kept alive every heartbeat, leases asked near the end).
    assert!(a.ask("fail t.q1 3", 2 * SEC).starts_with("state open"));
    assert!(a.ask("fail t.q2 3", 2 * SEC).starts_with("state open"));
    for round in 0..40 {
        let key = keys[rng.random_range(0..keys.len())];
        let text = match rng.random_range(0..6) {
            0 => ["nan", "inf", "-inf", "1e308", "-1e308", "", "0x10", " 7"]
                [rng.random_range(0..8)]
            .to_owned(),
            1 => rng.random::<i128>().to_string(),
            2 => rng.random::<f64>().to_string(),
            _ => (0..rng.random_range(1..20))
                .map(|_| char::from(rng.random_range(b'!'..=b'~')))
                .collect(),
        };
        cli(&redis, &["DEL", key]);
        match rng.random_range(0..5) {
            0 => cli(&redis, &["RPUSH", key, &text]),
            1 => cli(&redis, &["HSET", key, "t", &text, "ts", &text]),
            2 => cli(&redis, &["ZADD", key, "+inf", &text]),
            3 => cli(&redis, &["SADD", key, &text]),
            _ => cli(&redis, &["SET", key, &text]),
        };
        if key.starts_with("{rl") {
            let answer = a.ask("admit1 t.g 10 1000", SEC);
            if let Some(us) = answer
                .strip_prefix("refused ")
                .and_then(|r| r.split(' ').next())
            {
                let us: u64 = us.parse().unwrap();
                assert!((1000..=1_000_000).contains(&us), "round {round}: {answer}");
            }
            assert!(
                answer.contains("cluster 1 local 0"),
                "round {round}, {key} = {text}: {answer}"
            );
        } else if key.starts_with("{rb") {
            let answer = a.ask("budget t.g 10 1 2", 5 * SEC);
            assert_eq!(
                field(&answer, "on_cluster"),
                1,
                "round {round}, {key} = {text}: {answer}"
            );
        } else {
            // The breaker task's next reconciliation runs the scripts on it.
            std::thread::sleep(Duration::from_millis(250));
        }
        let status = a.ask("status", SEC);
        assert!(
            status.starts_with("connected 1 disconnections 0"),
            "round {round}, {key} = {text}: {status}"
        );
    }
    println!("    40 rounds of garbage: {}", a.ask("status", SEC));
}

fn main() {
    main_with(&[
        ("random_garbage", random_garbage),
        ("rate_limit_key", rate_limit_key),
        ("breaker_keys", breaker_keys),
        ("budget_key", budget_key),
        ("heartbeat_with_many_breakers", heartbeat_with_many_breakers),
    ]);
}
